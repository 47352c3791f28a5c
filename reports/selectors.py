"""The report's figures, each computed by the database (aggregations), in a fixed number of queries.

Every figure is about the incidents opened in the period that pass the filter (``reports.filters``).

Definitions (docs/reports.md):
- MTTA: opened → first acknowledgement (``Incident.acknowledged_at``).
- MTTR: opened → recovered (``recovered_at``; an incident resolved without a recovery mark counts as
  recovered when it was resolved), and opened → resolved.
- Time to on-site arrival: an on-site deadline met, from the start of its level's response to the check-in.
- Deadline compliance: the share of decided deadlines that were kept. Kept: met (on site, report, approval)
  or, for an escalation deadline, ended before its time ran out (the response finished or the level moved
  first). Not kept: missed, or the escalation fired. Pending deadlines, deadlines cancelled because the
  incident ended, and escalations whose time ran out while the plan's condition did not hold are left out.
- Escalations: level changes to a more severe level, by the ``cause`` the timeline records.
- Notification delivery: the share of messages through a channel that went out (sent, or sent within
  another message) among those that went out or failed; acknowledgement time: notification written →
  read confirmed, for the notifications that channel delivered.
"""

import hashlib
import json
from datetime import date, datetime
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, DateField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from alerts.models import Alert
from escalation.models import Deadline, Kind, State
from incidents.models import Incident, TimelineEntry, TimelineKind
from notifications.models import Delivery, DeliveryStatus
from plan.document import LEVEL_RANKS
from reviews.models import Action, ActionStatus, Review, ReviewStatus

from .figures import CAUSES, decided_q, kept_q, rises
from .filters import ReportFilter, add_months
from .models import (DeadlineFigure, DeliveryFigure, IncidentFigures, MonthDeadlines, MonthDeliveries,
                     MonthIncidents, MonthSources, SourceFigure)
from .stats import Seconds, counts_of, distribution, distributions, empty_distribution, one_if

TOP_SOURCES = 10
DELIVERED = (DeliveryStatus.SENT, DeliveryStatus.COALESCED)


