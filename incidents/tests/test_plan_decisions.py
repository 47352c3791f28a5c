"""The proposer and the office are told the decision on a response plan (issue 14, "Approvals")."""

import pytest

from core.errors import Refused
from incidents import services
from incidents.models import TimelineEntry, TimelineKind
from notifications.models import Ask, ChannelKind, Delivery, Notification
from notifications.recipients import notify_person_and_roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposed(shipped_plan, make_person):
    """System orange: the leadership approves; an ops supervisor (Chinese) proposes, the office (English) coordinates."""
    proposer = make_person("ops_supervisor", username="zhang", language="zh-hans", full_name="张工")
    office = make_person("office", username="office", language="en")
    leader = make_person("leadership", username="leader", language="en", full_name="Leader Li")
    incident = services.log_fault(reporter=office, category="system", level="orange", title="Savings host down")
    plan = services.propose_plan(incident, actor=proposer, text="Switch the savings host to the standby.")
    return plan, proposer, office, leader


def decision_notifications(plan):
    return Notification.objects.filter(incident=plan.incident, event__startswith=f"plan:{plan.pk}:")


def test_approving_tells_the_proposer_and_the_office_on_their_channels_in_their_language(proposed):
    plan, proposer, office, leader = proposed
    services.approve_plan(plan, actor=leader, comment="Go ahead.")

    told = {n.person: n for n in decision_notifications(plan)}
    assert set(told) == {proposer, office}
    assert told[proposer].body.endswith("Leader Li 批准了应急方案。意见：Go ahead.")
    assert told[office].body.endswith("Leader Li approved the response plan. Comment: Go ahead.")
    assert all(n.ask == Ask.FYI and not n.needs_answer for n in told.values())
    for person, notification in told.items():
        assert Delivery.objects.filter(notification=notification, kind=ChannelKind.EMAIL,
                                       address=person.email).exists()


def test_rejecting_tells_them_who_rejected_and_why(proposed):
    plan, proposer, office, leader = proposed
    services.reject_plan(plan, actor=leader, comment="Restore from the backup first.")

    told = {n.person: n for n in decision_notifications(plan)}
    assert set(told) == {proposer, office}
    assert told[proposer].body.endswith("Leader Li 驳回了应急方案。理由：Restore from the backup first.")
    assert told[office].body.endswith("Leader Li rejected the response plan. Reason: Restore from the backup first.")


def test_the_decision_is_on_the_timeline_as_a_notified_row_naming_who_was_told(proposed):
    plan, proposer, office, leader = proposed
    services.approve_plan(plan, actor=leader)

    entry = TimelineEntry.objects.filter(incident=plan.incident, kind=TimelineKind.NOTIFIED,
                                         detail__plan=plan.pk).get()
    assert entry.detail["decision"] == "approved" and entry.detail["roles"] == ["office"]
    assert entry.detail["people"] == ["office", "zhang"] and entry.detail["proposer"] == "zhang"


def test_a_proposer_in_the_office_is_told_once(shipped_plan, make_person):
    office = make_person("office", username="office", language="en")
    leader = make_person("leadership")
    incident = services.log_fault(reporter=office, category="system", level="orange", title="Savings host down")
    plan = services.propose_plan(incident, actor=office, text="Switch to the standby.")
    services.approve_plan(plan, actor=leader)

    assert decision_notifications(plan).filter(person=office).count() == 1


def test_deciding_twice_or_retrying_the_event_tells_nobody_twice(proposed):
    plan, proposer, office, leader = proposed
    services.reject_plan(plan, actor=leader, comment="Not now.")
    before = decision_notifications(plan).count(), Delivery.objects.count()
    with pytest.raises(Refused) as refused:
        services.approve_plan(plan, actor=leader)
    assert refused.value.code == "invalid_transition"
    # The same event again, as a retried task would send it.
    told, _nobody = notify_person_and_roles(plan.incident, person=proposer, role_keys=["office"],
                                            event=f"plan:{plan.pk}:rejected", note="again")
    assert told == []
    assert (decision_notifications(plan).count(), Delivery.objects.count()) == before
    assert before[0] == 2
    assert TimelineEntry.objects.filter(incident=plan.incident, kind=TimelineKind.NOTIFIED,
                                        detail__plan=plan.pk).count() == 1


def test_a_decision_shows_in_the_proposers_notification_list(proposed, client):
    plan, proposer, _office, leader = proposed
    services.reject_plan(plan, actor=leader, comment="Restore from the backup first.")
    client.force_login(proposer)
    html = client.get("/notifications/").content.decode()
    assert "Leader Li 驳回了应急方案。理由：Restore from the backup first." in html
