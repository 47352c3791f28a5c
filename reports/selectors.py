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
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce, Concat, TruncMonth
from django.utils import timezone

from alerts.models import Alert
from escalation.models import Deadline, Kind, State
from incidents.models import Incident, TimelineEntry, TimelineKind
from notifications.models import Delivery, DeliveryStatus
from plan.document import LEVEL_RANKS

from .filters import ReportFilter, add_months
from .stats import Seconds, distribution, distributions, empty_distribution

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


def incident_counts(f: ReportFilter) -> dict[str, Any]:
    """Incidents by category × level and by month (× level): two queries."""
    incidents = Incident.objects.filter(f.incident_q()).order_by()
    cells = list(incidents.values("category__key", "level__key").annotate(n=Count("id")))
    month = TruncMonth("opened_at", tzinfo=timezone.get_current_timezone())
    by_month_level = incidents.annotate(month=month).values("month", "level__key").annotate(n=Count("id"))
    counts: dict[date, dict[str, int]] = {}
    for row in by_month_level:
        moment = row["month"]
        day = timezone.localtime(moment).date() if isinstance(moment, datetime) else moment
        counts.setdefault(day.replace(day=1), {})[row["level__key"]] = row["n"]
    by_month = []
    for first in months_between(f.first_day, f.last_day):
        levels = counts.get(first, {})
        by_month.append({"month": first.strftime("%Y-%m"), "count": sum(levels.values()),
                         "by_level": {key: levels.get(key, 0) for key in LEVEL_RANKS}})
    return {
        "incidents": sum(row["n"] for row in cells),
        "by_category_level": [{"category": row["category__key"], "level": row["level__key"], "count": row["n"]}
                              for row in sorted(cells, key=lambda r: (r["category__key"],
                                                                      -LEVEL_RANKS.get(r["level__key"], 0)))],
        "by_month": by_month,
    }


def response_times(f: ReportFilter) -> dict[str, Any]:
    """MTTA, MTTR (recovered and resolved) and on-site arrival per role: two queries on PostgreSQL."""
    incidents = Incident.objects.filter(f.incident_q())
    measures = {"mtta_s": Seconds("acknowledged_at", "opened_at"),
                "mttr_s": Seconds(Coalesce("recovered_at", "resolved_at"), "opened_at"),
                "mttr_resolved_s": Seconds("resolved_at", "opened_at")}
    figures: dict[str, Any] = distributions(incidents.values(**measures), list(measures))
    arrivals = Deadline.objects.filter(f.incident_q("incident__"), kind=Kind.ON_SITE, state=State.MET)
    figures["on_site_s"] = {"by_role": dict(sorted(
        distribution(arrivals.values(g=F("role_key"), x=Seconds("acted_at", "started_at"))).items()))}
    return figures


def deadline_compliance(f: ReportFilter) -> dict[str, Any]:
    """Share of deadlines kept by role, by kind and by plan cell: one grouped query."""
    kept = Q(state=State.MET) | Q(kind=Kind.ESCALATION, state=State.CANCELLED, acted_at__lt=F("due_at"))
    broken = Q(state__in=[State.MISSED, State.FIRED])
    decided = kept | broken
    rows = (Deadline.objects.filter(f.incident_q("incident__")).filter(decided).order_by()
            .annotate(kept=Case(When(kept, then=Value(1)), default=Value(0), output_field=IntegerField()))
            .values("kind", "role_key", "incident__category__key", "level_key", "kept").annotate(n=Count("id")))
    by_role: dict[str, list[int]] = {}
    by_kind: dict[str, list[int]] = {}
    by_cell: dict[str, list[int]] = {}
    overall = [0, 0]
    for row in rows:
        for table, key in ((by_role, row["role_key"]), (by_kind, row["kind"]),
                           (by_cell, f"{row['incident__category__key']}:{row['level_key']}")):
            if table is by_role and not key:
                continue  # an escalation deadline belongs to no role
            tally = table.setdefault(key, [0, 0])
            tally[0] += row["n"] * row["kept"]
            tally[1] += row["n"]
        overall[0] += row["n"] * row["kept"]
        overall[1] += row["n"]
    groups = (("by_role", by_role), ("by_kind", by_kind), ("by_cell", by_cell))
    return {"met": overall[0], "total": overall[1], "share": _share(*overall),
            # interfaces.md: by_role, by_kind and by_cell are the share met; the counts behind each are beside.
            **{name: {key: row["share"] for key, row in _compliance(table).items()} for name, table in groups},
            "counts": {name: _compliance(table) for name, table in groups}}


