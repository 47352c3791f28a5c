"""Remediation actions: an owner, a future due date that is a deadline in the engine, done or carried over."""

import email
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.errors import Refused
from escalation import services as engine
from escalation.models import Deadline, Kind, State
from incidents.models import TimelineKind
from notifications.delivery import deliver_due
from notifications.models import Notification
from reviews import selectors, services
from reviews.deadlines import act_on_due_remediation
from reviews.models import Action, ActionStatus

pytestmark = pytest.mark.django_db


def _fall_due(action, *, ago=timedelta(seconds=5)):
    """As if the action's due date had just passed: its pending deadline moved into the past."""
    pending = Deadline.objects.get(kind=Kind.REMEDIATION, subject=action.subject, state=State.PENDING)
    Deadline.objects.filter(pk=pending.pk).update(started_at=timezone.now() - timedelta(days=1),
                                                  due_at=timezone.now() - ago)
    Action.objects.filter(pk=action.pk).update(due_at=timezone.now() - ago)
    return Deadline.objects.get(pk=pending.pk)


def test_an_action_starts_a_remediation_deadline_in_the_engine(resolved, people, soon):
    due = soon(days=3)
    action = services.action_create(resolved, actor=people.office, title="Alert on pool usage",
                                    owner=people.tech.username, due_at=due)
    deadline = Deadline.objects.get(kind=Kind.REMEDIATION, subject=f"action:{action.pk}")
    assert deadline.state == State.PENDING and deadline.due_at == due and deadline.incident_id == resolved.pk
    assert resolved.timeline.filter(kind=TimelineKind.ACTION_ADDED, detail__action=action.pk).exists()


def test_an_action_without_an_owner_or_due_in_the_past_is_refused_naming_both(resolved, people):
    with pytest.raises(ValidationError) as refused:
        services.action_create(resolved, actor=people.office, title="Fix it", owner="",
                               due_at=timezone.now() - timedelta(hours=1))
    assert set(refused.value.message_dict) == {"owner", "due_at"}
    with pytest.raises(ValidationError) as unknown:
        services.action_create(resolved, actor=people.office, title="", owner="ghost", due_at=None)
    assert set(unknown.value.message_dict) == {"title", "owner", "due_at"}
    assert not Action.objects.exists() and not Deadline.objects.filter(kind=Kind.REMEDIATION).exists()


def test_only_the_review_authority_adds_actions(resolved, people, soon):
    with pytest.raises(Refused) as refused:
        services.action_create(resolved, actor=people.tech, title="x", owner=people.tech.username, due_at=soon())
    assert refused.value.status_code == 403


