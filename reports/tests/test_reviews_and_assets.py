"""Review and remediation figures, and the asset filter, on a hand-built November with the values worked out here.

Reviews (each counted by its own dates):
  of A (system/yellow, resolved 11-02 12:00): drafted 11-02 12:00, submitted 11-03, approved 11-04 12:00 → 48 h
  of C (network/orange):                       drafted and submitted in November, not approved
  of F (October's fault, resolved 10-20 10:00:50): approved 11-03 10:00:50 → 14 days, counted in November
  of E (a drill): drafted and approved in November, left out
Remediation actions:
  x1 of A  opened 11-02 13:00, done 11-05 13:00 (3 days)
  x2 of A  opened 11-03, carried over 11-25
  x3 of F  opened 10-21, due 11-01, still open: overdue now
  x4 of C  opened 11-04, due in 2099, open
  x5 of the switch SW-01 alone (no incident): opened 11-10, due 11-12, open: overdue now
  x6 of E  (a drill) opened and done in November: left out
  x7 of F  opened 10-22, done 11-02 (11 days): counted as done in November
C's device at fault is SW-01.
"""

from datetime import datetime

import pytest

from assets.models import Asset
from reports.filters import parse_filter
from reports.selectors import summary
from reviews.models import Action, ActionStatus, Review, ReviewStatus

from .build import at, incident

pytestmark = pytest.mark.django_db

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}
DAY = 86400


def figures(**params):
    return summary(parse_filter({**NOVEMBER, **params}))


@pytest.fixture
def switch(db):
    return Asset.objects.create(tag="SW-01", name="Core switch", kind="switch", category="network", core=True)


@pytest.fixture
def november(minimal_plan_version, make_person, switch):
    v = minimal_plan_version
    owner = make_person("tech_group")
    a = incident(v, opened=at("2026-11-02 10:00"), ack=60, resolved=7200)
    c = incident(v, category="network", level="orange", opened=at("2026-11-04 10:00"), ack=300, resolved=900)
    c.asset = switch
    c.save(update_fields=["asset"])
    e = incident(v, level="red", opened=at("2026-11-06 10:00"), ack=10, resolved=20, drill=True)
    f = incident(v, opened=at("2026-10-20 10:00"), ack=5, resolved=50)

    def review(inc, drafted, submitted=None, approved=None):
        status = ReviewStatus.APPROVED if approved else (ReviewStatus.SUBMITTED if submitted else ReviewStatus.DRAFT)
        Review.objects.create(incident=inc, status=status, drafted_at=at(drafted),
                              submitted_at=submitted and at(submitted), approved_at=approved and at(approved))

    review(a, "2026-11-02 12:00", "2026-11-03 12:00", "2026-11-04 12:00")
    review(c, "2026-11-04 10:15", "2026-11-05 10:15")
    review(f, "2026-10-20 11:00", "2026-10-25 11:00", "2026-11-03 10:00:50")
    review(e, "2026-11-06 11:00", "2026-11-06 12:00", "2026-11-07 12:00")

    def action(inc, opened, due, status=ActionStatus.OPEN, closed=None, asset=None):
        Action.objects.create(incident=inc, asset=asset, title="fix", owner=owner, created_at=at(opened),
                              due_at=at(due), status=status, closed_at=closed and at(closed),
                              evidence="done" if status == ActionStatus.DONE else "",
                              carry_over_reason="next budget" if status == ActionStatus.CARRIED_OVER else "")

    action(a, "2026-11-02 13:00", "2026-11-10 00:00", ActionStatus.DONE, "2026-11-05 13:00")
    action(a, "2026-11-03 09:00", "2026-11-20 00:00", ActionStatus.CARRIED_OVER, "2026-11-25 09:00")
    action(f, "2026-10-21 09:00", "2026-11-01 09:00")
    action(c, "2026-11-04 11:00", "2099-01-01 00:00")
    action(None, "2026-11-10 09:00", "2026-11-12 09:00", asset=switch)
    action(e, "2026-11-06 13:00", "2026-11-20 00:00", ActionStatus.DONE, "2026-11-07 13:00")
    action(f, "2026-10-22 09:00", "2026-11-30 00:00", ActionStatus.DONE, "2026-11-02 09:00")
    return {"a": a, "c": c, "e": e, "f": f}


