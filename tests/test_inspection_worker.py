"""A missed inspection round through the real engine: a Celery worker and beat, the sweep acting once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from escalation.models import Deadline, Kind, State
from tests.support.processes import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker]


def test_a_round_not_submitted_in_its_grace_is_missed_once_and_the_office_told_by_a_real_worker(
        celery_processes, shipped_plan, make_person):
    from assets.models import Asset
    from inspections import services
    from inspections.checklists import install
    from inspections.models import CheckItem, ChecklistTemplate, RoundStatus
    from notifications.models import Ask, Notification

    install(ChecklistTemplate, CheckItem)
    Asset.objects.create(tag="UPS-9", name="UPS", kind="ups", category="equipment")
    office = make_person("office")
    schedule = services.schedule_create(actor=office, name="UPS check", assets=["UPS-9"], role="duty_staff",
                                        every=timedelta(hours=1), grace=timedelta(seconds=2),
                                        first_due_at=timezone.now())
    round_ = schedule.rounds.order_by("due_at").first()
    celery_processes.start_worker()
    celery_processes.start_beat()

    def missed():
        return Deadline.objects.filter(kind=Kind.INSPECTION, subject=round_.subject, state=State.MISSED).exists()

    assert wait_until(missed, timeout=40)
    round_.refresh_from_db()
    assert round_.status == RoundStatus.MISSED and round_.missed_at is not None
    told = Notification.objects.filter(person=office, ask=Ask.MISSED, facts__subject=f"inspection:{round_.subject}")
    assert told.count() == 1
    # The next round (an hour away) is still pending: only the due one acted.
    assert Deadline.objects.filter(kind=Kind.INSPECTION, state=State.PENDING).exists()