def test_an_overdue_action_tells_its_owner_and_the_office_by_email_and_again_after_the_interval(
        resolved, people, soon, smtp, settings):
    settings.FENGHUO_REMEDIATION_REMIND_EVERY = timedelta(hours=6)
    action = services.action_create(resolved, actor=people.office, title="Alert on pool usage",
                                    owner=people.tech.username, due_at=soon())
    deliver_due()  # what opening and resolving told people, out of the way
    smtp.messages.clear()
    first = _fall_due(action)
    assert engine.sweep() >= 1
    first.refresh_from_db()
    assert first.state == State.MISSED
    told = Notification.objects.filter(event=f"deadline:{first.pk}")
    assert sorted(n.person.username for n in told) == ["office-zhang", "tech-wang"]
    deliver_due()
    to = sorted(address for envelope in smtp.messages for address in envelope.rcpt_tos)
    assert to == sorted([people.office.email, people.tech.email])
    body = email.message_from_bytes(smtp.messages[0].content).get_payload(decode=True).decode()
    assert f"Remediation action #{action.pk} is overdue" in body and "Alert on pool usage" in body
    overdue = resolved.timeline.get(kind=TimelineKind.ACTION_OVERDUE)
    assert overdue.deadline_id == first.pk
    # The reminder: the next deadline of the same subject, counted from the due time, not from the sweep.
    reminder = Deadline.objects.get(kind=Kind.REMEDIATION, subject=action.subject, state=State.PENDING)
    assert reminder.due_at == first.due_at + timedelta(hours=6)
    assert engine.sweep() == 0  # not yet due: nobody is told twice
    Deadline.objects.filter(pk=reminder.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    engine.sweep()
    assert Notification.objects.filter(event=f"deadline:{reminder.pk}").count() == 2
    assert resolved.timeline.filter(kind=TimelineKind.ACTION_OVERDUE).count() == 2
    assert selectors.open_actions(overdue=True).get() == action


def test_a_due_deadline_acts_once_even_when_handed_over_twice(resolved, people, soon):
    action = services.action_create(resolved, actor=people.office, title="x", owner=people.tech.username,
                                    due_at=soon())
    deadline = _fall_due(action)
    assert act_on_due_remediation(deadline.pk, incident_id=resolved.pk) == "acted"
    assert act_on_due_remediation(deadline.pk, incident_id=resolved.pk) == "not_due"
    assert resolved.timeline.filter(kind=TimelineKind.ACTION_OVERDUE).count() == 1


def test_done_needs_evidence_meets_the_deadline_and_ends_the_reminders(resolved, people, soon):
    action = services.action_create(resolved, actor=people.office, title="x", owner=people.tech.username,
                                    due_at=soon())
    with pytest.raises(ValidationError) as refused:
        services.action_done(action, actor=people.tech, evidence="  ")
    assert list(refused.value.message_dict) == ["evidence"]
    done = services.action_done(action, actor=people.tech, evidence="Change CR-1024 deployed")
    assert done.status == ActionStatus.DONE and done.closed_by == people.tech
    assert Deadline.objects.get(subject=action.subject).state == State.MET
    with pytest.raises(Refused):
        services.action_carry_over(done, actor=people.office, reason="late")


def test_only_the_owner_or_the_office_records_an_action_done(resolved, people, soon, make_person):
    action = services.action_create(resolved, actor=people.office, title="x", owner=people.tech.username,
                                    due_at=soon())
    other = make_person("tech_group")
    with pytest.raises(Refused) as refused:
        services.action_done(action, actor=other, evidence="not mine")
    assert refused.value.status_code == 403
    services.action_done(action, actor=people.office, evidence="Checked by the office")


def test_carrying_over_needs_a_reason_and_cancels_the_deadline(resolved, people, soon):
    action = services.action_create(resolved, actor=people.office, title="Replace the SAN", owner=people.tech.username,
                                    due_at=soon())
    with pytest.raises(ValidationError):
        services.action_carry_over(action, actor=people.office, reason="")
    with pytest.raises(Refused):
        services.action_carry_over(action, actor=people.tech, reason="owner may not")
    carried = services.action_carry_over(action, actor=people.office, reason="Into the 2027 budget")
    assert carried.status == ActionStatus.CARRIED_OVER
    assert Deadline.objects.get(subject=action.subject).state == State.CANCELLED
    assert resolved.timeline.filter(kind=TimelineKind.ACTION_CARRIED_OVER).exists()


def test_the_open_list_filters_by_owner_and_overdue(resolved, people, soon):
    mine = services.action_create(resolved, actor=people.office, title="a", owner=people.tech.username, due_at=soon())
    theirs = services.action_create(resolved, actor=people.office, title="b", owner=people.office.username,
                                    due_at=soon())
    late = services.action_create(resolved, actor=people.office, title="c", owner=people.tech.username, due_at=soon())
    _fall_due(late)
    closed = services.action_create(resolved, actor=people.office, title="d", owner=people.tech.username,
                                    due_at=soon())
    services.action_done(closed, actor=people.tech, evidence="done")
    assert set(selectors.open_actions()) == {mine, theirs, late}
    assert set(selectors.open_actions(owner=people.tech.username)) == {mine, late}
    assert list(selectors.open_actions(overdue=True)) == [late]
    assert list(selectors.open_actions(owner=people.office.username, overdue=True)) == []
