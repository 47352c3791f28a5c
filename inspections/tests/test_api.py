"""The inspections API as interfaces.md names it, and the pages that use it."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from inspections.models import Result, Round, RoundStatus

from .conftest import full_answers, jpeg_bytes


@pytest.fixture
def client_of(api_client_for):
    def make(person):
        client = api_client_for(person)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return make


@pytest.mark.django_db
def test_the_office_posts_a_schedule_and_its_rounds_are_generated(register, office, client_of):
    answer = client_of(office).post("/api/v1/inspection-schedules/", {
        "name": "Daily 09:00", "assets": ["SRV-01", "UPS-01"], "role": "duty_staff", "every": "1d",
        "first_due_at": (timezone.now() + timedelta(hours=1)).isoformat(), "grace": "1h"}, format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["assets"], body["every"], body["grace"], body["role"]) == (["SRV-01", "UPS-01"], "1d", "1h",
                                                                           "duty_staff")
    assert Round.objects.filter(schedule_id=body["id"]).count() == 2  # within the 48 h ahead
    listed = client_of(office).get("/api/v1/inspection-schedules/").json()
    assert listed["results"][0]["name"] == "Daily 09:00"


@pytest.mark.django_db
def test_a_bad_schedule_names_each_field(register, office, client_of):
    answer = client_of(office).post("/api/v1/inspection-schedules/", {
        "name": "x", "assets": ["NOPE"], "role": "duty_staff", "every": "two hours",
        "first_due_at": "yesterday", "grace": "30m"}, format="json")
    assert answer.status_code == 400
    assert {"every", "first_due_at"} <= set(answer.json())


@pytest.mark.django_db
def test_only_the_office_sets_schedules(register, duty, client_of):
    answer = client_of(duty).post("/api/v1/inspection-schedules/", {
        "name": "x", "assets": ["SRV-01"], "role": "duty_staff", "every": "2h",
        "first_due_at": timezone.now().isoformat(), "grace": "30m"}, format="json")
    assert answer.status_code == 403


@pytest.mark.django_db
def test_rounds_list_with_items_and_filters(round_, duty, client_of):
    client = client_of(duty)
    rounds = client.get("/api/v1/inspections/", {"due_before": (timezone.now() + timedelta(minutes=1)).isoformat()})
    assert rounds.status_code == 200
    [first] = rounds.json()["results"]
    assert first["id"] == round_.pk and first["status"] == "due" and first["role"] == "duty_staff"
    assert {"asset": "SRV-01", "check": "indicator_lights"}.items() <= first["items"][0].items()
    assert client.get("/api/v1/inspections/", {"status": "done"}).json()["count"] == 0
    assert client.get("/api/v1/inspections/", {"status": "sideways"}).status_code == 400


@pytest.mark.django_db
def test_results_answer_the_round_and_open_a_prefilled_fault(round_, duty, client_of):
    results = full_answers(round_, bad={("UPS-01", "ups_load"): {"value": 88, "open_incident": {"level": "yellow"}}})
    answer = client_of(duty).post(f"/api/v1/inspections/{round_.pk}/results/", {"results": results}, format="json")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["round"]["status"] == "done" and isinstance(body["incident"], int)
    incident = client_of(duty).get(f"/api/v1/incidents/{body['incident']}/").json()
    assert (incident["asset"], incident["level"], incident["category"]) == ("UPS-01", "yellow", "equipment")
    again = client_of(duty).post(f"/api/v1/inspections/{round_.pk}/results/", {"results": results}, format="json")
    assert again.status_code == 409 and "already submitted" in again.json()["detail"]


@pytest.mark.django_db
def test_a_reading_that_is_not_a_number_is_a_400_naming_it(round_, duty, client_of):
    answer = client_of(duty).post(f"/api/v1/inspections/{round_.pk}/answers/",
                                  {"asset": "UPS-01", "check": "ups_load", "value": "lots"}, format="json")
    assert answer.status_code == 400 and "not a number" in answer.json()["value"][0]
    assert not Result.objects.exists()


@pytest.mark.django_db
def test_another_roles_round_is_a_403(round_, make_person, client_of):
    answer = client_of(make_person("network_maintainer")).post(
        f"/api/v1/inspections/{round_.pk}/answers/", {"asset": "UPS-01", "check": "ups_load", "value": 5},
        format="json")
    # It is not even listed to them: they hold no role of it.
    assert answer.status_code == 404


@pytest.mark.django_db
def test_the_office_sees_a_round_but_cannot_walk_another_roles_round(round_, office, client_of):
    answer = client_of(office).post(f"/api/v1/inspections/{round_.pk}/answers/",
                                    {"asset": "UPS-01", "check": "ups_load", "value": 5}, format="json")
    assert answer.status_code == 403 and "duty_staff" in answer.json()["detail"]


@pytest.mark.django_db
def test_a_photo_upload_through_the_api(round_, duty, client_of, settings, tmp_path, client):
    settings.MEDIA_ROOT = tmp_path
    api = client_of(duty)
    photo = SimpleUploadedFile("p.jpg", jpeg_bytes(), content_type="image/jpeg")
    answer = api.post(f"/api/v1/inspections/{round_.pk}/photos/", {"asset": "SRV-01", "check": "photo",
                                                                    "photo": photo}, format="multipart")
    assert answer.status_code == 200, answer.content
    url = answer.json()["photo"]
    client.force_login(duty)
    page = client.get(url)
    assert page.status_code == 200 and page["Content-Type"] == "image/jpeg"
    not_image = SimpleUploadedFile("p.jpg", b"<html>", content_type="image/jpeg")
    refused = api.post(f"/api/v1/inspections/{round_.pk}/photos/", {"asset": "SRV-01", "check": "photo",
                                                                        "photo": not_image}, format="multipart")
    assert refused.status_code == 400 and "photo" in refused.json()


@pytest.mark.django_db
def test_coverage_counts_done_and_missed_per_asset(round_, duty, client_of, register):
    from escalation import services as engine
    import time_machine

    services_round = round_
    from inspections import services

    services.round_submit(services_round, person=duty, results=full_answers(services_round))
    second = Round.objects.filter(schedule=round_.schedule).order_by("due_at")[1]
    with time_machine.travel(second.miss_at + timedelta(seconds=1), tick=False):
        engine.sweep()
        body = client_of(duty).get("/api/v1/inspections/coverage/",
                                   {"from": (timezone.now() - timedelta(days=1)).date().isoformat()}).json()
    rows = {row["asset"]: row for row in body["assets"]}
    assert rows["SRV-01"]["rounds_done"] == 1 and rows["SRV-01"]["rounds_missed"] == 1
    assert rows["SRV-01"]["last_inspected_at"] is not None
    assert body["never_inspected"] == []
    assert body["people"][0]["username"] == "wang"


@pytest.mark.django_db
def test_coverage_with_a_bad_date_is_a_400(duty, client_of):
    answer = client_of(duty).get("/api/v1/inspections/coverage/", {"from": "last tuesday"})
    assert answer.status_code == 400 and "from" in answer.json()


@pytest.mark.django_db
def test_the_pages_render_for_the_walker(round_, duty, client, django_assert_max_num_queries):
    client.force_login(duty)
    with django_assert_max_num_queries(15):
        today = client.get("/inspections/")
    assert today.status_code == 200 and round_.schedule.name in today.content.decode()
    walk = client.get(f"/inspections/rounds/{round_.pk}/")
    assert walk.status_code == 200 and 'data-asset="UPS-01"' in walk.content.decode()


@pytest.mark.django_db
def test_the_form_submits_without_a_script_and_refuses_a_bad_reading_clearly(round_, duty, client):
    from inspections.items import round_items

    client.force_login(duty)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    form = {}
    for item in round_items(round_):
        name = f"{item.asset.pk}-{item.check.key}"
        if item.check.type == "ok":
            form[f"ok-{name}"] = "true"
        elif item.check.type == "number":
            form[f"value-{name}"] = "abc" if item.check.key == "ups_load" else "50"
    bad = client.post(f"/inspections/rounds/{round_.pk}/submit/", form)
    assert bad.status_code == 400 and "is not a number" in bad.content.decode()
    form = {k: ("50" if v == "abc" else v) for k, v in form.items()}
    good = client.post(f"/inspections/rounds/{round_.pk}/submit/", form)
    assert good.status_code == 302
    round_.refresh_from_db()
    assert round_.status == RoundStatus.DONE


@pytest.mark.django_db
def test_the_finding_page_logs_the_prefilled_fault(round_, duty, client):
    from inspections import services

    services.round_submit(round_, person=duty, results=full_answers(round_, bad={("SRV-01", "fan_noise"):
                                                                                 {"ok": False}}))
    result = Result.objects.get(asset__tag="SRV-01", check_key="fan_noise")
    client.force_login(duty)
    page = client.get(f"/inspections/findings/{result.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="orange" checked' in html
    answer = client.post(f"/inspections/findings/{result.pk}/", {"do": "fault", "level": "orange",
                                                                 "title": "SRV-01 fan loud", "description": "x"})
    assert answer.status_code == 302
    result.refresh_from_db()
    assert result.incident.asset.tag == "SRV-01" and result.incident.level.key == "orange"


@pytest.mark.django_db
def test_the_coverage_page_and_its_csv(round_, duty, office, client):
    from inspections import services

    services.round_submit(round_, person=duty, results=full_answers(round_))
    client.force_login(office)
    page = client.get("/inspections/coverage/")
    assert page.status_code == 200 and 'data-asset-row="SRV-01"' in page.content.decode()
    csv_text = client.get("/inspections/coverage/?format=csv").content.decode()
    assert csv_text.splitlines()[0].startswith("tag,name,last_inspected_at,rounds_done")
    assert any(line.startswith("SRV-01,") and ",1,0,0," in line + "," for line in csv_text.splitlines())


@pytest.mark.django_db
def test_results_that_are_not_objects_and_tags_that_are_not_text_are_named_flat(round_, register, office, duty,
                                                                                 client_of):
    schedule = client_of(office).post("/api/v1/inspection-schedules/", {
        "name": "x", "assets": ["SRV-01", None, 7], "role": "duty_staff", "every": "2h",
        "first_due_at": timezone.now().isoformat(), "grace": "30m"}, format="json")
    assert schedule.status_code == 400 and schedule.json() == {"assets": [
        "each item is text: an asset tag or a check key"]}
    answer = client_of(duty).post(f"/api/v1/inspections/{round_.pk}/results/", {"results": [None, "x"]},
                                  format="json")
    assert answer.status_code == 400
    assert set(answer.json()) == {"results[0]", "results[1]"}
    assert all(isinstance(v, list) for v in answer.json().values())


def _submitted_with_a_finding(round_, duty):
    from inspections import services

    services.round_submit(round_, person=duty, results=full_answers(round_, bad={("SW-01", "power_supplies"):
                                                                                 {"ok": False}}))


@pytest.mark.django_db
def test_the_api_offers_and_adds_a_findings_remediation_action_on_the_asset(round_, duty, client_of):
    _submitted_with_a_finding(round_, duty)
    where = {"asset": "SW-01", "check": "power_supplies"}
    offer = client_of(duty).get(f"/api/v1/inspections/{round_.pk}/remediation/", where)
    assert offer.status_code == 200, offer.content
    assert "SW-01" in offer.json()["title"] and offer.json()["owner"] == duty.username
    added = client_of(duty).post(f"/api/v1/inspections/{round_.pk}/remediation/", where, format="json")
    assert added.status_code == 201, added.content
    body = added.json()
    assert (body["asset"], body["incident"], body["status"], body["owner"]) == ("SW-01", None, "open", duty.username)
    assert Result.objects.get(asset__tag="SW-01", check_key="power_supplies").remediation_action_id == body["id"]
    listed = client_of(duty).get("/api/v1/actions/", {"asset": "SW-01"}).json()["results"]
    assert [a["id"] for a in listed] == [body["id"]]


@pytest.mark.django_db
@pytest.mark.parametrize("change, field", [
    ({"owner": "ghost"}, "owner"),
    ({"due_at": "2000-01-01T00:00:00Z"}, "due_at"),
    ({"check": "port_lights"}, "check"),  # answered OK: nothing to put right
    ({"check": "no-such-check"}, "check"),
])
def test_a_bad_remediation_request_answers_400_naming_the_field_and_writes_nothing(
        round_, duty, client_of, change, field):
    from reviews.models import Action

    _submitted_with_a_finding(round_, duty)
    answer = client_of(duty).post(f"/api/v1/inspections/{round_.pk}/remediation/",
                                  {"asset": "SW-01", "check": "power_supplies", **change}, format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json(), answer.json()
    assert not Action.objects.exists()


@pytest.mark.django_db
def test_a_finding_that_already_has_an_action_answers_400(round_, duty, client_of):
    _submitted_with_a_finding(round_, duty)
    url, where = f"/api/v1/inspections/{round_.pk}/remediation/", {"asset": "SW-01", "check": "power_supplies"}
    assert client_of(duty).post(url, where, format="json").status_code == 201
    again = client_of(duty).post(url, where, format="json")
    assert again.status_code == 400 and "check" in again.json()


@pytest.mark.django_db
def test_the_finding_page_offers_the_prefilled_remediation_action_and_adds_it(round_, duty, client):
    from reviews.models import Action

    _submitted_with_a_finding(round_, duty)
    result = Result.objects.get(asset__tag="SW-01", check_key="power_supplies")
    client.force_login(duty)
    page = client.get(f"/inspections/findings/{result.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert page.status_code == 200 and "data-remediation" in text and "data-follow-up" not in text
    due = (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    posted = client.post(f"/inspections/findings/{result.pk}/", {
        "do": "remediation", "action_title": "Replace PSU 2", "action_owner": duty.username, "action_due_at": due})
    assert posted.status_code == 302
    action = Action.objects.get()
    assert (action.title, action.asset.tag, action.incident_id) == ("Replace PSU 2", "SW-01", None)
    shown = client.get(f"/inspections/findings/{result.pk}/").content.decode()
    assert "data-finding-remediation" in shown and "Replace PSU 2" in shown
