"""Crashes: a worker SIGKILLed while deadlines come due, and a broker that lost its queue.

The deadline table is the truth; the broker only carries nudges. So after any
of these, every deadline still acts, exactly once, with its lateness recorded.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from escalation.models import Deadline, State
from incidents.models import TimelineEntry
from tests.support.processes import acted_exactly_once, make_incidents_with_deadlines, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker]


def pending(ids):
    return Deadline.objects.filter(pk__in=ids, state=State.PENDING)


def test_worker_killed_while_deadlines_come_due_acts_on_each_once_after_restart(celery_processes, fast_plan):
    celery_processes.start_worker()
    celery_processes.start_beat()
    now = timezone.now()
    # A steady stream, so the kill lands mid-work: some acted, some held as ETA nudges, some not yet due.
    deadlines = make_incidents_with_deadlines(
        version=fast_plan, due_times=[now + timedelta(seconds=1.5, milliseconds=20 * i) for i in range(200)])
    ids = [d.pk for d in deadlines]
    assert wait_until(lambda: Deadline.objects.filter(pk__in=ids).exclude(state=State.PENDING).count() >= 20)

    celery_processes.kill("w1")
    killed_at = timezone.now()
    left = set(pending(ids).values_list("pk", flat=True))
    assert left, "the worker finished before it was killed; the test proves nothing"
    # Let the rest come due while no worker runs.
    assert wait_until(lambda: timezone.now() > max(d.due_at for d in deadlines) + timedelta(seconds=1))
    celery_processes.start_worker("w1-restarted")

    assert wait_until(lambda: not pending(ids).exists(), timeout=30)
    acted_exactly_once(ids)
    late = Deadline.objects.filter(pk__in=left, acted_at__gt=killed_at)
    assert late.count() == len(left)
    for deadline in late:
        entry = TimelineEntry.objects.get(deadline=deadline)
        assert entry.detail["lateness_seconds"] == pytest.approx(deadline.lateness.total_seconds(), abs=0.001)
        assert deadline.lateness > timedelta(0)


def test_broker_that_lost_its_queue_and_worker_loses_no_deadline(celery_processes, broker, fast_plan):
    celery_processes.start_worker()
    celery_processes.start_beat()
    now = timezone.now()
    deadlines = make_incidents_with_deadlines(
        version=fast_plan, due_times=[now + timedelta(seconds=5, milliseconds=10 * i) for i in range(100)])
    ids = [d.pk for d in deadlines]
    # The nudges are published; then the broker forgets everything and the worker dies with its ETAs in memory.
    assert wait_until(lambda: broker.dbsize() > 0 or b"act_on_deadline" in celery_processes.log_text("w1"))
    broker.flushdb()
    celery_processes.kill("w1")
    assert pending(ids).count() == len(ids)

    celery_processes.start_worker("w1-restarted")
    assert wait_until(lambda: not pending(ids).exists(), timeout=30)
    acted_exactly_once(ids)


def test_deadlines_that_came_due_while_beat_was_down_act_once_it_is_back(celery_processes, fast_plan):
    celery_processes.start_worker()
    celery_processes.start_beat()
    celery_processes.kill("beat")
    # No ETA nudges either: only a sweep can find these.
    deadlines = make_incidents_with_deadlines(version=fast_plan, due_times=[timezone.now()] * 10, schedule_eta=False)
    ids = [d.pk for d in deadlines]

    celery_processes.start_beat()
    assert wait_until(lambda: not pending(ids).exists(), timeout=30)
    acted_exactly_once(ids)
