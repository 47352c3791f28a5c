"""The summary API: the figures for a period and filter; bad input is a 400 naming the parameter."""

from datetime import timedelta

import pytest

from .build import at, incident

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/summary/"


@pytest.fixture
def office_client(minimal_plan_version, make_person, api_client_for):
    return api_client_for(make_person("office", language="en"))


def test_the_summary_answers_the_figures_the_interface_names(office_client, minimal_plan_version):
    incident(minimal_plan_version, opened=at("2026-11-02 10:00"), ack=60, resolved=600)
    incident(minimal_plan_version, opened=at("2026-11-03 10:00"), ack=180, resolved=1200, drill=True)

    response = office_client.get(URL, {"from": "2026-11-01", "to": "2026-11-30"})

    assert response.status_code == 200
    body = response.json()
    assert body["incidents"] == 1
    assert body["mtta_s"]["median"] == 60 and body["mttr_s"]["p90"] == 600
    assert set(body["deadline_compliance"]) >= {"by_role", "by_kind", "by_cell"}
    assert body["by_month"][0]["month"] == "2026-11"
    assert office_client.get(URL, {"from": "2026-11-01", "to": "2026-11-30", "drill": "true"}).json()[
        "mtta_s"]["median"] == 180


@pytest.mark.parametrize(("params", "field"), [
    ({"from": "2026-11-30", "to": "2026-11-01"}, "from"),
    ({"from": "2026-02-30"}, "from"),
    ({"to": "yesterday"}, "to"),
    ({"level": "purple"}, "level"),
    ({"category": "power"}, "category"),
    ({"source": "fax"}, "source"),
    ({"system": "mainframe"}, "system"),
    ({"drill": "maybe"}, "drill"),
    ({"to": "9999-12-31"}, "to"),
    ({"from": "0001-01-01"}, "from"),
    ({"from": "2026-11-01T25:00"}, "from"),
])
def test_bad_input_is_a_400_naming_the_parameter(office_client, params, field):
    response = office_client.get(URL, params)

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert response.json()[field][0]


def test_a_period_starting_after_it_ends_says_so(office_client):
    response = office_client.get(URL, {"from": "2026-12-01", "to": "2026-11-01"})

    assert "“from” must be on or before “to”" in response.json()["from"][0]


def test_a_person_with_no_role_in_the_plan_reads_no_figures(minimal_plan_version, make_person, api_client_for):
    assert api_client_for(make_person()).get(URL).status_code == 403


def test_a_repeated_summary_is_answered_from_the_cache_and_a_change_shows_within_a_minute(
        office_client, minimal_plan_version):
    import time_machine
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from incidents.models import TimelineEntry, TimelineKind

    params = {"from": "2026-11-01", "to": "2026-11-30"}
    now = timezone.now()
    incident(minimal_plan_version, opened=at("2026-11-02 10:00"), ack=60)
    with time_machine.travel(now, tick=False):
        assert office_client.get(URL, params).json()["mtta_s"]["median"] == 60
    with CaptureQueriesContext(connection) as again, time_machine.travel(now + timedelta(minutes=5), tick=False):
        assert office_client.get(URL, params).json()["incidents"] == 1  # nothing changed: still the cached figures
    computing = [q for q in again.captured_queries if "percentile" in q["sql"] or "COUNT(" in q["sql"]]
    assert computing == []  # only the stamp (and the token's own queries)

    # A change to an incident writes its timeline row: figures older than a minute are computed again.
    later = incident(minimal_plan_version, opened=at("2026-11-03 10:00"), ack=180)
    TimelineEntry.objects.create(incident=later, at=later.opened_at, kind=TimelineKind.OPENED, detail={})
    with time_machine.travel(now + timedelta(seconds=30), tick=False):
        assert office_client.get(URL, params).json()["incidents"] == 1  # fresh enough: served as they are
    with time_machine.travel(now + timedelta(seconds=61), tick=False):
        assert office_client.get(URL, params).json()["incidents"] == 2


def test_beat_keeps_the_default_view_computed_so_the_page_finds_it_ready(office_client, minimal_plan_version):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.tasks import warm_default_report

    incident(minimal_plan_version, opened=timezone_now_minus(hours=1), ack=60)
    warm_default_report()
    with CaptureQueriesContext(connection) as reading:
        body = office_client.get(URL).json()

    assert body["incidents"] == 1 and body["mtta_s"]["median"] == 60
    assert [q for q in reading.captured_queries if "percentile" in q["sql"] or "COUNT(" in q["sql"]] == []


def timezone_now_minus(**delta):
    from django.utils import timezone

    return timezone.now() - timedelta(**delta)