def test_reviews_are_counted_by_their_own_dates_with_the_time_from_resolution_to_approval(november):
    reviews = figures()["reviews"]

    # Approved: A after 2 days (172,800 s), F after 14 days (1,209,600 s): median halfway, 691,200;
    # p90 at rank 0.9 → 172,800 + 0.9 × 1,036,800 = 1,105,920.
    assert reviews == {"drafted": 2, "submitted": 2, "approved": 2,
                       "approval_s": {"count": 2, "mean": 691200.0, "median": 691200.0, "p90": 1105920.0}}


def test_remediation_actions_are_counted_by_their_own_dates_and_overdue_ones_as_they_stand_now(november):
    actions = figures()["remediation"]

    # Done: x1 after 3 days (259,200 s), x7 after 11 days (950,400 s): median 604,800;
    # p90 259,200 + 0.9 × 691,200 = 881,280. Overdue now: x3 and the switch's own x5.
    assert actions == {"opened": 4, "done": 2, "carried_over": 1, "overdue": 2,
                       "close_s": {"count": 2, "mean": 604800.0, "median": 604800.0, "p90": 881280.0}}


def test_an_incident_filter_counts_only_actions_of_such_incidents_never_an_assets_own(november):
    network = figures(category="network")

    assert (network["reviews"]["drafted"], network["reviews"]["approved"]) == (1, 0)
    assert network["remediation"] == {"opened": 1, "done": 0, "carried_over": 0, "overdue": 0,
                                      "close_s": {"count": 0, "mean": None, "median": None, "p90": None}}
    drills = figures(drill="true")["remediation"]
    assert (drills["opened"], drills["done"], drills["overdue"]) == (1, 1, 0)


def test_the_asset_filter_keeps_the_incidents_it_was_at_fault_in_and_its_actions(november):
    result = figures(asset="SW-01")

    assert result["incidents"] == 1
    assert result["filters"]["asset"] == "SW-01"
    assert result["mtta_s"]["median"] == 300
    assert result["reviews"]["drafted"] == 1
    # C's own action and the switch's own one (overdue).
    assert (result["remediation"]["opened"], result["remediation"]["overdue"]) == (2, 1)


def test_an_unknown_asset_tag_is_a_400_naming_the_parameter(november, make_person, api_client_for, client):
    api = api_client_for(make_person("office", language="en"))

    response = api.get("/api/v1/reports/summary/", {**NOVEMBER, "asset": "NO-SUCH-TAG"})

    assert response.status_code == 400
    assert list(response.json()) == ["asset"] and "NO-SUCH-TAG" in response.json()["asset"][0]
    assert api.get("/api/v1/reports/summary/", {**NOVEMBER, "asset": "SW-01"}).json()["incidents"] == 1
    client.force_login(make_person("office", language="en"))
    assert client.get("/reports/", {**NOVEMBER, "asset": "NO-SUCH-TAG"}).status_code == 400
    assert client.get("/reports/by_month.csv", {**NOVEMBER, "asset": "NO-SUCH-TAG"}).status_code == 400
    csv = client.get("/reports/reviews.csv", {**NOVEMBER, "asset": "SW-01"}).content.decode("utf-8-sig")
    assert csv.splitlines()[0] == "Measure,Count,Median (h),p90 (h)"
    assert "Remediation actions opened,2,," in csv
    page = client.get("/reports/", {**NOVEMBER, "asset": "SW-01"}).content.decode()
    assert 'value="SW-01"' in page and "Reviews and remediation" in page


def test_the_review_figures_are_there_in_an_empty_period(db):
    result = summary(parse_filter({"from": "2026-01-01", "to": "2026-01-31"}))

    assert result["reviews"]["approved"] == 0 and result["remediation"]["close_s"]["median"] is None
    assert isinstance(datetime.fromisoformat(result["as_of"]), datetime)
