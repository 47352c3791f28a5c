"""The incidents API against the public contract (docs: /work/shared/spec/interfaces.md, "HTTP API")."""

import re

import pytest

from escalation.models import Deadline
from incidents import services
from incidents.models import Incident, ResponsePlan, TimelineEntry

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$")
CONTRACT_FIELDS = {
    "id", "title", "category", "level", "level_name", "level_color", "status", "opened_at", "resolved_at",
    "discovered_at", "affected_branches", "total_branches", "affected_system", "host_fault", "drill",
    "plan_version", "reporter", "deadlines",
}
DEADLINE_FIELDS = {"kind", "role", "due_at", "met_at", "missed", "state"}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # make_person sets a password; the default PBKDF2 costs most of a test's time here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def plan(shipped_plan):
    return shipped_plan


@pytest.fixture
def person_with(make_person, api_client_for):
    """person_with("office", "leadership") → (person, an API client signed in as them, speaking English)."""

    def make(*roles):
        person = make_person(*roles)
        client = api_client_for(person)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return person, client

    return make


@pytest.fixture
def coordinator(person_with):
    return person_with("office", "leadership")


def open_incident(person, category="system", level="yellow", **fields):
    return services.log_fault(reporter=person, category=category, level=level, title="Savings host slow", **fields)


def log_body(**overrides):
    return {"title": "Savings host slow", "category": "system", "level": "yellow",
            "description": "Branch transactions take 30 s.", **overrides}


def snapshot():
    """What a failed request must leave untouched."""
    return (Incident.objects.count(), TimelineEntry.objects.count(), Deadline.objects.count(),
            ResponsePlan.objects.count(), list(Incident.objects.values_list("status", "level__key", "title")))


# --- log a fault ------------------------------------------------------------------------