def _rank(field: str) -> Case:
    return Case(*[When(**{field: key}, then=Value(rank)) for key, rank in LEVEL_RANKS.items()],
                default=Value(0), output_field=IntegerField())


def escalations_by_cause(f: ReportFilter) -> dict[str, int]:
    """Level rises by cause (plan deadline, alert, person, condition): one query."""
    rises = (TimelineEntry.objects.filter(f.incident_q("incident__"), kind=TimelineKind.LEVEL_CHANGED).order_by()
             .annotate(from_rank=_rank("detail__from"), to_rank=_rank("detail__to"))
             .filter(to_rank__lt=F("from_rank"), to_rank__gt=0)
             .values("detail__cause").annotate(n=Count("id")))
    counts = {"plan": 0, "alert": 0, "person": 0, "condition": 0}
    for row in rises:
        cause = row["detail__cause"] or "person"
        counts[cause] = counts.get(cause, 0) + row["n"]
    return counts


def top_sources(f: ReportFilter, limit: int = TOP_SOURCES) -> list[dict[str, Any]]:
    """The monitoring integrations that raised the most alerts for these incidents: one query."""
    rows = (Alert.objects.filter(f.incident_q("incident__")).order_by()
            .values("integration__name").annotate(alerts=Count("id"), incidents=Count("incident", distinct=True))
            .order_by("-alerts", "integration__name")[:limit])
    return [{"source": row["integration__name"], "alerts": row["alerts"], "incidents": row["incidents"]}
            for row in rows]


def notification_figures(f: ReportFilter) -> dict[str, Any]:
    """Delivery success and acknowledgement time per channel: two queries."""
    deliveries = Delivery.objects.filter(f.incident_q("notification__incident__"))
    counts = (deliveries.filter(status__in=[*DELIVERED, DeliveryStatus.FAILED]).order_by()
              .annotate(ok=Case(When(status__in=DELIVERED, then=Value(1)), default=Value(0),
                                output_field=IntegerField()))
              .values("kind", "ok").annotate(n=Count("id")))
    tallies: dict[str, list[int]] = {}
    for row in counts:
        tally = tallies.setdefault(row["kind"], [0, 0])
        tally[0] += row["n"] * row["ok"]
        tally[1] += row["n"]
    acks = distribution(deliveries.filter(status__in=DELIVERED, notification__acknowledged_at__isnull=False)
                        .values(g=F("kind"), x=Seconds("notification__acknowledged_at", "notification__created_at")))
    by_channel = {}
    for kind in sorted(set(tallies) | set(acks)):
        sent, total = tallies.get(kind, [0, 0])
        by_channel[kind] = {"delivered": sent, "failed": total - sent, "success": _share(sent, total),
                            "ack_s": acks.get(kind, empty_distribution())}
    return {"by_channel": by_channel}


def summary(f: ReportFilter) -> dict[str, Any]:
    """Every figure of the reports page and the summary API: 9 queries on PostgreSQL, 11 on SQLite, whatever the
    number of incidents."""
    figures: dict[str, Any] = {
        "as_of": timezone.now().isoformat(timespec="seconds"),
        "period": {"from": f.first_day.isoformat(), "to": f.last_day.isoformat()},
        "filters": {"category": f.category, "level": f.level, "source": f.source, "system": f.system,
                    "drill": f.drill},
    }
    figures.update(incident_counts(f))
    figures.update(response_times(f))
    figures["deadline_compliance"] = deadline_compliance(f)
    figures["escalations_by_cause"] = escalations_by_cause(f)
    figures["top_sources"] = top_sources(f)
    figures["notifications"] = notification_figures(f)
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
                             f.drill])
    key = "reports:summary:" + hashlib.sha256(key_source.encode()).hexdigest()
    stamp = data_stamp()
    now = timezone.now().timestamp()
    entry = cache.get(key)
    if entry is not None and (entry["stamp"] == stamp or now - entry["at"] < fresh_seconds):
        return entry["figures"]
    figures = summary(f)
    cache.set(key, {"stamp": stamp, "at": now, "figures": figures}, KEEP_SECONDS)
    return figures
