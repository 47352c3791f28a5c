"""The external API: parties, an incident's external reports, call-outs; bad input is a 400 naming the field."""

from datetime import timedelta

import pytest
from django.utils import timezone

from escalation.models import Deadline
from external.models import Contact, Party
from incidents import services as incidents

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(settings, shipped_plan, make_person):
    settings.ESCALATION_ETA_TASKS = False
    settings.NOTIFICATIONS_KICK_ON_COMMIT = False
    return make_person("office", username="office")


@pytest.fixture
def incident(office):
    return incidents.log_fault(reporter=office, category="system", level="orange", title="Core down")


def test_parties_are_listed_with_their_contacts_and_created_by_the_office(office, api_client_for):
    client = api_client_for(office)
    answer = client.post("/api/v1/parties/", {
        "key": "unicom", "kind": "carrier", "name_en": "China Unicom", "name_zh": "中国联通", "arrival_within": "4h",
        "categories": ["network"], "contacts": [{"name": "Zhang", "phone": "10010"}]}, format="json")
    assert answer.status_code == 201, answer.json()
    [party] = client.get("/api/v1/parties/").json()
    assert (party["key"], party["arrival_within_s"], party["contacts"][0]["name"]) == ("unicom", 14400, "Zhang")


def test_a_bad_party_names_its_field(office, api_client_for):
    client = api_client_for(office)
    answer = client.post("/api/v1/parties/", {"key": "x", "kind": "ministry", "name_en": "X", "name_zh": "X"},
                         format="json")
    assert answer.status_code == 400 and "kind" in answer.content.decode()
    answer = client.post("/api/v1/parties/", {"key": "x", "kind": "vendor", "name_en": "X", "name_zh": "X",
                                              "arrival_within": "soon"}, format="json")
    assert answer.status_code == 400 and "arrival_within" in answer.content.decode()
    assert not Party.objects.exists()


def test_someone_without_a_coordinating_role_may_not_change_the_directory(make_person, shipped_plan, api_client_for):
    client = api_client_for(make_person("system_technicians"))
    answer = client.post("/api/v1/parties/", {"key": "x", "kind": "vendor", "name_en": "X", "name_zh": "X"},
                         format="json")
    assert answer.status_code == 403


def test_external_reports_list_the_duties_and_a_post_meets_one(office, incident, api_client_for):
    client = api_client_for(office)
    duties = client.get(f"/api/v1/incidents/{incident.pk}/external-reports/").json()
    assert {(d["party"], d["stage"]) for d in duties} == {("pboc", "initial"), ("pboc", "written"), ("pboc", "final")}
    answer = client.post(f"/api/v1/incidents/{incident.pk}/external-reports/", {
        "party": "pboc", "stage": "initial", "sent_at": timezone.now().isoformat(), "channel": "email",
        "reference": "PBOC-7", "text": "初报内容"}, format="json")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["reference"] == "PBOC-7" and answer.json()["sent_at"]
    again = client.post(f"/api/v1/incidents/{incident.pk}/external-reports/", {
        "party": "pboc", "stage": "initial", "sent_at": timezone.now().isoformat(), "channel": "email"}, format="json")
    assert again.status_code == 400 and "stage" in again.content.decode()


@pytest.mark.parametrize("body, field", [
    ({"party": "pboc", "stage": "progress", "channel": "fax"}, "stage"),
    ({"party": "pboc", "stage": "initial", "channel": "pigeon"}, "channel"),
    ({"party": "nobody", "stage": "initial", "channel": "fax"}, "party"),
])
def test_a_bad_report_names_its_field(office, incident, api_client_for, body, field):
    answer = api_client_for(office).post(f"/api/v1/incidents/{incident.pk}/external-reports/",
                                         {**body, "sent_at": timezone.now().isoformat()}, format="json")
    assert answer.status_code == 400 and field in answer.content.decode()


def test_a_future_sent_time_is_a_400(office, incident, api_client_for):
    answer = api_client_for(office).post(f"/api/v1/incidents/{incident.pk}/external-reports/", {
        "party": "pboc", "stage": "initial", "channel": "fax",
        "sent_at": (timezone.now() + timedelta(hours=2)).isoformat()}, format="json")
    assert answer.status_code == 400 and "sent_at" in answer.content.decode()


def test_a_call_out_starts_its_arrival_deadline_and_arrival_meets_it(office, incident, api_client_for):
    party = Party.objects.create(key="vendor", kind="vendor", name_en="Vendor", name_zh="厂商")
    Contact.objects.create(party=party, name="Zhao", mobile="138")
    client = api_client_for(office)
    answer = client.post(f"/api/v1/incidents/{incident.pk}/callouts/",
                         {"party": "vendor", "ticket": "T-1", "arrive_within": "2h"}, format="json")
    assert answer.status_code == 201, answer.json()
    callout = answer.json()
    assert Deadline.objects.get(subject=f"callout:{callout['id']}").kind == "callout_arrival"
    arrived = client.post(f"/api/v1/callouts/{callout['id']}/arrived/", {}, format="json")
    assert arrived.status_code == 200 and arrived.json()["arrived_at"]
    assert Deadline.objects.get(subject=f"callout:{callout['id']}").state == "met"
    twice = client.post(f"/api/v1/callouts/{callout['id']}/arrived/", {}, format="json")
    assert twice.status_code == 400 and "arrived_at" in twice.content.decode()


@pytest.mark.parametrize("body, field", [
    ({"party": "vendor", "arrive_within": "later"}, "arrive_within"),
    ({"party": "ghost", "arrive_within": "2h"}, "party"),
    ({"party": "nocontact", "arrive_within": "2h"}, "party"),
])
def test_a_bad_call_out_names_its_field(office, incident, api_client_for, body, field):
    Contact.objects.create(party=Party.objects.create(key="vendor", kind="vendor", name_en="V", name_zh="V"),
                           name="Zhao", mobile="138")
    Party.objects.create(key="nocontact", kind="vendor", name_en="N", name_zh="N")
    answer = api_client_for(office).post(f"/api/v1/incidents/{incident.pk}/callouts/", body, format="json")
    assert answer.status_code == 400 and field in answer.content.decode()
    assert not incident.callouts.exists()
