"""The figures rows (reports/figures.py): written at resolution and by the backfill, and a report over them is
the report over the history they were computed from."""

import calendar
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from escalation.models import Kind, State
from incidents.services import acknowledge, resolve
from notifications.models import DeliveryStatus
from reports import figures as figures_module
from reports.figures import figures_refresh, figures_write
from reports.filters import parse_filter
from reports.models import (DeadlineFigure, DeliveryFigure, IncidentFigures, MonthDeadlines, MonthDeliveries,
                            MonthIncidents, MonthSources, SourceFigure)
from reports.selectors import summary

from .build import alerts, at, deadline, incident, level_change, notification

pytestmark = pytest.mark.django_db

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


def figures(**params):
    result = summary(parse_filter({**NOVEMBER, **params}))
    result.pop("as_of")
    return result


# Periods read three ways: November whole (its month's sums), days of it (the rows), and whole months with days
# either side (sums and rows together); also a period that starts at a time of day.
PERIODS = (("real", {}), ("all", {"drill": "all"}), ("network", {"category": "network"}),
           ("days", {"from": "2026-11-03", "to": "2026-11-29"}),
           ("span", {"from": "2026-10-15", "to": "2026-12-10"}),
           ("hours", {"from": "2026-11-02T12:00:00+08:00", "to": "2026-12-01"}))


def forget_figures():
    """As before any figures were written: the rows and their month sums (``figures_write`` is their one writer,
    and never leaves the one without the other)."""
    for model in (IncidentFigures, MonthIncidents, MonthDeadlines, MonthDeliveries, MonthSources):
        model.objects.all().delete()


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
    live = {key: figures(**params) for key, params in PERIODS}

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
    assert {key: figures(**params) for key, params in PERIODS} == live
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

    assert len(rows) == len(live) <= 11


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
    forget_figures()
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
    forget_figures()
    assert figures() == refreshed  # what the history itself gives


def test_a_months_sums_are_the_sums_of_its_incidents_rows(history):
    call_command("report_figures")

    # a, b, c (real) and e (a drill) resolved in November; d is open and in no sum.
    assert sum(MonthIncidents.objects.filter(is_drill=False).values_list("incidents", flat=True)) == 3
    assert MonthIncidents.objects.get(is_drill=True).incidents == 1
    assert {m.isoformat() for m in MonthIncidents.objects.values_list("month", flat=True)} == {"2026-11-01"}
    on_site = MonthDeadlines.objects.filter(kind="on_site", role_key="tech_group", is_drill=False)
    assert (sum(r.decided for r in on_site), sum(r.kept for r in on_site)) == (2, 1)  # a met, b missed
    email = MonthDeliveries.objects.filter(channel="email")
    assert (sum(r.total for r in email), sum(r.delivered for r in email)) == (2, 2)  # a's and b's
    assert MonthDeliveries.objects.get(channel="sms").delivered == 0
    assert sum(MonthSources.objects.filter(source_name="zabbix").values_list("alerts", flat=True)) == 4


def test_rewriting_an_incident_rewrites_its_months_sums_not_adds_to_them(history):
    call_command("report_figures")
    before = {row.pk: row.incidents for row in MonthIncidents.objects.all()}

    figures_write(incident_ids=[history["a"].pk, history["b"].pk])
    figures_write(incident_ids=[history["a"].pk])

    assert sorted(MonthIncidents.objects.values_list("incidents", flat=True)) == sorted(before.values())


def test_resolving_an_incident_adds_it_to_its_months_sums(open_incident, make_person):
    incident = open_incident()  # system/yellow
    acknowledge(incident, actor=make_person("tech_group"))
    opened = timezone.localtime(incident.opened_at).date()
    month = opened.replace(day=1)
    resolve(incident, actor=None, summary="link restored")

    row = MonthIncidents.objects.get(category_key="system", level_key="yellow")
    assert (row.month, row.incidents) == (month, 1)
    last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    whole_month = summary(parse_filter({"from": month.isoformat(), "to": last.isoformat()}))
    that_day = summary(parse_filter({"from": opened.isoformat(), "to": opened.isoformat()}))
    assert whole_month["incidents"] == that_day["incidents"] == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres_only("threads on their own connections writing one month at once; SQLite has one writer")
def test_incidents_of_one_month_written_at_once_are_all_in_its_sums(minimal_plan_version, monkeypatch):
    """Six writers each write one November incident's figures at the same moment (three of them written before,
    three new), each pausing before it reads the month's rows: without the month's lock each would delete only
    the sums it saw and add sums that miss the others' uncommitted rows."""
    incidents = [incident(minimal_plan_version, opened=at(f"2026-11-{day:02d} 10:00"), ack=60, resolved=600)
                 for day in range(2, 8)]
    for earlier in incidents[:3]:
        figures_write(incident_ids=[earlier.pk])
    by_month = figures_module._by_month

    def slow_by_month(*args, **kwargs):
        threading.Event().wait(0.05)
        return by_month(*args, **kwargs)

    monkeypatch.setattr(figures_module, "_by_month", slow_by_month)
    start, failures = threading.Barrier(len(incidents)), []

    def write(pk):
        try:
            start.wait(timeout=30)
            figures_write(incident_ids=[pk])
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i.pk,)) for i in incidents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert sum(MonthIncidents.objects.values_list("incidents", flat=True)) == len(incidents)
    assert figures()["incidents"] == len(incidents)
