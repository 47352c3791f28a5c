"""The approval queue at /approvals/: only the viewer's decisions, two taps, errors shown, overdue marked."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from incidents import services
from incidents.models import PlanStatus
from incidents.states import Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(shipped_plan, make_person):
    return make_person("office", username="office", language="en")


@pytest.fixture
def leader(make_person, client):
    person = make_person("leadership", username="leader", language="en")
    client.force_login(person)
    return person


def proposed(office, *, category="system", level="orange", text="Switch the savings host to the standby."):
    incident = services.log_fault(reporter=office, category=category, level=level, title="host down")
    return services.propose_plan(incident, actor=office, text=text)


def test_queue_lists_only_plans_the_viewers_roles_decide(office, leader, client):
    mine = proposed(office, level="orange")  # system orange: the leadership group approves
    main_leaders = proposed(office, category="network", level="red")  # network red: the main leaders approve
    html = client.get("/approvals/").content.decode()
    assert f'data-plan-id="{mine.pk}"' in html
    assert "Switch the savings host to the standby." in html
    assert f'data-plan-id="{main_leaders.pk}"' not in html


def test_leader_approves_with_a_tap_and_a_confirmation(office, leader, client):
    plan = proposed(office)
    confirm = client.post(f"/approvals/{plan.pk}/decide/", {"decision": "approve", "comment": ""})
    assert "Yes, approve" in confirm.content.decode()
    response = client.post(f"/approvals/{plan.pk}/decide/", {"decision": "approve", "comment": "", "confirmed": "1"},
                           follow=True)
    assert response.status_code == 200
    assert f"Approved the response plan for incident #{plan.incident_id}." in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED and plan.decided_by == leader
    assert plan.incident.status == Status.PLAN_APPROVED
    assert f'data-plan-id="{plan.pk}"' not in response.content.decode()


def test_rejecting_without_a_comment_is_refused_and_says_why(office, leader, client):
    plan = proposed(office)
    response = client.post(f"/approvals/{plan.pk}/decide/", {"decision": "reject", "comment": "  ", "confirmed": "1"})
    assert response.status_code == 400
    assert "Rejecting needs a reason" in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING


def test_rejecting_with_a_comment_records_it(office, leader, client):
    plan = proposed(office)
    client.post(f"/approvals/{plan.pk}/decide/", {"decision": "reject", "comment": "restore from backup first",
                                                  "confirmed": "1"})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.REJECTED and plan.decision_comment == "restore from backup first"


def test_someone_without_the_role_is_refused_with_the_services_reason(office, make_person, client):
    plan = proposed(office)
    duty = make_person("duty_staff", language="en")
    client.force_login(duty)
    response = client.post(f"/approvals/{plan.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 403
    assert "may decide on this response plan" in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING


def test_a_plan_decided_elsewhere_meanwhile_shows_an_error_not_a_crash(office, leader, client):
    plan = proposed(office)
    services.approve_plan(plan, actor=leader)
    response = client.post(f"/approvals/{plan.pk}/decide/", {"decision": "reject", "comment": "no"})
    assert response.status_code == 409
    assert "already" in response.content.decode()


def test_plan_past_its_decision_deadline_is_marked_overdue(office, leader, client):
    # The shipped plan gives no approval.within: the decision is due 30 minutes after the proposal.
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        plan = proposed(office)
    with time_machine.travel(start + timedelta(minutes=29, seconds=59), tick=False):
        assert "data-overdue" not in client.get("/approvals/").content.decode()
    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        html = client.get("/approvals/").content.decode()
    card = html.split(f'data-plan-id="{plan.pk}"')[1]
    due = timezone.localtime(start + timedelta(minutes=30)).strftime("%m-%d %H:%M")
    assert "data-overdue" in card and f"the decision was due at {due}" in card


def test_the_dashboard_row_counts_a_waiting_plan_overdue_from_its_decision_deadline(office, leader, client):
    plan = proposed(office)
    due = plan.incident.deadlines.get(kind="approval").due_at
    client.force_login(office)
    html = client.get("/dashboard/").content.decode()
    assert f'data-decide-by="{due.isoformat()}"' in html