def months_between(first: date, last: date) -> list[date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def _share(kept: int, total: int) -> float | None:
    return round(kept / total, 4) if total else None


def _compliance(rows: dict[str, list[int]]) -> dict[str, dict[str, Any]]:
    return {key: {"met": kept, "total": total, "share": _share(kept, total)}
            for key, (kept, total) in sorted(rows.items())}


# Up to this many incidents read live are named by id in each figure's query; more (history not backfilled
# yet) and each query finds them itself, by the anti-join.
LIVE_IDS = 5_000
Live = list[int] | None


def live_ids(f: ReportFilter) -> Live:
    """The incidents of the filter without a figures row (the open ones, and any resolved one not written yet):
    one query, so that each figure reads them by id instead of each repeating the anti-join. None when there
    are more than ``LIVE_IDS``."""
    ids = list(Incident.objects.filter(f.incident_q(), figures__isnull=True).order_by()
               .values_list("id", flat=True)[:LIVE_IDS + 1])
    return ids if len(ids) <= LIVE_IDS else None


def _live(f: ReportFilter, prefix: str = "", live: Live = None) -> Q:
    """The filter on the history, for the incidents without a figures row: the report reads those live and the
    rest from their rows."""
    if live is not None:
        return Q(**{f"{prefix}id__in": id_list(live)})
    return f.incident_q(prefix) & Q(**{f"{prefix}figures__isnull": True})


def id_list(ids: list[int]) -> RawSQL:
    """``ids`` as one parameter (a subquery unpacking an array), not one placeholder each: a few thousand ids in
    each of eight queries cost the driver more than the database."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)])


def _local_month(moment: Any) -> date:
    """A month as the union hands it back: a date, an aware moment, or (SQLite) text."""
    if isinstance(moment, str):
        return date.fromisoformat(moment[:10]).replace(day=1)
    if isinstance(moment, datetime):
        return timezone.localtime(moment).date().replace(day=1) if timezone.is_aware(moment) else moment.date()
    return moment.replace(day=1)


def incident_counts(f: ReportFilter, live: Live = None) -> dict[str, Any]:
    """Incidents by category × level and by month (× level): one query, grouped by month, category and level."""
    month = TruncMonth("opened_at", tzinfo=timezone.get_current_timezone(), output_field=DateField())
    stacked = (Incident.objects.filter(_live(f, live=live)).order_by()
               .values(m=month, c=F("category__key"), lv=F("level__key")).annotate(n=Count("pk"))
               .union(IncidentFigures.objects.filter(f.edges_q()).order_by()
                      .values(m=month, c=F("category_key"), lv=F("level_key")).annotate(n=Count("pk")),
                      MonthIncidents.objects.filter(f.months_q()).order_by()
                      .values(m=F("month"), c=F("category_key"), lv=F("level_key")).annotate(n=Sum("incidents")),
                      all=True))
    cell_counts: dict[tuple[str, str], int] = {}
    counts: dict[date, dict[str, int]] = {}
    for row in stacked:
        cell_counts[row["c"], row["lv"]] = cell_counts.get((row["c"], row["lv"]), 0) + row["n"]
        levels = counts.setdefault(_local_month(row["m"]), {})
        levels[row["lv"]] = levels.get(row["lv"], 0) + row["n"]
    by_month = []
    for first in months_between(f.first_day, f.last_day):
        levels = counts.get(first, {})
        by_month.append({"month": first.strftime("%Y-%m"), "count": sum(levels.values()),
                         "by_level": {key: levels.get(key, 0) for key in LEVEL_RANKS}})
    return {
        "incidents": sum(cell_counts.values()),
        "by_category_level": [{"category": category, "level": level, "count": n}
                              for (category, level), n in sorted(cell_counts.items(),
                                                                 key=lambda r: (r[0][0], -LEVEL_RANKS.get(r[0][1], 0)))],
        "by_month": by_month,
    }


MEASURES = ("mtta_s", "mttr_s", "mttr_resolved_s")


def response_times(f: ReportFilter, live: Live = None) -> dict[str, Any]:
    """MTTA, MTTR (recovered and resolved) and on-site arrival per role: two queries."""
    history = Incident.objects.filter(_live(f, live=live)).order_by().values(
        mtta_s=Seconds("acknowledged_at", "opened_at"), mttr_s=Seconds(Coalesce("recovered_at", "resolved_at"), "opened_at"),
        mttr_resolved_s=Seconds("resolved_at", "opened_at"))
    rows = IncidentFigures.objects.filter(f.facts_q()).values(*MEASURES)
    figures: dict[str, Any] = distributions(history.union(rows, all=True), list(MEASURES))
    arrivals = (Deadline.objects.filter(_live(f, "incident__", live), kind=Kind.ON_SITE, state=State.MET).order_by()
                .values(g=F("role_key"), x=Seconds("acted_at", "started_at"))
                .union(DeadlineFigure.objects.filter(f.facts_q(), kind=Kind.ON_SITE, arrival_s__isnull=False)
                       .values(g=F("role_key"), x=F("arrival_s")), all=True))
    figures["on_site_s"] = {"by_role": dict(sorted(distribution(arrivals).items()))}
    return figures


def deadline_compliance(f: ReportFilter, live: Live = None) -> dict[str, Any]:
    """Share of deadlines kept by role, by kind and by plan cell: one grouped query."""
    keys = ("kind", "role_key")
    # The live deadlines' category through a subquery, not a join: a join reads the whole incidents table to
    # find the few hundred incidents read live.
    category = Subquery(Incident.objects.filter(pk=OuterRef("incident_id")).values("category__key")[:1])
    stacked = (Deadline.objects.filter(_live(f, "incident__", live)).filter(decided_q()).order_by()
               .values(*keys, c=category, lv=F("level_key"))
               .annotate(k=Sum(one_if(kept_q())), n=Count("id"))
               .union(DeadlineFigure.objects.filter(f.edges_q()).order_by()
                      .values(*keys, c=F("category_key"), lv=F("cell_level_key"))
                      .annotate(k=Sum(one_if(Q(kept=True))), n=Count("id")),
                      MonthDeadlines.objects.filter(f.months_q()).order_by()
                      .values(*keys, c=F("category_key"), lv=F("cell_level_key"))
                      .annotate(k=Sum("kept"), n=Sum("decided")),
                      all=True))
    by_role: dict[str, list[int]] = {}
    by_kind: dict[str, list[int]] = {}
    by_cell: dict[str, list[int]] = {}
    overall = [0, 0]
    for row in stacked:
        for table, key in ((by_role, row["role_key"]), (by_kind, row["kind"]),
                           (by_cell, f"{row['c']}:{row['lv']}")):
            if table is by_role and not key:
                continue  # an escalation deadline belongs to no role
            tally = table.setdefault(key, [0, 0])
            tally[0] += row["k"]
            tally[1] += row["n"]
        overall[0] += row["k"]
        overall[1] += row["n"]
    groups = (("by_role", by_role), ("by_kind", by_kind), ("by_cell", by_cell))
    return {"met": overall[0], "total": overall[1], "share": _share(*overall),
            # interfaces.md: by_role, by_kind and by_cell are the share met; the counts behind each are beside.
            **{name: {key: row["share"] for key, row in _compliance(table).items()} for name, table in groups},
            "counts": {name: _compliance(table) for name, table in groups}}


def escalations_by_cause(f: ReportFilter, live: Live = None) -> dict[str, int]:
    """Level rises by cause (plan deadline, alert, person, condition): one query."""
    stacked = (rises(TimelineEntry.objects.filter(_live(f, "incident__", live))).order_by()
               .values(cause=KeyTextTransform("cause", "detail")).annotate(n=Count("id")))
    edges = IncidentFigures.objects.filter(f.edges_q()).order_by()
    months = MonthIncidents.objects.filter(f.months_q()).order_by()
    for cause in CAUSES:
        for rows in (edges, months):
            stacked = stacked.union(rows.values(cause=Value(cause)).annotate(n=Coalesce(Sum(f"escalations_{cause}"), 0)),
                                    all=True)
    counts = {"plan": 0, "alert": 0, "person": 0, "condition": 0}
    for row in stacked:
        cause = row["cause"] or "person"
        counts[cause] = counts.get(cause, 0) + row["n"]
    return counts


def top_sources(f: ReportFilter, live: Live = None, limit: int = TOP_SOURCES) -> list[dict[str, Any]]:
    """The monitoring integrations that raised the most alerts for these incidents: one query."""
    stacked = (Alert.objects.filter(_live(f, "incident__", live)).order_by()
               .values(name=F("integration__name")).annotate(a=Count("id"), i=Count("incident", distinct=True))
               .union(SourceFigure.objects.filter(f.edges_q()).order_by()
                      .values(name=F("source_name")).annotate(a=Sum("alerts"), i=Count("figures_id")),
                      MonthSources.objects.filter(f.months_q()).order_by()
                      .values(name=F("source_name")).annotate(a=Sum("alerts"), i=Sum("incidents")),
                      all=True))
    tallies: dict[str, list[int]] = {}
    for row in stacked:
        tally = tallies.setdefault(row["name"], [0, 0])
        tally[0] += row["a"]
        tally[1] += row["i"]
    ranked = sorted(tallies.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
    return [{"source": name, "alerts": a, "incidents": i} for name, (a, i) in ranked]


def notification_figures(f: ReportFilter, live: Live = None) -> dict[str, Any]:
    """Delivery success and acknowledgement time per channel: two queries."""
    deliveries = Delivery.objects.filter(_live(f, "notification__incident__", live)).order_by()
    rows = DeliveryFigure.objects.filter(f.facts_q()).order_by()
    counts = (deliveries.filter(status__in=[*DELIVERED, DeliveryStatus.FAILED])
              .values(ch=F("kind")).annotate(ok=Sum(one_if(Q(status__in=DELIVERED))), n=Count("id"))
              .union(DeliveryFigure.objects.filter(f.edges_q()).order_by()
                     .values(ch=F("channel")).annotate(ok=Sum(one_if(Q(delivered=True))), n=Count("id")),
                     MonthDeliveries.objects.filter(f.months_q()).order_by()
                     .values(ch=F("channel")).annotate(ok=Sum("delivered"), n=Sum("total")),
                     all=True))
    tallies: dict[str, list[int]] = {}
    for row in counts:
        tally = tallies.setdefault(row["ch"], [0, 0])
        tally[0] += row["ok"]
        tally[1] += row["n"]
    acks = distribution(
        deliveries.filter(status__in=DELIVERED, notification__acknowledged_at__isnull=False)
        .values(g=F("kind"), x=Seconds("notification__acknowledged_at", "notification__created_at"))
        .union(rows.filter(delivered=True, ack_s__isnull=False).values(g=F("channel"), x=F("ack_s")), all=True))
    by_channel = {}
    for kind in sorted(set(tallies) | set(acks)):
        sent, total = tallies.get(kind, [0, 0])
        by_channel[kind] = {"delivered": sent, "failed": total - sent, "success": _share(sent, total),
                            "ack_s": acks.get(kind, empty_distribution())}
    return {"by_channel": by_channel}


def _during(f: ReportFilter, field: str) -> Q:
    return Q(**{f"{field}__gte": f.start, f"{field}__lt": f.end})


def actions_q(f: ReportFilter) -> Q:
    """The remediation actions a filter covers. An incident's action passes when its incident does (category,
    level, source, system, drill), whenever the incident opened; an asset's own action (no incident) has none of
    these, so it passes only a filter that names none of them. With ``asset``: the action's own asset or its
    incident's."""
    of_incident = Q(incident__isnull=False) & f.keys_q("incident__", asset=False)
    q = of_incident if f.narrows_incidents else of_incident | Q(incident__isnull=True)
    if f.asset:
        q &= Q(asset_id=f.asset_id) | Q(incident__asset_id=f.asset_id)
    return q


