"""An incident may name the device at fault (issue 17): the log-fault API and form take its asset tag."""

import pytest

from assets.models import Asset
from incidents.models import Incident


@pytest.fixture
def asset(db):
    return Asset.objects.create(tag="SRV-07", name="Credit DB standby", kind="server", category="equipment",
                                core=True, room="A101", rack="R3")


@pytest.mark.django_db
def test_the_api_logs_a_fault_on_an_asset_and_answers_its_tag(shipped_plan, make_person, api_client_for, asset):
    client = api_client_for(make_person("duty_staff"))
    answer = client.post("/api/v1/incidents/", {"title": "Disk light amber", "category": "equipment",
                                                "level": "yellow", "asset": "SRV-07"}, format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["asset"] == "SRV-07"
    assert Incident.objects.get().asset == asset


@pytest.mark.django_db
def test_an_unknown_asset_tag_is_named_and_nothing_is_opened(shipped_plan, make_person, api_client_for):
    client = api_client_for(make_person("duty_staff"))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    answer = client.post("/api/v1/incidents/", {"title": "x", "category": "equipment", "level": "blue",
                                                "asset": "NOPE"}, format="json")
    assert answer.status_code == 400
    assert "NOPE" in answer.json()["asset"][0]
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_the_form_takes_the_asset_and_the_incident_page_shows_it(shipped_plan, make_person, client, asset):
    client.force_login(make_person("duty_staff"))
    form = client.get("/incidents/new/?category=equipment&level=yellow&asset=SRV-07")
    assert 'value="SRV-07"' in form.content.decode()
    answer = client.post("/incidents/new/", {"category": "equipment", "level": "yellow", "title": "Fan noise",
                                             "asset": "SRV-07"})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    page = client.get(answer["Location"]).content.decode()
    assert "SRV-07 Credit DB standby" in page
