"""ETA nudges: a precision hint for deadlines within the five-minute horizon, never the only way to act."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from escalation import services as engine
from escalation.models import State
from incidents import services

pytestmark = pytest.mark.django_db


def nudges(callbacks):
    return sum("schedule_precise_firing" in getattr(c, "__qualname__", "") for c in callbacks)


@pytest.fixture
def two_hour_escalation(shipped_plan, make_person):
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        incident = services.log_fault(reporter=make_person("duty_staff"), category="system", level="yellow",
                                      title="slow")
    return incident.deadlines.get(kind="escalation")


def test_deadlines_due_beyond_the_horizon_get_no_nudge_when_created(shipped_plan, make_person,
                                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.log_fault(reporter=make_person("duty_staff"), category="system", level="yellow", title="slow")
    assert nudges(callbacks) == 0


@pytest.mark.parametrize(("before_due", "armed"), [
    (timedelta(minutes=6), 0),
    (timedelta(minutes=5, seconds=1), 0),
    (timedelta(minutes=5), 1),
    (timedelta(minutes=4, seconds=1), 1),
    (timedelta(minutes=4), 0),  # armed by the previous run already
])
def test_a_far_deadline_is_armed_once_as_it_enters_the_horizon(two_hour_escalation, before_due, armed,
                                                               django_capture_on_commit_callbacks):
    with time_machine.travel(two_hour_escalation.due_at - before_due, tick=False):
        with django_capture_on_commit_callbacks() as callbacks:
            assert engine.arm_near_deadlines() == armed
    assert nudges(callbacks) == armed


def test_the_sweeper_acts_on_a_deadline_whose_nudge_never_came(two_hour_escalation):
    with time_machine.travel(two_hour_escalation.due_at + timedelta(seconds=1), tick=False):
        assert engine.sweep() >= 1
    two_hour_escalation.refresh_from_db()
    assert two_hour_escalation.state == State.FIRED
    assert two_hour_escalation.lateness == timedelta(seconds=1)


def test_an_early_or_repeated_nudge_does_nothing(two_hour_escalation):
    with time_machine.travel(two_hour_escalation.due_at - timedelta(milliseconds=1), tick=False):
        assert engine.act_on(two_hour_escalation.pk) is False
    with time_machine.travel(two_hour_escalation.due_at, tick=False):
        assert engine.act_on(two_hour_escalation.pk, incident_id=two_hour_escalation.incident_id) is True
        assert engine.act_on(two_hour_escalation.pk, incident_id=two_hour_escalation.incident_id) is False
    two_hour_escalation.refresh_from_db()
    assert two_hour_escalation.state == State.FIRED


def test_one_nudge_acts_on_everything_due_at_that_moment(shipped_plan, make_person):
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        incidents = [services.log_fault(reporter=make_person("duty_staff"), category="system", level="yellow",
                                        title=f"slow {i}") for i in range(3)]
    first = incidents[0].deadlines.get(kind="on_site")

    with time_machine.travel(first.due_at, tick=False):
        assert engine.nudge(first.pk, incident_id=first.incident_id) == 3
        assert engine.nudge(first.pk, incident_id=first.incident_id) == 0
    assert {i.deadlines.get(kind="on_site").state for i in incidents} == {State.MISSED}
