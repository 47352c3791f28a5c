"""One response plan's approval page at /approvals/<id>/ and the confirmation before deciding (issue 14)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django.utils.html import escape

from incidents import services
from incidents.models import PlanStatus
from incidents.states import Status

pytestmark = pytest.mark.django_db

PLAN_TEXT = "1. Switch the savings host to the standby.\n2. Replay the queued branch transactions."


@pytest.fixture
def office(shipped_plan, make_person):
    return make_person("office", username="office", language="en")


@pytest.fixture
def leader(make_person, client):
    person = make_person("leadership", username="leader", language="en")
    client.force_login(person)
    return person


def proposed(office, *, text=PLAN_TEXT):
    # System orange: the leadership group approves.
    incident = services.log_fault(reporter=office, category="system", level="orange", title="Savings host down",
                                  description="Branches cannot post deposits since 09:10.")
    return services.propose_plan(incident, actor=office, text=text)


def html_of(response):
    return response.content.decode()


def test_the_page_shows_the_incident_the_plans_rules_the_timeline_the_wait_and_the_full_text(office, leader, client):
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        plan = proposed(office)
    with time_machine.travel(start + timedelta(minutes=12), tick=False):
        html = html_of(client.get(f"/approvals/{plan.pk}/"))

    assert "Savings host down" in html and "Branches cannot post deposits since 09:10." in html
    assert 'class="level-badge level-orange' in html and "Severe (level 2)" in html and "System" in html
    assert escape(PLAN_TEXT) in html  # in full, line breaks kept (pre-wrap)
    # The shipped plan's criteria and steps for system × orange.
    cell = services.engine.cell_of(plan.incident)
    assert cell.criteria and escape(cell.criteria) in html
    steps = list(cell.steps.all())
    assert steps and all(escape(step.text) in html for step in steps)
    # Waiting since the proposal; the decision deadline (30 minutes) counts down in the page.
    assert "12\xa0minutes since it was proposed" in html
    due = plan.incident.deadlines.get(kind="approval").due_at
    assert f'data-due="{due.isoformat()}"' in html and "in 18\xa0minutes" in html
    # The timeline so far, newest first.
    timeline = html.split('id="timeline"')[1]
    assert timeline.index("Response plan proposed") < timeline.index("Opened")
    # The decision comes before the plan's rules and the timeline on a phone.
    assert html.index("data-decision-form") < html.index('id="checklist"') < html.index('id="timeline"')


def test_the_page_in_chinese(office, make_person, client):
    plan = proposed(office)
    client.force_login(make_person("leadership", language="zh-hans"))
    html = html_of(client.get(f"/approvals/{plan.pk}/"))
    assert "提出的应急方案" in html and "判定标准" in html and "目前的时间线" in html and "最新在前" in html
    assert "提出后已过" in html and "决定时限" in html
    assert "批准" in html and "驳回" in html


def test_only_the_approver_sees_the_buttons_and_other_readers_read_only(office, leader, client):
    plan = proposed(office)
    assert "data-decision-form" in html_of(client.get(f"/approvals/{plan.pk}/"))

    client.force_login(office)
    html = html_of(client.get(f"/approvals/{plan.pk}/"))
    assert "data-decision-form" not in html and 'value="approve"' not in html
    assert "Only Emergency leadership group may decide on this plan; you can read it." in html
    assert escape(PLAN_TEXT) in html


def test_a_decided_plan_shows_the_decision_and_no_buttons(office, leader, client):
    plan = proposed(office)
    services.reject_plan(plan, actor=leader, comment="Restore from the backup first.")
    html = html_of(client.get(f"/approvals/{plan.pk}/"))
    assert "data-decision-form" not in html and "Restore from the backup first." in html


def test_an_unknown_plan_is_404(leader, client, shipped_plan):
    assert client.get("/approvals/999999/").status_code == 404


def test_the_list_links_to_the_page(office, leader, client):
    plan = proposed(office)
    assert f'href="/approvals/{plan.pk}/"' in html_of(client.get("/approvals/"))


def test_approving_asks_for_confirmation_first(office, leader, client):
    plan = proposed(office)
    response = client.post(f"/approvals/{plan.pk}/decide/", {"decision": "approve", "comment": "Go."})
    assert response.status_code == 200
    html = html_of(response)
    assert "Approve this plan?" in html and "Yes, approve" in html and 'name="confirmed" value="1"' in html
    assert ">Go.</textarea>" in html and escape(PLAN_TEXT) in html
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING

    response = client.post(f"/approvals/{plan.pk}/decide/", {"decision": "approve", "comment": "Go.", "confirmed": "1"},
                           follow=True)
    assert f"Approved the response plan for incident #{plan.incident_id}." in html_of(response)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED and plan.decision_comment == "Go."


def test_rejecting_asks_for_confirmation_first(office, leader, client):
    plan = proposed(office)
    html = html_of(client.post(f"/approvals/{plan.pk}/decide/", {"decision": "reject", "comment": "Too risky."}))
    assert "Reject this plan?" in html and "Yes, reject" in html and ">Too risky.</textarea>" in html
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING
    client.post(f"/approvals/{plan.pk}/decide/", {"decision": "reject", "comment": "Too risky.", "confirmed": "1"})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.REJECTED and plan.decision_comment == "Too risky."


@pytest.mark.parametrize("language, says", [
    ("en", "Rejecting needs a reason: write why the plan is rejected. The proposer is told it."),
    ("zh-hans", "驳回需要理由：请写明驳回原因，提出人会收到。"),
])
@pytest.mark.parametrize("confirmed", ["", "1"])
def test_rejecting_without_a_reason_is_refused_with_a_message_in_the_readers_language(
        office, make_person, client, language, says, confirmed):
    plan = proposed(office)
    client.force_login(make_person("leadership", language=language))
    response = client.post(f"/approvals/{plan.pk}/decide/",
                           {"decision": "reject", "comment": "   ", "confirmed": confirmed})
    assert response.status_code == 400
    html = html_of(response)
    assert says in html and 'role="alert"' in html
    # Still the confirmation form, so the reason can be typed in place.
    assert 'name="confirmed" value="1"' in html and 'value="reject"' in html
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING


def test_the_incident_pages_decision_goes_through_the_same_confirmation(office, leader, client):
    plan = proposed(office)
    url = f"/incidents/{plan.incident_id}/act/approve_plan/"
    html = html_of(client.post(url, {"plan": str(plan.pk), "comment": "Go."}))
    assert "Approve this plan?" in html and f'action="{url}"' in html
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING

    response = client.post(url, {"plan": str(plan.pk), "comment": "Go.", "confirmed": "1"})
    assert response.status_code == 302 and response.url == f"/incidents/{plan.incident_id}/#actions"
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED and plan.incident.status == Status.PLAN_APPROVED


def test_the_incident_page_refuses_a_rejection_without_a_reason_keeping_the_form(office, leader, client):
    plan = proposed(office)
    url = f"/incidents/{plan.incident_id}/act/reject_plan/"
    response = client.post(url, {"plan": str(plan.pk), "comment": "", "confirmed": "1"})
    assert response.status_code == 400
    assert "Rejecting needs a reason" in html_of(response) and f'action="{url}"' in html_of(response)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING


def test_someone_without_the_role_is_refused_before_any_confirmation(office, make_person, client):
    plan = proposed(office)
    client.force_login(make_person("duty_staff", language="en"))
    response = client.post(f"/approvals/{plan.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 403 and "Approve this plan?" not in html_of(response)
    assert "may decide on this response plan" in html_of(response)


def test_the_api_refuses_a_rejection_without_its_reason_naming_the_field(office, leader, api_client_for):
    # The reason is the decision's `comment` (the API's body name since the first version, kept).
    plan = proposed(office)
    response = api_client_for(leader).post(f"/api/v1/plans/{plan.pk}/reject/", {}, format="json")
    assert response.status_code == 400 and "comment" in response.json()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING


def test_the_page_reads_with_a_fixed_number_of_queries_however_long_the_timeline(office, leader, client,
                                                                                  django_assert_num_queries):
    plan = proposed(office)
    client.get(f"/approvals/{plan.pk}/")  # the plan cell and authority caches, as on a running server
    with django_assert_num_queries(PAGE_QUERIES):
        assert client.get(f"/approvals/{plan.pk}/").status_code == 200
    for n in range(5):
        services.update_details(plan.incident, actor=office, changes={"title": f"Savings host down ({n})"})
    with django_assert_num_queries(PAGE_QUERIES):
        html = html_of(client.get(f"/approvals/{plan.pk}/"))
    assert "Savings host down (4)" in html


# Session, person, the viewer's roles, the plan with its incident (one join), its approval deadlines, its
# timeline, the plan version's roles and levels, the unread bell. The cell and its steps are cached per version.
PAGE_QUERIES = 9


def test_someone_who_may_not_read_incidents_cannot_open_the_page(office, make_person, client):
    plan = proposed(office)
    client.force_login(make_person())  # no plan role, no staff status (people/access.py)
    assert client.get(f"/approvals/{plan.pk}/").status_code == 403
    assert client.post(f"/approvals/{plan.pk}/decide/", {"decision": "approve"}).status_code == 403


def test_a_plan_past_its_decision_deadline_is_marked_overdue_on_its_page(office, leader, client):
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        plan = proposed(office)
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        assert "approval-head overdue" not in html_of(client.get(f"/approvals/{plan.pk}/"))
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        html = html_of(client.get(f"/approvals/{plan.pk}/"))
    assert "approval-head overdue" in html and 'class="countdown overdue"' in html
