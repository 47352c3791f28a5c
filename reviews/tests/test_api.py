"""The reviews API as interfaces.md names it: review, submit, approve; actions, done, carry-over, the list."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reviews.models import Action, ReviewStatus
from reviews.tests.test_review import WRITTEN

pytestmark = pytest.mark.django_db


@pytest.fixture
def office_api(api_client_for, people):
    return api_client_for(people.office)


@pytest.fixture
def leader_api(api_client_for, people):
    return api_client_for(people.leader)


def test_the_review_reads_with_its_computed_figures(resolved, office_api):
    body = office_api.get(f"/api/v1/incidents/{resolved.pk}/review/").json()
    assert body["status"] == "draft"
    assert set(body["figures"]) >= {"time_to_acknowledge_s", "time_to_recover_s", "time_to_resolve_s",
                                    "deadlines_met", "deadlines_missed"}
    assert body["figures"]["deadlines_met"] == 1
    assert {d["kind"] for d in body["deadlines"]} == {"on_site", "escalation"}
    assert [h["kind"] for h in body["highlights"]][0] == "opened"


def test_an_unresolved_incident_has_no_review_yet(open_incident, people, office_api):
    response = office_api.get(f"/api/v1/incidents/{open_incident().pk}/review/")
    assert response.status_code == 404 and "resolved" in response.json()["detail"]


def test_put_edits_the_written_parts_and_never_the_figures(resolved, office_api):
    response = office_api.put(f"/api/v1/incidents/{resolved.pk}/review/", {"lessons": "Alert earlier."},
                              format="json")
    assert response.status_code == 200 and response.json()["lessons"] == "Alert earlier."
    typed = office_api.put(f"/api/v1/incidents/{resolved.pk}/review/", {"figures": {"deadlines_met": 9}},
                           format="json")
    assert typed.status_code == 400 and list(typed.json()) == ["figures"]
    not_text = office_api.put(f"/api/v1/incidents/{resolved.pk}/review/", {"impact": ["a"]}, format="json")
    assert not_text.status_code == 400 and "impact" in not_text.json()


def test_submit_with_empty_parts_answers_400_naming_them(resolved, office_api):
    office_api.put(f"/api/v1/incidents/{resolved.pk}/review/", {"summary": "", "impact": "x", "root_cause": "y",
                                                               "went_wrong": "z"}, format="json")
    response = office_api.post(f"/api/v1/incidents/{resolved.pk}/review/submit/")
    assert response.status_code == 400
    assert set(response.json()) == {"summary", "lessons"}


def test_submit_then_approve_moves_the_incident_to_reviewed(resolved, office_api, leader_api):
    office_api.put(f"/api/v1/incidents/{resolved.pk}/review/", WRITTEN, format="json")
    assert office_api.post(f"/api/v1/incidents/{resolved.pk}/review/submit/").json()["status"] == "submitted"
    assert office_api.post(f"/api/v1/incidents/{resolved.pk}/review/approve/").status_code == 403
    approved = leader_api.post(f"/api/v1/incidents/{resolved.pk}/review/approve/")
    assert approved.status_code == 200 and approved.json()["status"] == ReviewStatus.APPROVED
    assert approved.json()["approved_by"] == "leader-li"
    assert leader_api.get(f"/api/v1/incidents/{resolved.pk}/").json()["status"] == "reviewed"
    again = leader_api.post(f"/api/v1/incidents/{resolved.pk}/review/approve/")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


def test_actions_are_added_listed_and_closed_through_the_api(resolved, people, office_api, api_client_for):
    due = (timezone.now() + timedelta(days=5)).isoformat()
    created = office_api.post(f"/api/v1/incidents/{resolved.pk}/actions/",
                              {"title": "Alert on pool usage", "owner": "tech-wang", "due_at": due}, format="json")
    assert created.status_code == 201
    action = created.json()
    assert action["status"] == "open" and action["overdue"] is False and action["owner"] == "tech-wang"
    assert [a["id"] for a in office_api.get(f"/api/v1/incidents/{resolved.pk}/actions/").json()] == [action["id"]]
    owner_api = api_client_for(people.tech)
    no_evidence = owner_api.post(f"/api/v1/actions/{action['id']}/done/", {}, format="json")
    assert no_evidence.status_code == 400 and list(no_evidence.json()) == ["evidence"]
    done = owner_api.post(f"/api/v1/actions/{action['id']}/done/", {"evidence": "CR-1024"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "done"


def test_an_action_without_owner_or_with_a_past_due_date_is_a_400_naming_the_fields(resolved, office_api):
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    response = office_api.post(f"/api/v1/incidents/{resolved.pk}/actions/", {"title": "x", "due_at": past},
                               format="json")
    assert response.status_code == 400 and set(response.json()) == {"owner", "due_at"}
    garbled = office_api.post(f"/api/v1/incidents/{resolved.pk}/actions/",
                              {"title": "x", "owner": "tech-wang", "due_at": "tomorrow"}, format="json")
    assert garbled.status_code == 400 and list(garbled.json()) == ["due_at"]
    assert not Action.objects.exists()


def test_carry_over_needs_a_reason(resolved, office_api):
    due = (timezone.now() + timedelta(days=5)).isoformat()
    action = office_api.post(f"/api/v1/incidents/{resolved.pk}/actions/",
                             {"title": "Replace the SAN", "owner": "tech-wang", "due_at": due}, format="json").json()
    assert office_api.post(f"/api/v1/actions/{action['id']}/carry-over/", {}, format="json").status_code == 400
    carried = office_api.post(f"/api/v1/actions/{action['id']}/carry-over/", {"reason": "2027 budget"}, format="json")
    assert carried.json()["status"] == "carried_over" and carried.json()["carry_over_reason"] == "2027 budget"


def test_the_actions_list_filters_by_owner_and_overdue(resolved, people, office_api):
    due = (timezone.now() + timedelta(days=5)).isoformat()
    for owner in ("tech-wang", "office-zhang"):
        office_api.post(f"/api/v1/incidents/{resolved.pk}/actions/", {"title": owner, "owner": owner, "due_at": due},
                        format="json")
    late = Action.objects.get(owner=people.tech)
    Action.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=1))
    every = office_api.get("/api/v1/actions/").json()
    assert every["count"] == 2
    mine = office_api.get("/api/v1/actions/?owner=tech-wang").json()["results"]
    assert [a["owner"] for a in mine] == ["tech-wang"]
    overdue = office_api.get("/api/v1/actions/?overdue=true").json()["results"]
    assert [(a["id"], a["overdue"]) for a in overdue] == [(late.pk, True)]
    assert office_api.get("/api/v1/actions/?overdue=maybe").status_code == 400


def test_a_person_without_a_plan_role_reads_no_review(resolved, people, api_client_for):
    assert api_client_for(people.nobody).get(f"/api/v1/incidents/{resolved.pk}/review/").status_code == 403


def test_the_actions_list_and_page_read_in_as_many_queries_for_many_actions_as_for_one(
        resolved, people, office_api, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reviews import services

    due = timezone.now() + timedelta(days=5)
    client.force_login(people.office)

    def counted():
        with CaptureQueriesContext(connection) as api:
            office_api.get("/api/v1/actions/")
        with CaptureQueriesContext(connection) as page:
            client.get("/actions/")
        return len(api.captured_queries), len(page.captured_queries)

    services.action_create(resolved, actor=people.office, title="one", owner="tech-wang", due_at=due)
    counted()  # the first request of a token and a session writes their last use
    one = counted()
    for n in range(8):
        services.action_create(resolved, actor=people.office, title=f"more {n}", owner="office-zhang", due_at=due)
    assert counted() == one