def review_figures(f: ReportFilter) -> dict[str, Any]:
    """Post-incident reviews and remediation actions, each counted by its own dates in the period: drafted,
    submitted, approved (and resolution → approval); opened, done, carried over (and opened → done), and the
    ones open and past due now among those opened by the period's end. Two queries."""
    reviews = Review.objects.filter(f.keys_q("incident__")).order_by()
    actions = Action.objects.filter(actions_q(f)).order_by()
    approved = reviews.filter(_during(f, "approved_at"), status=ReviewStatus.APPROVED)
    done = actions.filter(_during(f, "closed_at"), status=ActionStatus.DONE)
    n = counts_of(
        drafted=reviews.filter(_during(f, "drafted_at")), submitted=reviews.filter(_during(f, "submitted_at")),
        approved=approved, opened=actions.filter(_during(f, "created_at")), done=done,
        carried_over=actions.filter(_during(f, "closed_at"), status=ActionStatus.CARRIED_OVER),
        overdue=actions.filter(status=ActionStatus.OPEN, due_at__lt=timezone.now(), created_at__lt=f.end))
    times = distribution(approved.values(g=Value("approval"), x=Seconds("approved_at", "incident__resolved_at"))
                         .union(done.values(g=Value("close"), x=Seconds("closed_at", "created_at")), all=True))
    return {
        "reviews": {"drafted": n["drafted"], "submitted": n["submitted"], "approved": n["approved"],
                    "approval_s": times.get("approval", empty_distribution())},
        "remediation": {"opened": n["opened"], "done": n["done"], "carried_over": n["carried_over"],
                        "overdue": n["overdue"], "close_s": times.get("close", empty_distribution())},
    }


