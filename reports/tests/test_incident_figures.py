"""The figures rows (reports/figures.py): written at resolution and by the backfill, and a report over them is
the report over the history they were computed from."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalation.models import Kind, State
from incidents.services import acknowledge, resolve
from notifications.models import DeliveryStatus
from reports.figures import figures_refresh, figures_write
from reports.filters import parse_filter
from reports.models import DeadlineFigure, DeliveryFigure, IncidentFigures, SourceFigure
from reports.selectors import summary

from .build import alerts, at, deadline, incident, level_change, notification

pytestmark = pytest.mark.django_db

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


def figures(**params):
    result = summary(parse_filter({**NOVEMBER, **params}))
    result.pop("as_of")
    return result


@pytest.fixture
def history(minimal_plan_version):
    """test_figures.py's November, with a deadline, a level rise, alerts and a notification on each."""
    v = minimal_plan_version
    a = incident(v, opened=at("2026-11-02 10:00"), ack=60, recovered=3600, resolved=7200)
    b = incident(v, opened=at("2026-11-03 10:00"), ack=120, resolved=1800)
    c = incident(v, category="network", level="orange", opened=at("2026-11-04 10:00"), ack=300, recovered=600,
                 resolved=900, source="alertmanager")
    d = incident(v, level="blue", opened=at("2026-11-05 10:00"))  # still open: read live
    e = incident(v, level="red", opened=at("2026-11-06 10:00"), ack=10, resolved=20, drill=True)
    deadline(a, kind=Kind.ON_SITE, state=State.MET, role="tech_group", due=3600, acted=1200)
    deadline(a, kind=Kind.ESCALATION, state=State.CANCELLED, due=7200, acted=3600)
    deadline(b, kind=Kind.ON_SITE, state=State.MISSED, role="tech_group", due=3600)
    deadline(c, kind=Kind.ON_SITE, state=State.MET, role="office", due=3600, acted=1800)
    deadline(c, kind=Kind.ESCALATION, state=State.FIRED, due=3600)
    deadline(d, kind=Kind.ON_SITE, state=State.MET, role="tech_group", due=3600, acted=600)
    deadline(e, kind=Kind.ON_SITE, state=State.MISSED, role="tech_group", due=3600)
    level_change(c, frm="yellow", to="orange", cause="plan")
    level_change(b, frm="blue", to="yellow", cause="person")
    level_change(d, frm="blue", to="yellow", cause="condition")
    alerts(a, "zabbix", 3)
    alerts(c, "zabbix", 1)
    alerts(d, "prometheus", 2)
    notification(a, ack=30, deliveries={"email": DeliveryStatus.SENT, "sms": DeliveryStatus.FAILED})
    notification(b, ack=90, deliveries={"email": DeliveryStatus.SENT})
    notification(d, ack=45, deliveries={"email": DeliveryStatus.SENT})
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def test_the_backfill_writes_one_row_per_resolved_incident_and_the_report_is_unchanged(history):
    live = {key: figures(**params) for key, params in
            (("real", {}), ("all", {"drill": "all"}), ("network", {"category": "network"}))}

    call_command("report_figures")

    # a, b, c and the drill e are resolved; d is open and keeps no row.
    assert set(IncidentFigures.objects.values_list("incident_id", flat=True)) == {
        history[k].pk for k in "abce"}
    row = IncidentFigures.objects.get(incident=history["a"])
    # SQLite's julianday() is a float of days: a few microseconds off, as the live reading is (both round).
    assert (row.mtta_s, row.mttr_s, row.mttr_resolved_s) == pytest.approx((60, 3600, 7200), abs=1e-3)
    assert (row.category_key, row.level_key) == ("system", "yellow")
    assert IncidentFigures.objects.get(incident=history["c"]).escalations_plan == 1
    assert DeadlineFigure.objects.filter(figures_id=history["a"].pk, kind="on_site").get().arrival_s == pytest.approx(
        1200, abs=1e-3)
    assert DeliveryFigure.objects.filter(figures_id=history["a"].pk).count() == 2
    assert SourceFigure.objects.get(figures_id=history["a"].pk).alerts == 3
    assert {key: figures(**params) for key, params in
            (("real", {}), ("all", {"drill": "all"}), ("network", {"category": "network"}))} == live
    # Spot checks that the rows are read, and the open incident live beside them.
    assert live["real"]["on_site_s"]["by_role"]["tech_group"]["count"] == 2  # a's 1200 s (row), d's 600 s (live)
    assert live["real"]["escalations_by_cause"] == {"plan": 1, "alert": 0, "person": 1, "condition": 1}
    assert live["real"]["top_sources"] == [{"source": "zabbix", "alerts": 4, "incidents": 2},
                                           {"source": "prometheus", "alerts": 2, "incidents": 1}]


def test_the_backfill_writes_only_what_is_missing_unless_asked_for_all(history):
    call_command("report_figures")
    before = IncidentFigures.objects.get(incident=history["a"]).written_at

    call_command("report_figures")
    assert IncidentFigures.objects.get(incident=history["a"]).written_at == before

    call_command("report_figures", "--all")
    assert IncidentFigures.objects.get(incident=history["a"]).written_at > before
    assert IncidentFigures.objects.count() == 4


def test_writing_twice_gives_the_same_rows_not_twice_the_rows(history):
    figures_write(incident_ids=[history["a"].pk])
    figures_write(incident_ids=[history["a"].pk])

    assert DeadlineFigure.objects.filter(figures_id=history["a"].pk).count() == 2
    assert SourceFigure.objects.filter(figures_id=history["a"].pk).count() == 1


def test_the_summary_over_rows_takes_as_many_queries_as_over_the_history(history):
    with CaptureQueriesContext(connection) as live:
        figures()
    call_command("report_figures")
    with CaptureQueriesContext(connection) as rows:
        figures()

    assert len(rows) == len(live) <= 12


def test_resolving_through_the_service_writes_the_incidents_figures(open_incident, make_person):
    incident = open_incident()  # system/yellow: an on-site duty for tech_group within 1 h
    acknowledge(incident, actor=make_person("tech_group"))
    params = {"from": incident.opened_at.date().isoformat(), "to": incident.opened_at.date().isoformat()}
    resolve(incident, actor=None, summary="link restored")
    incident.refresh_from_db()

    row = IncidentFigures.objects.get(incident=incident)
    assert row.mttr_resolved_s == pytest.approx((incident.resolved_at - incident.opened_at).total_seconds(), abs=1e-3)
    assert row.mtta_s == pytest.approx((incident.acknowledged_at - incident.opened_at).total_seconds(), abs=1e-3)
    over_rows = summary(parse_filter(params))
    IncidentFigures.objects.all().delete()
    over_history = summary(parse_filter(params))
    for name in ("incidents", "mtta_s", "mttr_s", "mttr_resolved_s", "deadline_compliance", "notifications",
                 "escalations_by_cause"):
        assert over_rows[name] == over_history[name], name


def test_a_change_after_resolution_is_picked_up_by_the_sweep(history):
    call_command("report_figures")
    a = history["a"]
    # A read confirmation that came in after the figures were written (a late acknowledgement).
    notification(a, ack=600, deliveries={"email": DeliveryStatus.SENT})
    level_change(a, frm="yellow", to="orange", cause="alert")  # a timeline row after the mark

    assert figures_refresh() == 1
    assert IncidentFigures.objects.get(incident=a).escalations_alert == 1
    refreshed = figures()
    IncidentFigures.objects.all().delete()
    assert figures() == refreshed  # what the history itself gives
