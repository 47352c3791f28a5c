"""The escalation engine with real processes: `celery -A config worker` and `celery -A config beat`
against the test database in PostgreSQL and this run's own Redis database."""

from datetime import timedelta

import pytest
from django.utils import timezone

from escalation.models import Deadline, Kind, State
from incidents import services
from incidents.models import TimelineEntry, TimelineKind
from notifications.models import Ask, Notification
from tests.support.processes import (
    acted_exactly_once,
    make_incidents_with_deadlines,
    wait_until,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker]


def test_yellow_system_faults_escalate_and_report_missed_arrivals_once_with_a_real_worker(
        celery_processes, fast_plan, make_person):
    # 1 h → 2 s: arrival due after 2 s, orange after 4 s, orange arrivals 1 s later.
    reporter, boss, office = make_person("duty_staff"), make_person("tech_group"), make_person("office")
    celery_processes.start_worker()
    celery_processes.start_beat()
    incidents = [services.log_fault(reporter=reporter, category="system", level="yellow", title=f"slow {i}")
                 for i in range(3)]

    def settled():
        return not Deadline.objects.filter(incident__in=incidents, state=State.PENDING).exists()

    assert wait_until(settled, timeout=40)
    for incident in incidents:
        incident.refresh_from_db()
        assert incident.level.key == "orange"
        assert incident.timeline.filter(kind=TimelineKind.LEVEL_CHANGED).count() == 1
        fired = incident.deadlines.get(kind=Kind.ESCALATION, state=State.FIRED)
        assert incident.level_since == fired.due_at
        orange_arrivals = incident.deadlines.filter(kind=Kind.ON_SITE, level_key="orange")
        assert {d.started_at for d in orange_arrivals} == {fired.due_at}
        yellow_arrival = incident.deadlines.get(kind=Kind.ON_SITE, level_key="yellow")
        assert yellow_arrival.state == State.MISSED
        told = Notification.objects.filter(event=f"deadline:{yellow_arrival.pk}", ask=Ask.MISSED)
        assert sorted(n.person_id for n in told) == sorted([boss.pk, office.pk])
        acted_exactly_once(list(incident.deadlines.exclude(kind=Kind.REPORT).values_list("pk", flat=True)))


def test_each_of_many_deadlines_acts_exactly_once_and_records_its_lateness(celery_processes, fast_plan):
    celery_processes.start_worker()
    celery_processes.start_beat()
    now = timezone.now()
    deadlines = make_incidents_with_deadlines(
        version=fast_plan, due_times=[now + timedelta(seconds=2, milliseconds=25 * i) for i in range(80)])
    ids = [d.pk for d in deadlines]

    assert wait_until(lambda: not Deadline.objects.filter(pk__in=ids, state=State.PENDING).exists(), timeout=30)
    rows = acted_exactly_once(ids)
    assert {d.state for d in rows} == {State.MISSED}
    lateness = TimelineEntry.objects.filter(deadline_id__in=ids).values_list("detail__lateness_seconds", flat=True)
    assert all(seconds >= 0 for seconds in lateness) and len(lateness) == len(ids)


def test_two_workers_act_on_each_deadline_exactly_once(celery_processes, fast_plan):
    celery_processes.start_worker("w1")
    celery_processes.start_worker("w2")
    celery_processes.start_beat()
    now = timezone.now()
    deadlines = make_incidents_with_deadlines(
        version=fast_plan, due_times=[now + timedelta(seconds=2, milliseconds=10 * i) for i in range(150)])
    ids = [d.pk for d in deadlines]

    assert wait_until(lambda: not Deadline.objects.filter(pk__in=ids, state=State.PENDING).exists(), timeout=30)
    acted_exactly_once(ids)


def test_a_worker_freezes_what_start_up_loaded_out_of_the_collectors_sight(celery_processes):
    # Every prefork child and the main process log it: a full collection then walks only the tasks' garbage.
    celery_processes.start_worker("frozen", concurrency=2)

    def frozen():
        return [int(line.split(b"gc.freeze: ")[1].split()[0])
                for line in celery_processes.log_text("frozen").splitlines() if b"gc.freeze: " in line]

    wait_until(lambda: len(frozen()) >= 3, timeout=30)  # the main process and its two children
    assert min(frozen()) > 10_000
