"""The plan change proposals API: /api/v1/plan-proposals/ (an extension of interfaces.md)."""

import pytest
import yaml

from plan.models import PlanVersion
from plan.tests.documents import as_yaml, minimal_plan

pytestmark = pytest.mark.django_db

URL = "/api/v1/plan-proposals/"


@pytest.fixture
def office(make_person):
    return make_person("office", username="office-head")


@pytest.fixture
def client(api_client_for, office, minimal_plan_version):
    return api_client_for(office)


def changed_plan():
    document = minimal_plan()
    yellow = document["categories"][2]["responses"]["yellow"]
    yellow["escalate"]["after"] = "1h"
    yellow["steps"].append({"en": "Call the vendor", "zh": "联系厂商"})
    return document


def test_propose_edit_diff_submit_and_approve_through_the_api(client, office, open_incident, minimal_plan_version):
    incident = open_incident()

    created = client.post(URL, {"reason": "Escalate sooner", "incident": incident.pk}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["state"], body["incident"], body["proposed_by"], body["based_on"]) == (
        "draft", incident.pk, "office-head", minimal_plan_version.number)
    assert yaml.safe_load(body["plan"])["name"] == {"en": "Test plan", "zh": "测试预案"}
    one = f"{URL}{body['id']}/"

    put = client.put(one, {"plan": as_yaml(changed_plan())}, format="json")
    assert put.status_code == 200, put.json()

    diff = client.get(f"{one}diff/").json()
    assert diff["compared_with"] == minimal_plan_version.number
    [cell] = diff["cells"]
    assert (cell["category"], cell["level"]) == ("system", "yellow")
    assert {"field": "escalate.after", "old": "2h", "new": "1h", "index": None, "state": "changed"} in cell["changes"]
    assert {"field": "steps", "old": None, "new": {"en": "Call the vendor", "zh": "联系厂商"}, "index": 2,
            "state": "added"} in cell["changes"]

    assert client.post(f"{one}submit/").json()["state"] == "submitted"
    approved = client.post(f"{one}approve/", {"note": "Agreed"}, format="json").json()

    assert approved["state"] == "approved"
    assert approved["version_number"] == PlanVersion.objects.active().number == minimal_plan_version.number + 1
    assert approved["decided_by"] == "office-head"
    assert [row["id"] for row in client.get(URL).json()["results"]] == [body["id"]]


def test_a_plan_that_fails_the_check_answers_400_listing_every_error_with_its_path(client):
    document = minimal_plan()
    document["categories"][0]["responses"]["blue"]["escalate"]["after"] = "4 hours"
    document["categories"][2]["responses"]["orange"]["approval"] = {"by": "nobody"}

    answer = client.post(URL, {"reason": "Typos", "plan": as_yaml(document)}, format="json")

    assert answer.status_code == 400
    errors = answer.json()["plan"]
    assert len(errors) == 2
    assert errors[0].startswith("categories.network.responses.blue.escalate.after: ")
    assert errors[1].startswith("categories.system.responses.orange.approval.by: ")
    assert not PlanVersion.objects.filter(is_draft=True).exists()


def test_a_put_that_fails_the_check_keeps_the_draft(client):
    one = f"{URL}{client.post(URL, {'reason': 'x'}, format='json').json()['id']}/"
    before = client.get(one).json()["plan"]

    answer = client.put(one, {"plan": "format: 1\nname: [unclosed"}, format="json")

    assert answer.status_code == 400
    assert answer.json()["plan"][0].startswith("(file): not valid YAML")
    assert client.get(one).json()["plan"] == before


@pytest.mark.parametrize("body, field", [
    ({}, "reason"),
    ({"reason": ""}, "reason"),
    ({"reason": "x", "plan": ""}, "plan"),
    ({"reason": "x", "plan": 12}, "plan"),
    ({"reason": "x", "incident": 999999}, "incident"),
    ({"reason": "x", "plan": "- just\n- a list\n"}, "plan"),
])
def test_bad_bodies_name_the_field(client, body, field):
    answer = client.post(URL, body, format="json")

    assert answer.status_code == 400
    assert field in answer.json()


def test_an_empty_put_says_what_to_send(client):
    one = f"{URL}{client.post(URL, {'reason': 'x'}, format='json').json()['id']}/"

    answer = client.put(one, {}, format="json")

    assert answer.status_code == 400
    assert "plan" in answer.json()


def test_deciding_without_the_plans_edit_authority_is_403(client, api_client_for, make_person):
    one = f"{URL}{client.post(URL, {'reason': 'x'}, format='json').json()['id']}/"
    client.post(f"{one}submit/")
    reviewer = api_client_for(make_person("leadership"))

    answer = reviewer.post(f"{one}approve/", {}, format="json")

    assert answer.status_code == 403
    assert answer.json()["code"] == "forbidden"


def test_approving_a_draft_is_409_until_it_is_submitted(client):
    one = f"{URL}{client.post(URL, {'reason': 'x'}, format='json').json()['id']}/"

    answer = client.post(f"{one}approve/", {}, format="json")

    assert answer.status_code == 409
    assert answer.json()["code"] == "invalid_state"


def test_rejecting_without_a_note_is_400_and_with_one_keeps_the_record(client):
    one = f"{URL}{client.post(URL, {'reason': 'x'}, format='json').json()['id']}/"
    client.post(f"{one}submit/")

    assert client.post(f"{one}reject/", {}, format="json").status_code == 400
    rejected = client.post(f"{one}reject/", {"note": "Not now"}, format="json").json()

    assert (rejected["state"], rejected["decision_note"], rejected["version_number"]) == ("rejected", "Not now", None)
    assert client.get(one).status_code == 200


def test_a_person_without_a_role_reads_no_proposal(client, api_client_for, make_person):
    client.post(URL, {"reason": "x"}, format="json")

    assert api_client_for(make_person()).get(URL).status_code == 403


def test_the_list_reads_in_a_fixed_number_of_queries(client, office, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from improvements import services

    services.proposal_create(person=office, reason="one")
    client.get(URL)  # the first request of a client also reads what it caches (its token, its roles)
    with CaptureQueriesContext(connection) as one:
        assert client.get(URL).status_code == 200
    for n in range(4):
        services.proposal_create(person=office, reason=f"more {n}")

    with django_assert_num_queries(len(one)):
        assert len(client.get(URL).json()["results"]) == 5