def test_logging_a_fault_answers_201_with_the_incident_and_its_deadlines(plan, person_with):
    person, client = person_with("duty_staff")
    response = client.post("/api/v1/incidents/", log_body(affected_branches=3, total_branches=10), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert CONTRACT_FIELDS <= set(body)
    assert body["category"] == "system" and body["level"] == "yellow"
    assert body["level_color"] == plan.levels.get(key="yellow").color and body["level_name"]
    assert body["status"] == "reported" and body["resolved_at"] is None
    assert body["reporter"] == person.username and body["plan_version"] == plan.number
    assert body["affected_branches"] == 3 and body["total_branches"] == 10 and body["drill"] is False
    assert body["source"] == "api"
    for field in ("opened_at", "discovered_at"):
        assert ISO_WITH_OFFSET.match(body[field]), body[field]
    by_kind = {}
    for deadline in body["deadlines"]:
        assert DEADLINE_FIELDS <= set(deadline)
        assert ISO_WITH_OFFSET.match(deadline["due_at"])
        by_kind.setdefault(deadline["kind"], []).append(deadline)
    assert [(d["role"], d["state"], d["met_at"], d["missed"]) for d in by_kind["on_site"]] == [
        ("ops_supervisor", "pending", None, False)]
    assert by_kind["escalation"][0]["target_level"] == "orange"
    # Reports are made by Fenghuo at once: met when the level starts.
    assert all(d["state"] == "met" and ISO_WITH_OFFSET.match(d["met_at"]) for d in by_kind["report"])
    assert Incident.objects.get(pk=body["id"]).reporter == person


def test_logging_a_drill_accepts_drill_or_is_drill_and_discovered_at(plan, person_with):
    _person, client = person_with("duty_staff")
    first = client.post("/api/v1/incidents/", log_body(drill=True), format="json").json()
    second = client.post("/api/v1/incidents/", log_body(
        is_drill=True, discovered_at="2026-11-26T08:00:00+08:00", affected_system="core", host_fault=True),
        format="json").json()

    assert first["drill"] is True and second["drill"] is True
    assert second["discovered_at"].startswith("2026-11-26T08:00:00")
    assert second["affected_system"] == "core" and second["host_fault"] is True


@pytest.mark.parametrize("body, field", [
    ({"category": "system", "level": "yellow"}, "title"),
    (log_body(title="   "), "title"),
    (log_body(category="power"), "category"),
    (log_body(level="purple"), "level"),
    (log_body(category=None), "category"),
    ({"title": "x", "category": "system"}, "level"),
    (log_body(affected_branches=-1), "affected_branches"),
    (log_body(affected_branches="many"), "affected_branches"),
    (log_body(affected_branches=8, total_branches=5), "affected_branches"),
    (log_body(total_branches=2.5), "total_branches"),
    (log_body(total_branches=2**40), "total_branches"),
    (log_body(title="Host\x00down"), "title"),
    (log_body(affected_system="mainframe"), "affected_system"),
    (log_body(host_fault="perhaps"), "host_fault"),
    (log_body(drill="perhaps"), "drill"),
    (log_body(discovered_at="yesterday"), "discovered_at"),
    (log_body(discovered_at="2099-01-01T08:00:00+08:00"), "discovered_at"),
    (log_body(title="x" * 201), "title"),
    (log_body(description={"a": 1}), "description"),
])
def test_logging_bad_input_answers_400_naming_the_field_and_writes_nothing(plan, person_with, body, field):
    _person, client = person_with("duty_staff")
    before = snapshot()
    response = client.post("/api/v1/incidents/", body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert all(isinstance(m, str) and m for m in response.json()[field])
    assert snapshot() == before


def test_unknown_category_lists_the_plans_categories(plan, person_with):
    _person, client = person_with("duty_staff")
    response = client.post("/api/v1/incidents/", log_body(category="power"), format="json")

    assert "network, equipment, system" in response.json()["category"][0]


def test_malformed_json_answers_400_and_writes_nothing(plan, person_with):
    _person, client = person_with("duty_staff")
    before = snapshot()
    response = client.post("/api/v1/incidents/", '{"title": "x", ', content_type="application/json")

    assert response.status_code == 400
    assert "detail" in response.json()
    assert snapshot() == before


def test_a_json_list_instead_of_an_object_answers_400(plan, person_with):
    _person, client = person_with("duty_staff")
    response = client.post("/api/v1/incidents/", [log_body()], format="json")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_a_person_without_a_plan_role_cannot_log_a_fault(plan, person_with):
    _person, client = person_with()
    before = snapshot()
    response = client.post("/api/v1/incidents/", log_body(), format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "no_plan_role"
    assert snapshot() == before


def test_an_auditor_reads_incidents_but_cannot_log_a_fault(plan, person_with):
    from django.contrib.auth.models import Permission

    auditor, client = person_with()
    auditor.user_permissions.add(Permission.objects.get(codename="audit", content_type__app_label="people"))
    before = snapshot()
    response = client.post("/api/v1/incidents/", log_body(), format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert "cannot log a fault" in response.json()["detail"]
    assert snapshot() == before


def test_the_api_requires_a_valid_token(plan, api_client_for):
    from rest_framework.test import APIClient

    anonymous = APIClient()
    assert anonymous.get("/api/v1/incidents/").status_code == 401
    anonymous.credentials(HTTP_AUTHORIZATION="Token fh_not-a-real-token")
    assert anonymous.get("/api/v1/incidents/").status_code == 401


# --- list ---------------------------------------------------------------------------------


def test_the_list_is_newest_first_and_paginated(plan, coordinator):
    person, client = coordinator
    ids = [open_incident(person).pk for _ in range(52)]

    first = client.get("/api/v1/incidents/").json()
    assert set(first) == {"count", "next", "previous", "results"}
    assert first["count"] == 52 and len(first["results"]) == 50 and first["previous"] is None
    assert [i["id"] for i in first["results"]] == ids[::-1][:50]
    second = client.get(first["next"]).json()
    assert [i["id"] for i in second["results"]] == ids[1::-1]
    assert client.get("/api/v1/incidents/?page=9").status_code == 404


def test_the_list_filters_by_status_level_category_open_and_drill(plan, coordinator):
    person, client = coordinator
    network = open_incident(person, category="network", level="blue")
    drill = open_incident(person, level="orange", is_drill=True)
    closed = services.acknowledge(open_incident(person), actor=person)
    closed = services.resolve(closed, actor=person, summary="Fixed.")

    def ids(query):
        response = client.get(f"/api/v1/incidents/?{query}")
        assert response.status_code == 200, response.content
        return {i["id"] for i in response.json()["results"]}

    assert ids("category=network") == {network.pk}
    assert ids("level=orange") == {drill.pk}
    assert ids("status=resolved") == {closed.pk}
    assert ids("status=resolved&status=reported") == {closed.pk, network.pk, drill.pk}
    assert ids("open=true") == {network.pk, drill.pk}
    assert ids("open=false") == {closed.pk}
    assert ids("drill=true") == {drill.pk}
    assert ids("drill=false") == {network.pk, closed.pk}
    assert ids("level=red") == set()


@pytest.mark.parametrize("query, field", [("status=lost", "status"), ("open=maybe", "open"), ("drill=2x", "drill")])
def test_a_bad_filter_answers_400_naming_it(plan, coordinator, query, field):
    _person, client = coordinator
    response = client.get(f"/api/v1/incidents/?{query}")

    assert response.status_code == 400
    assert field in response.json()


def test_the_list_costs_the_same_queries_for_one_incident_or_many(plan, coordinator, django_assert_num_queries):
    person, client = coordinator
    open_incident(person)
    client.get("/api/v1/incidents/")  # the token's last-used time is written once a minute, not on every call
    # token, the caller's roles (may they read?), count, page of incidents with plan rows, their deadlines
    with django_assert_num_queries(5):
        assert len(client.get("/api/v1/incidents/").json()["results"]) == 1
    for level in ("blue", "orange", "red"):
        for category in ("network", "equipment", "system"):
            open_incident(person, category=category, level=level)
    with django_assert_num_queries(5):
        assert len(client.get("/api/v1/incidents/").json()["results"]) == 10


# --- one incident ---------------------------------------------------------------------------


def test_one_incident_costs_five_queries(plan, coordinator, django_assert_num_queries):
    person, client = coordinator
    incident = open_incident(person, level="red")
    client.get(f"/api/v1/incidents/{incident.pk}/")
    # token, the caller's roles, incident with plan rows, its deadlines, its timeline (the hash chain's check)
    with django_assert_num_queries(5):
        body = client.get(f"/api/v1/incidents/{incident.pk}/").json()
    assert body["id"] == incident.pk and len(body["deadlines"]) >= 5


@pytest.mark.parametrize("path", [
    "/api/v1/incidents/999999/", "/api/v1/incidents/abc/", "/api/v1/incidents/99999999999999999999999/",
    "/api/v1/incidents/999999/timeline/", "/api/v1/plans/999999/",
])
def test_an_unknown_incident_or_plan_answers_404_json(plan, coordinator, path):
    _person, client = coordinator
    response = client.get(path)

    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize("action", ["acknowledge", "escalate", "deescalate", "check-in", "resolve", "recovered",
                                    "implementing", "review/submit", "review/approve", "archive", "plans"])
def test_acting_on_an_unknown_incident_answers_404(plan, coordinator, action):
    _person, client = coordinator
    response = client.post(f"/api/v1/incidents/999999/{action}/", {"level": "red", "reason": "x"}, format="json")

    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_deciding_on_an_unknown_plan_answers_404(plan, coordinator, decision):
    _person, client = coordinator
    response = client.post(f"/api/v1/plans/999999/{decision}/", {"comment": "x"}, format="json")

    assert response.status_code == 404
    assert "detail" in response.json()


def test_patch_edits_the_facts_and_records_old_and_new(plan, coordinator):
    person, client = coordinator
    incident = open_incident(person, category="network", level="blue", affected_branches=1, total_branches=10)
    response = client.patch(f"/api/v1/incidents/{incident.pk}/",
                            {"title": "Lines down in the north", "affected_branches": 4}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Lines down in the north" and response.json()["affected_branches"] == 4
    entry = TimelineEntry.objects.filter(incident=incident, kind="updated").get()
    assert entry.detail["affected_branches"] == {"from": 1, "to": 4}
    assert entry.actor == person


@pytest.mark.parametrize("body, field, says", [
    ({"level": "red"}, "level", "/escalate/"),
    ({"status": "resolved"}, "status", "/escalate/"),
    ({"category": "network"}, "category", "editable fields"),
    ({"id": 5}, "id", "editable fields"),
    ({"affected_branches": "a few"}, "affected_branches", ""),
    ({"affected_branches": 20, "total_branches": 10}, "affected_branches", "cannot exceed"),
    ({"title": ""}, "title", ""),
    ({"affected_branches": 2**40}, "affected_branches", ""),
    ({"affected_system": "mainframe"}, "affected_system", ""),
    ({}, "non_field_errors", "title"),
])
def test_patch_refuses_what_it_cannot_change_naming_the_field(plan, coordinator, body, field, says):
    person, client = coordinator
    incident = open_incident(person)
    before = snapshot()
    response = client.patch(f"/api/v1/incidents/{incident.pk}/", body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert says in response.json()[field][0]
    assert snapshot() == before


def test_put_is_not_offered(plan, coordinator):
    person, client = coordinator
    incident = open_incident(person)

    assert client.put(f"/api/v1/incidents/{incident.pk}/", log_body(), format="json").status_code == 405


# --- actions ----------------------------------------------------------------------------------


def test_acknowledge_takes_the_incident_on_once(plan, coordinator):
    person, client = coordinator
    incident = open_incident(person)
    url = f"/api/v1/incidents/{incident.pk}/acknowledge/"

    first = client.post(url)
    assert first.status_code == 200 and first.json()["status"] == "acknowledged"
    before = snapshot()
    again = client.post(url)
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"
    assert again.json()["detail"].startswith("cannot acknowledge")
    assert snapshot() == before


def test_escalate_raises_the_level_and_starts_its_response(plan, coordinator):
    person, client = coordinator
    incident = open_incident(person)
    response = client.post(f"/api/v1/incidents/{incident.pk}/escalate/",
                           {"level": "orange", "reason": "All front-end transactions fail"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["level"] == "orange"
    assert {d["role"] for d in body["deadlines"] if d["kind"] == "on_site" and d["state"] == "pending"} == {
        "system_technicians", "office", "leadership"}
    change = TimelineEntry.objects.filter(incident=incident, kind="level_changed").get()
    assert change.detail == {"from": "yellow", "to": "orange", "reason": "All front-end transactions fail",
                             "cause": "person", "manual": True}


@pytest.mark.parametrize("endpoint, body, field", [
    ("escalate", {"reason": "worse"}, "level"),
    ("escalate", {"level": "purple", "reason": "worse"}, "level"),
    ("escalate", {"level": "blue", "reason": "worse"}, "level"),
    ("escalate", {"level": "yellow", "reason": "worse"}, "level"),
    ("escalate", {"level": "orange"}, "reason"),
    ("escalate", {"level": "orange", "reason": "  "}, "reason"),
    ("escalate", {"level": ["orange"], "reason": "worse"}, "level"),
    ("deescalate", {"level": "red", "reason": "better"}, "level"),
    ("deescalate", {"level": "blue"}, "reason"),
    ("deescalate", {}, "level"),
    ("resolve", {}, "summary"),
    ("resolve", {"summary": " "}, "summary"),
    ("plans", {}, "text"),
    ("plans", {"text": ["a"]}, "text"),
])
def test_actions_with_bad_input_answer_400_naming_the_field(plan, coordinator, endpoint, body, field):
    person, client = coordinator
    incident = services.acknowledge(open_incident(person), actor=person)
    before = snapshot()
    response = client.post(f"/api/v1/incidents/{incident.pk}/{endpoint}/", body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", ["escalate", "resolve", "plans", "recovered"])
def test_actions_answer_400_for_malformed_json(plan, coordinator, endpoint):
    person, client = coordinator
    incident = open_incident(person)
    before = snapshot()
    response = client.post(f"/api/v1/incidents/{incident.pk}/{endpoint}/", "{oops", content_type="application/json")

    assert response.status_code == 400
    assert snapshot() == before


def test_deescalate_lowers_the_level(plan, coordinator):
    person, client = coordinator
    incident = open_incident(person, level="orange")
    response = client.post(f"/api/v1/incidents/{incident.pk}/deescalate/",
                           {"level": "yellow", "reason": "Only peripheral systems remain slow"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["level"] == "yellow"


def test_check_in_meets_the_callers_arrival_deadline(plan, person_with):
    supervisor, client = person_with("ops_supervisor")
    incident = open_incident(supervisor)
    response = client.post(f"/api/v1/incidents/{incident.pk}/check-in/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "on_site"
    (on_site,) = [d for d in response.json()["deadlines"] if d["kind"] == "on_site"]
    assert on_site["state"] == "met" and on_site["missed"] is False
    assert ISO_WITH_OFFSET.match(on_site["met_at"])
    assert TimelineEntry.objects.filter(incident=incident, kind="checked_in", actor=supervisor).count() == 1


def test_resolve_closes_the_incident_and_cancels_what_is_pending(plan, coordinator):
    person, client = coordinator
    incident = services.acknowledge(open_incident(person), actor=person)
    response = client.post(f"/api/v1/incidents/{incident.pk}/resolve/", {"summary": "Killed the runaway batch."},
                           format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "resolved" and ISO_WITH_OFFSET.match(body["resolved_at"])
    assert body["resolution_summary"] == "Killed the runaway batch."
    assert {d["state"] for d in body["deadlines"] if d["kind"] != "report"} == {"cancelled"}


def test_implementing_then_recovered_then_resolve_review_archive(plan, coordinator):
    person, client = coordinator
    incident = services.acknowledge(open_incident(person), actor=person)
    base = f"/api/v1/incidents/{incident.pk}"

    assert client.post(f"{base}/implementing/").json()["status"] == "implementing"
    assert client.post(f"{base}/recovered/", {"note": "Transactions flow again"}, format="json").json()[
        "status"] == "recovered"
    assert client.get(f"{base}/review/").status_code == 404  # drafted on resolution, not before
    assert client.post(f"{base}/resolve/", {"summary": "Stable for an hour"}, format="json").json()[
        "status"] == "resolved"
    # The post-incident review (reviews app, the same API): written, submitted, approved.
    assert client.post(f"{base}/archive/").status_code == 409
    client.put(f"{base}/review/", {"summary": "Runaway batch.", "impact": "Savings slow.", "root_cause": "A loop.",
                                   "went_wrong": "Late alert.", "lessons": "Add a disk alert."}, format="json")
    assert client.post(f"{base}/review/submit/").json()["status"] == "submitted"
    assert client.post(f"{base}/review/approve/").json()["status"] == "approved"
    assert client.get(f"{base}/").json()["status"] == "reviewed"
    archived = client.post(f"{base}/archive/")
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    assert client.patch(f"{base}/", {"title": "late"}, format="json").status_code == 409


def test_implementing_before_the_plan_is_approved_is_refused(plan, coordinator):
    person, client = coordinator
    incident = services.acknowledge(open_incident(person, level="orange"), actor=person)
    response = client.post(f"/api/v1/incidents/{incident.pk}/implementing/")

    assert response.status_code == 409
    assert response.json()["code"] == "approval_required"


def test_the_timeline_lists_every_event_oldest_first(plan, coordinator):
    person, client = coordinator
    incident = services.acknowledge(open_incident(person), actor=person)
    services.escalate(incident, level_key="orange", actor=person, reason="worse")
    response = client.get(f"/api/v1/incidents/{incident.pk}/timeline/")

    assert response.status_code == 200
    entries = response.json()
    assert all(set(e) >= {"at", "kind", "actor", "detail"} for e in entries)
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    kinds = [e["kind"] for e in entries]
    assert kinds[0] == "opened"
    assert kinds.index("acknowledged") < kinds.index("level_changed")
    assert {e["actor"] for e in entries if e["kind"] in {"opened", "acknowledged", "level_changed"}} == {
        person.username}
    assert {e["actor"] for e in entries if e["kind"] == "notified"} == {"Fenghuo"}
    assert all(ISO_WITH_OFFSET.match(e["at"]) for e in entries)


# --- response plans ---------------------------------------------------------------------------


def test_proposing_and_approving_a_response_plan(plan, coordinator, person_with):
    person, client = coordinator
    incident = services.acknowledge(open_incident(person, level="orange"), actor=person)
    proposed = client.post(f"/api/v1/incidents/{incident.pk}/plans/", {"text": "Fail over to the standby host."},
                           format="json")

    assert proposed.status_code == 201, proposed.content
    plan_body = proposed.json()
    assert plan_body["status"] == "pending" and plan_body["approver_role"] == "leadership"
    assert plan_body["incident"] == incident.pk and plan_body["incident_status"] == "plan_proposed"
    assert plan_body["proposed_by"] == person.username
    assert client.get(f"/api/v1/plans/{plan_body['id']}/").json() == plan_body
    assert [p["id"] for p in client.get(f"/api/v1/incidents/{incident.pk}/plans/").json()] == [plan_body["id"]]
    (approval,) = [d for d in client.get(f"/api/v1/incidents/{incident.pk}/").json()["deadlines"]
                   if d["kind"] == "approval"]
    assert approval["role"] == "leadership" and approval["state"] == "pending"

    _office, office_client = person_with("office")
    refused = office_client.post(f"/api/v1/plans/{plan_body['id']}/approve/", {}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"

    not_text = client.post(f"/api/v1/plans/{plan_body['id']}/approve/", {"comment": 8.2e302}, format="json")
    assert not_text.status_code == 400 and "comment" in not_text.json(), not_text.content
    assert client.get(f"/api/v1/plans/{plan_body['id']}/").json()["status"] == "pending"

    approved = client.post(f"/api/v1/plans/{plan_body['id']}/approve/", {"comment": "Go."}, format="json")
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved" and approved.json()["decided_by"] == person.username
    assert approved.json()["decision_comment"] == "Go." and approved.json()["incident_status"] == "plan_approved"
    again = client.post(f"/api/v1/plans/{plan_body['id']}/reject/", {"comment": "No."}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


def test_rejecting_a_response_plan_needs_a_reason(plan, coordinator):
    person, client = coordinator
    incident = services.acknowledge(open_incident(person, level="orange"), actor=person)
    response_plan = services.propose_plan(incident, actor=person, text="Restart everything.")
    url = f"/api/v1/plans/{response_plan.pk}/reject/"
    before = snapshot()

    missing = client.post(url, {}, format="json")
    assert missing.status_code == 400 and "comment" in missing.json()
    assert snapshot() == before
    assert client.post(url, "{", content_type="application/json").status_code == 400
    rejected = client.post(url, {"comment": "Too risky during business hours."}, format="json")
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected" and rejected.json()["incident_status"] == "plan_rejected"


def test_a_plan_without_approval_is_recorded_and_work_goes_on(plan, coordinator):
    person, client = coordinator
    incident = services.acknowledge(open_incident(person), actor=person)
    response = client.post(f"/api/v1/incidents/{incident.pk}/plans/", {"text": "Kill the batch."}, format="json")

    assert response.status_code == 201
    assert response.json()["status"] == "approved" and response.json()["incident_status"] == "implementing"


def test_resolving_while_the_plan_awaits_approval_says_who_must_approve(plan, coordinator):
    person, client = coordinator
    incident = services.acknowledge(open_incident(person, level="orange"), actor=person)
    services.propose_plan(incident, actor=person, text="Fail over.")
    response = client.post(f"/api/v1/incidents/{incident.pk}/resolve/", {"summary": "x"}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "cannot resolve: the response plan awaits approval by Emergency leadership group",
        "code": "invalid_transition",
    }