def summary(f: ReportFilter) -> dict[str, Any]:
    """Every figure of the reports page and the summary API: 11 queries on PostgreSQL and on SQLite, whatever
    the number of incidents (one more to read an asset filter's tag)."""
    figures: dict[str, Any] = {
        "as_of": timezone.now().isoformat(timespec="seconds"),
        "period": {"from": f.first_day.isoformat(), "to": f.last_day.isoformat()},
        "filters": {"category": f.category, "level": f.level, "source": f.source, "system": f.system,
                    "drill": f.drill, "asset": f.asset},
    }
    live = live_ids(f)
    figures.update(incident_counts(f, live))
    figures.update(response_times(f, live))
    figures["deadline_compliance"] = deadline_compliance(f, live)
    figures["escalations_by_cause"] = escalations_by_cause(f, live)
    figures["top_sources"] = top_sources(f, live)
    figures["notifications"] = notification_figures(f, live)
    figures.update(review_figures(f))
    return figures


# Computed figures are served for this long whatever changed since (how stale the page may be) ...
FRESH_SECONDS = 60
# ... and for this long while nothing changed (``data_stamp``).
KEEP_SECONDS = 600


def data_stamp() -> list[int]:
    """What changes whenever a figure may: the newest timeline entry, alert and delivery (one query, three
    index lookups). Every change of an incident and of its deadlines writes a timeline row in the same
    transaction (docs/architecture.md), so a new highest id means the figures may have moved; a read
    confirmation or a delivery's new status writes none, and shows once the figures are ``KEEP_SECONDS`` old."""
    tables = [model._meta.db_table for model in (TimelineEntry, Alert, Delivery)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT MAX(id) FROM {table})" for table in tables))
        timeline, alerts, deliveries = cursor.fetchone()
    return [timeline or 0, alerts or 0, deliveries or 0]


def cached_summary(f: ReportFilter, *, fresh_seconds: float = FRESH_SECONDS) -> dict[str, Any]:
    """``summary`` through the cache: one query (the stamp) when the figures are fresh, else all of them.

    Fresh: computed less than ``FRESH_SECONDS`` ago, or nothing changed since (and less than ``KEEP_SECONDS``
    ago). During a busy incident the timeline moves every few seconds; the figures then lag by at most a
    minute instead of being computed on every request.
    """
    key_source = json.dumps([f.start.isoformat(), f.end.isoformat(), f.category, f.level, f.source, f.system,
                             f.drill, f.asset])
    key = "reports:summary:" + hashlib.sha256(key_source.encode()).hexdigest()
    stamp = data_stamp()
    now = timezone.now().timestamp()
    entry = cache.get(key)
    if entry is not None and (entry["stamp"] == stamp or now - entry["at"] < fresh_seconds):
        return entry["figures"]
    figures = summary(f)
    cache.set(key, {"stamp": stamp, "at": now, "figures": figures}, KEEP_SECONDS)
    return figures
