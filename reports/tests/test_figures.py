"""Each figure of the report on a hand-built November, with the expected values worked out here.

November 2026 (Asia/Shanghai), incidents the figures count:
  A system/yellow  opened 11-02 10:00, ack +60 s,  recovered +3600 s, resolved +7200 s
  B system/yellow  opened 11-03 10:00, ack +120 s, never marked recovered, resolved +1800 s
  C network/orange opened 11-04 10:00, ack +300 s, recovered +600 s,  resolved +900 s
  D system/blue    opened 11-05 10:00, still open, never acknowledged
and two they must not: E, a red drill in November (ack +10 s), and F, a yellow fault of October (ack +5 s).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalation.models import Kind, State
from notifications.models import DeliveryStatus
from reports.filters import parse_filter
from reports.selectors import summary

from .build import alerts, at, deadline, incident, level_change, notification

pytestmark = pytest.mark.django_db

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture
def november(minimal_plan_version):
    v = minimal_plan_version
    a = incident(v, opened=at("2026-11-02 10:00"), ack=60, recovered=3600, resolved=7200)
    b = incident(v, opened=at("2026-11-03 10:00"), ack=120, resolved=1800)
    c = incident(v, category="network", level="orange", opened=at("2026-11-04 10:00"), ack=300, recovered=600,
                 resolved=900, source="alertmanager")
    d = incident(v, level="blue", opened=at("2026-11-05 10:00"))
    e = incident(v, level="red", opened=at("2026-11-06 10:00"), ack=10, resolved=20, drill=True)
    f = incident(v, opened=at("2026-10-20 10:00"), ack=5, resolved=50)
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f}


def figures(**params):
    return summary(parse_filter({**NOVEMBER, **params}))


def test_incidents_are_counted_by_category_and_level_and_by_month_without_drills(november):
    result = figures()

    assert result["incidents"] == 4
    assert result["by_category_level"] == [
        {"category": "network", "level": "orange", "count": 1},
        {"category": "system", "level": "blue", "count": 1},
        {"category": "system", "level": "yellow", "count": 2},
    ]
    assert result["by_month"] == [{"month": "2026-11", "count": 4,
                                   "by_level": {"blue": 1, "yellow": 2, "orange": 1, "red": 0}}]


def test_drills_are_counted_only_when_asked_for(november):
    assert figures(drill="true")["incidents"] == 1
    assert figures(drill="all")["incidents"] == 5
    assert figures(drill="all")["by_month"][0]["by_level"]["red"] == 1


def test_every_month_of_the_period_has_a_bar_even_an_empty_one(november):
    result = summary(parse_filter({"from": "2026-09-01", "to": "2026-11-30"}))

    assert [(m["month"], m["count"]) for m in result["by_month"]] == [("2026-09", 0), ("2026-10", 1), ("2026-11", 4)]


def test_a_month_is_the_offices_calendar_month_not_utcs(minimal_plan_version):
    # 23:30 on 30 November in Shanghai is 15:30 UTC; 00:30 on 1 December is still 30 November in UTC.
    incident(minimal_plan_version, opened=at("2026-11-30 23:30"))
    incident(minimal_plan_version, opened=at("2026-12-01 00:30"))

    result = summary(parse_filter({"from": "2026-11-01", "to": "2026-12-31"}))

    assert [(m["month"], m["count"]) for m in result["by_month"]] == [("2026-11", 1), ("2026-12", 1)]
    assert figures()["incidents"] == 1


def test_filters_narrow_every_figure_to_the_incidents_they_name(november):
    assert figures(category="network")["incidents"] == 1
    assert figures(level="yellow")["incidents"] == 2
    assert figures(source="alertmanager")["mtta_s"]["median"] == 300
    assert figures(category="system", level="blue")["mtta_s"]["count"] == 0


def test_time_to_acknowledge_has_its_median_and_p90(november):
    # 60, 120, 300 (D never acknowledged): median 120; p90 at rank 0.9 × 2 = 1.8 → 120 + 0.8 × 180 = 264.
    assert figures()["mtta_s"] == {"count": 3, "mean": 160.0, "median": 120.0, "p90": 264.0}


def test_time_to_recover_counts_a_fault_resolved_without_a_recovery_mark_as_recovered_then(november):
    # A 3600, B 1800 (its resolution), C 600 → 600, 1800, 3600: median 1800, p90 1800 + 0.8 × 1800 = 3240.
    assert figures()["mttr_s"] == {"count": 3, "mean": 2000.0, "median": 1800.0, "p90": 3240.0}


def test_time_to_resolve_has_its_median_and_p90(november):
    # 900, 1800, 7200: median 1800, p90 1800 + 0.8 × 5400 = 6120.
    assert figures()["mttr_resolved_s"] == {"count": 3, "mean": 3300.0, "median": 1800.0, "p90": 6120.0}


def test_an_even_count_has_the_median_between_its_two_middle_values(minimal_plan_version):
    for seconds in (10, 20, 30, 100):
        incident(minimal_plan_version, opened=at("2026-11-10 09:00"), ack=seconds)

    # median at rank 1.5 → 20 + 0.5 × 10 = 25; p90 at rank 2.7 → 30 + 0.7 × 70 = 79.
    assert figures()["mtta_s"] == {"count": 4, "mean": 40.0, "median": 25.0, "p90": 79.0}


@pytest.fixture
def deadlines(november):
    a, b, c, d, e = (november[k] for k in "abcde")
    hour = 3600
    deadline(a, kind=Kind.ON_SITE, state=State.MET, role="tech_group", due=hour, acted=1200)
    deadline(a, kind=Kind.REPORT, state=State.MET, role="office", to_role="leadership", due=0, acted=0)
    deadline(a, kind=Kind.ESCALATION, state=State.CANCELLED, due=2 * hour, acted=hour)  # resolved in time: kept
    deadline(b, kind=Kind.ON_SITE, state=State.MISSED, role="tech_group", due=hour)
    deadline(b, kind=Kind.ESCALATION, state=State.CANCELLED, due=2 * hour, acted=1800)  # kept
    deadline(c, kind=Kind.ON_SITE, state=State.MET, role="office", due=hour, acted=1800)
    deadline(c, kind=Kind.APPROVAL, state=State.MISSED, role="leadership", due=1800)
    deadline(c, kind=Kind.ESCALATION, state=State.FIRED, due=hour)  # the time ran out: not kept
    # Not decided, so not counted: pending, an on-site duty ended by the incident, a condition that did not hold.
    deadline(d, kind=Kind.ON_SITE, state=State.PENDING, role="tech_group", due=hour)
    deadline(d, kind=Kind.ON_SITE, state=State.CANCELLED, role="office", due=hour, acted=60)
    deadline(d, kind=Kind.ESCALATION, state=State.CONDITION_NOT_MET, due=4 * hour)
    deadline(e, kind=Kind.ON_SITE, state=State.MISSED, role="tech_group", due=hour)  # a drill
    return november


def test_deadline_compliance_is_the_share_kept_by_kind(deadlines):
    compliance = figures()["deadline_compliance"]

    assert compliance["by_kind"] == {"approval": 0.0, "escalation": 0.6667, "on_site": 0.6667, "report": 1.0}
    assert compliance["counts"]["by_kind"] == {
        "approval": {"met": 0, "total": 1, "share": 0.0},
        "escalation": {"met": 2, "total": 3, "share": 0.6667},
        "on_site": {"met": 2, "total": 3, "share": 0.6667},
        "report": {"met": 1, "total": 1, "share": 1.0},
    }


def test_deadline_compliance_by_role_and_by_plan_cell(deadlines):
    compliance = figures()["deadline_compliance"]

    assert compliance["by_role"] == {"leadership": 0.0, "office": 1.0, "tech_group": 0.5}
    assert compliance["by_cell"] == {"network:orange": 0.3333, "system:yellow": 0.8}
    assert compliance["counts"]["by_role"] == {
        "leadership": {"met": 0, "total": 1, "share": 0.0},
        "office": {"met": 2, "total": 2, "share": 1.0},
        "tech_group": {"met": 1, "total": 2, "share": 0.5},
    }
    assert compliance["counts"]["by_cell"] == {
        "network:orange": {"met": 1, "total": 3, "share": 0.3333},
        "system:yellow": {"met": 4, "total": 5, "share": 0.8},
    }
    assert (compliance["met"], compliance["total"], compliance["share"]) == (5, 8, 0.625)


def test_time_to_arrive_on_site_is_per_role_from_the_start_of_the_levels_response(deadlines):
    by_role = figures()["on_site_s"]["by_role"]

    assert by_role == {"office": {"count": 1, "mean": 1800.0, "median": 1800.0, "p90": 1800.0},
                       "tech_group": {"count": 1, "mean": 1200.0, "median": 1200.0, "p90": 1200.0}}


def test_escalations_are_level_rises_counted_by_cause(november):
    b, c, d, e = (november[k] for k in "bcde")
    level_change(c, frm="blue", to="yellow", cause="alert")
    level_change(c, frm="yellow", to="orange", cause="plan", after=120)
    level_change(b, frm="blue", to="yellow", cause="person")
    level_change(b, frm="yellow", to="blue", cause="person", after=120)  # lowered: not an escalation
    level_change(d, frm="blue", to="yellow", cause="condition")
    level_change(e, frm="orange", to="red", cause="plan")  # a drill

    assert figures()["escalations_by_cause"] == {"plan": 1, "alert": 1, "person": 1, "condition": 1}


def test_top_alerting_sources_are_ranked_by_alerts(november):
    alerts(november["a"], "zabbix", 3)
    alerts(november["c"], "zabbix", 1)
    alerts(november["c"], "prometheus", 2)
    alerts(november["e"], "prometheus", 5)  # a drill

    assert figures()["top_sources"] == [{"source": "zabbix", "alerts": 4, "incidents": 2},
                                        {"source": "prometheus", "alerts": 2, "incidents": 1}]


def test_notification_delivery_success_and_acknowledgement_time_per_channel(november):
    sent, failed, coalesced = DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.COALESCED
    notification(november["a"], ack=30, deliveries={"email": sent, "sms": failed})
    notification(november["b"], ack=90, deliveries={"email": sent, "dingtalk": coalesced})
    notification(november["c"], ack=None, deliveries={"email": failed, "wecom": DeliveryStatus.PENDING})
    notification(november["e"], ack=5, deliveries={"email": failed})  # a drill

    by_channel = figures()["notifications"]["by_channel"]

    assert by_channel["email"] == {"delivered": 2, "failed": 1, "success": 0.6667,
                                   "ack_s": {"count": 2, "mean": 60.0, "median": 60.0, "p90": 84.0}}
    assert by_channel["sms"] == {"delivered": 0, "failed": 1, "success": 0.0,
                                 "ack_s": {"count": 0, "mean": None, "median": None, "p90": None}}
    assert by_channel["dingtalk"]["success"] == 1.0
    assert by_channel["dingtalk"]["ack_s"]["median"] == 90.0
    assert "wecom" not in by_channel  # still pending: neither delivered nor failed


def test_the_summary_takes_the_same_number_of_queries_for_one_incident_or_many(deadlines, minimal_plan_version):
    with CaptureQueriesContext(connection) as few:
        figures()
    for day in range(10, 20):
        inc = incident(minimal_plan_version, opened=at(f"2026-11-{day} 08:00"), ack=day, resolved=day * 10)
        deadline(inc, kind=Kind.ON_SITE, state=State.MET, role="tech_group", due=3600, acted=day)
        alerts(inc, f"source-{day}", 1)
        notification(inc, ack=day, deliveries={"email": DeliveryStatus.SENT})
    with CaptureQueriesContext(connection) as many:
        figures()

    assert len(many) == len(few) <= 11


def test_an_empty_period_has_empty_figures_not_an_error(db):
    result = figures()

    assert result["incidents"] == 0
    assert result["mtta_s"] == {"count": 0, "mean": None, "median": None, "p90": None}
    assert result["deadline_compliance"]["share"] is None
    assert result["by_month"] == [{"month": "2026-11", "count": 0,
                                   "by_level": {"blue": 0, "yellow": 0, "orange": 0, "red": 0}}]
