"""The reports page and its CSV downloads, without a browser: the numbers, the 400s, the language."""

import csv
import io

import pytest

from escalation.models import Kind, State

from .build import at, deadline, incident

pytestmark = pytest.mark.django_db

NOVEMBER = "?from=2026-11-01&to=2026-11-30"


@pytest.fixture
def office(client, shipped_plan, make_person):
    a = incident(shipped_plan, opened=at("2026-11-02 10:00"), ack=120, resolved=3600)
    deadline(a, kind=Kind.ON_SITE, state=State.MET, role="ops_supervisor", due=3600, acted=900)
    b = incident(shipped_plan, level="red", opened=at("2026-11-05 10:00"), ack=240, recovered=1200, resolved=1800)
    deadline(b, kind=Kind.ON_SITE, state=State.MISSED, role="ops_supervisor", due=1800)
    client.force_login(make_person("office", language="en"))
    return client


def test_the_page_shows_the_summary_tiles_and_a_table_per_chart(office):
    response = office.get(f"/reports/{NOVEMBER}")

    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-figure="incidents">2<' in text
    assert "3.0 min" in text  # median of 120 s and 240 s
    assert "50.0 %" in text  # one on-site deadline of two kept
    assert text.count('class="report-table"') == 11  # ten charts of incidents, and reviews and remediation
    assert "/reports/by_month.csv?from=2026-11-01&amp;to=2026-11-30" in text


def test_a_chart_downloads_as_csv_with_the_same_numbers(office):
    response = office.get(f"/reports/by_category_level.csv{NOVEMBER}")

    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Category", "Most severe (level 1)", "Severe (level 2)", "Serious (level 3)",
                       "General (level 4)", "Total"]
    assert rows[1] == ["System", "1", "0", "1", "0", "2"]


def test_the_page_and_the_csv_refuse_bad_input_naming_the_parameter(office):
    page = office.get("/reports/?from=2026-12-01&to=2026-11-01&level=purple")
    assert page.status_code == 400
    assert "from:" in page.content.decode() and "level:" in page.content.decode()
    download = office.get("/reports/by_month.csv?drill=maybe")
    assert download.status_code == 400 and download.content.decode().startswith("drill:")
    assert office.get("/reports/nothing.csv").status_code == 404


def test_the_page_reads_in_chinese(client, shipped_plan, make_person):
    client.force_login(make_person("leadership", language="zh-hans"))
    text = client.get(f"/reports/{NOVEMBER}").content.decode()

    assert "统计报表" in text and "按月统计事件" in text and "此期间暂无事件" in text


def test_a_person_with_no_role_gets_the_no_access_page(client, shipped_plan, make_person):
    client.force_login(make_person())

    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/by_month.csv").status_code == 403
