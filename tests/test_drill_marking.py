"""A drill is never mistaken for a real outage: the dashboard's counts, its alarm, its rows and the lists (issue 18)."""

import pytest

from dashboard.selectors import Filters, alarm_events, open_incidents, plan_choices
from incidents import services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quiet(settings):
    settings.ESCALATION_ETA_TASKS = False
    settings.NOTIFICATIONS_KICK_ON_COMMIT = False


@pytest.fixture
def office(shipped_plan, make_person):
    return make_person("office", username="office", language="en")


def test_the_dashboards_counts_of_real_incidents_leave_drills_out(office, client):
    services.log_fault(reporter=office, category="system", level="yellow", title="Real one")
    services.log_fault(reporter=office, category="network", level="red", title="Exercise", is_drill=True)
    groups, counts, shown = open_incidents(Filters())
    assert counts == {"yellow": 1}
    assert len(shown) == 2  # the drill is still on the board, striped, counted apart
    client.force_login(office)
    page = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1 open incident" in page and "1 drill running" in page
    assert 'class="drill-row"' in page


def test_a_drills_alarm_events_say_so_and_the_setting_reaches_the_alarm_script(office, client, settings):
    settings.DRILLS_ALARM = "none"
    real = services.log_fault(reporter=office, category="system", level="yellow", title="Real one")
    drill = services.log_fault(reporter=office, category="network", level="red", title="Exercise", is_drill=True)
    levels, _categories = plan_choices()
    events = {e["level"]: e for e in alarm_events([real.pk, drill.pk], levels=levels)}
    assert events["red"]["drill"] is True and events["yellow"]["drill"] is False
    client.force_login(office)
    page = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-drill-alarm="none"' in page
    assert 'data-level="red" data-rank="1"' in page and 'data-drill="1"' in page


def test_every_incident_list_filters_drills(office, client, api_client_for):
    services.log_fault(reporter=office, category="system", level="yellow", title="Real one")
    services.log_fault(reporter=office, category="network", level="red", title="Exercise", is_drill=True)
    client.force_login(office)
    real_only = client.get("/incidents/?drill=false", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Real one" in real_only and "Exercise" not in real_only
    drills_only = client.get("/incidents/?drill=true", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Exercise" in drills_only and "Real one" not in drills_only and "drill-row" in drills_only
    assert 'name="drill"' in drills_only
    api = api_client_for(office)
    assert [i["title"] for i in api.get("/api/v1/incidents/?drill=false").json()["results"]] == ["Real one"]
