"""The engine times more than a level's response: each kind's own handler, deadlines of no incident,
and deadlines that outlive the incident's resolution (docs/escalation.md, "Deadlines of other apps")."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from escalation import services as engine
from escalation.models import Deadline, Kind, State
from escalation.services import Outcome
from incidents import hooks
from incidents.services import acknowledge, resolve

pytestmark = pytest.mark.django_db


@pytest.fixture
def remediation_handler():
    calls = []

    def handler(deadline_id, *, incident_id):
        with transaction.atomic():
            deadline = (Deadline.objects.select_for_update(skip_locked=True)
                        .filter(pk=deadline_id, state=State.PENDING, due_at__lte=timezone.now()).first())
            if deadline is None:
                return Outcome.NOT_DUE
            calls.append((deadline_id, incident_id))
            deadline.state, deadline.acted_at = State.MISSED, timezone.now()
            deadline.save(update_fields=["state", "acted_at"])
            return Outcome.ACTED

    before = dict(engine._handlers)
    engine.act_on_due_deadlines_with(handler, kinds=[Kind.REMEDIATION, Kind.INSPECTION])
    yield calls
    engine._handlers.clear()
    engine._handlers.update(before)


def test_a_due_deadline_of_another_kind_goes_to_its_own_handler_once(open_incident, remediation_handler):
    incident = open_incident()
    due = timezone.now() + timedelta(hours=1)
    action = engine.start_deadline(kind=Kind.REMEDIATION, due_at=due, incident=incident, subject="action:1")
    round_ = engine.start_deadline(kind=Kind.INSPECTION, due_at=due, subject="round:7")
    with time_machine.travel(due + timedelta(seconds=1)):
        engine.sweep()
        engine.sweep()
    assert sorted(remediation_handler) == sorted([(action.pk, incident.pk), (round_.pk, None)])
    assert set(Deadline.objects.filter(pk__in=[action.pk, round_.pk]).values_list("state", flat=True)) == {State.MISSED}


def test_a_due_kind_nobody_acts_on_is_a_configuration_error(open_incident, monkeypatch):
    engine.start_deadline(kind=Kind.DRILL_STEP, due_at=timezone.now(), subject="drill:1:step:1")
    # The registry as if the drills app had registered nothing (monkeypatch puts the real one back).
    monkeypatch.setattr(engine, "_handlers", {k: h for k, h in engine._handlers.items() if k != Kind.DRILL_STEP})
    with pytest.raises(ImproperlyConfigured, match="drill_step"):
        engine.sweep()


def test_one_incident_may_time_many_subjects_of_one_kind_but_each_subject_once(open_incident):
    incident = open_incident()
    due = timezone.now() + timedelta(days=3)
    engine.start_deadline(kind=Kind.REMEDIATION, due_at=due, incident=incident, subject="action:1")
    engine.start_deadline(kind=Kind.REMEDIATION, due_at=due, incident=incident, subject="action:2")
    with pytest.raises(IntegrityError), transaction.atomic():
        engine.start_deadline(kind=Kind.REMEDIATION, due_at=due, incident=incident, subject="action:2")


def test_resolving_cancels_the_plans_deadlines_but_not_a_remediation_action(open_incident, make_person):
    incident = open_incident()  # system/yellow: an on-site duty within 1 h
    acknowledge(incident, actor=make_person("tech_group"))
    action = engine.start_deadline(kind=Kind.REMEDIATION, due_at=timezone.now() + timedelta(days=7),
                                   incident=incident, subject="action:1")
    resolve(incident, actor=None, summary="link restored")
    assert Deadline.objects.get(pk=action.pk).state == State.PENDING
    assert not Deadline.objects.filter(incident=incident, kind=Kind.ON_SITE, state=State.PENDING).exists()


def test_meeting_and_cancelling_a_subject(open_incident):
    incident = open_incident()
    due = timezone.now() + timedelta(days=1)
    a = engine.start_deadline(kind=Kind.CALLOUT_ARRIVAL, due_at=due, incident=incident, subject="callout:1")
    b = engine.start_deadline(kind=Kind.EXTERNAL_REPORT, due_at=due, incident=incident, subject="external:pboc:initial")
    with transaction.atomic():
        assert engine.meet([a], person=None, at=timezone.now()) == [a]
        assert [d.pk for d in engine.cancel_subject(Kind.EXTERNAL_REPORT, "external:pboc:initial", reason="x")] == [b.pk]
    assert Deadline.objects.get(pk=a.pk).state == State.MET
    assert Deadline.objects.get(pk=b.pk).state == State.CANCELLED


def test_the_hooks_run_inside_the_change(open_incident, make_person):
    seen = []

    def on_level(incidents, *, at):
        seen.append(("level_started", [i.level.key for i in incidents]))

    def on_resolved(incident, *, at, actor):
        seen.append(("resolved", incident.status))

    hooks.on("level_started", on_level)
    hooks.on("resolved", on_resolved)
    try:
        incident = open_incident(level="blue")
        acknowledge(incident, actor=make_person("tech_group"))
        resolve(incident, actor=None, summary="ok")
    finally:
        hooks._hooks["level_started"].remove(on_level)
        hooks._hooks["resolved"].remove(on_resolved)
    assert seen == [("level_started", ["blue"]), ("resolved", "resolved")]
    with pytest.raises(ValueError, match="unknown incident event"):
        hooks.on("reopened", on_level)
