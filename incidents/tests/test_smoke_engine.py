from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from escalation import services as engine
from escalation.models import Deadline, State
from incidents import services
from incidents.models import TimelineKind

pytestmark = pytest.mark.django_db


def test_yellow_system_fault_escalates_to_orange_after_two_hours(minimal_plan_version, make_person):
    duty = make_person("tech_group")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        incident = services.log_fault(reporter=duty, category="system", level="yellow", title="slow")
    escalation = incident.deadlines.get(kind="escalation")
    assert escalation.due_at == start + timedelta(hours=2)
    with time_machine.travel(start + timedelta(hours=1, minutes=59, seconds=59), tick=False):
        assert engine.sweep() == 1  # the on-site deadline (1h) is missed, not the escalation
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        assert engine.sweep() == 1
        assert engine.sweep() == 0
    incident.refresh_from_db()
    assert incident.level.key == "orange"
    assert incident.level_since == start + timedelta(hours=2)
    escalation.refresh_from_db()
    assert escalation.state == State.FIRED
    kinds = list(incident.timeline.values_list("kind", flat=True))
    assert kinds.count(TimelineKind.LEVEL_CHANGED) == 1
    assert Deadline.objects.filter(incident=incident, state=State.PENDING).count() == 0
