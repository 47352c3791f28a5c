"""Each resolved incident's figures, written once into narrow rows, so a report never joins five history tables.

``figures_write`` computes them with the very expressions the report's live queries use (``reports.selectors``:
the same ``Seconds``, the same rule for a kept deadline, for an escalation, for a delivery that went out), so a
report over rows gives what it would give over the history. It is set-based (a few grouped queries for any
number of incidents) and idempotent (an incident's old rows are replaced), and it is the one function that
writes them: the ``resolved`` hook (one incident, inside the transaction that resolves it, so the figures
commit with the resolution or not at all), the backfill command (``manage.py report_figures``) and the sweep
(``figures_refresh``) all call it.

What is computed live instead: every incident without a row, i.e. the open ones (about 1 % of them: their
durations and deadlines are still moving, and they are few) and any resolved one not yet written.

The rows' additive counts are also summed per calendar month and keys (``months_write``, the ``Month*``
tables), rewritten in the same transaction for every month whose rows changed: a report over whole months adds
up those sums, and reads the per-incident rows only for its medians and for the days of a month it covers in part.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, Count, DateField, Exists, F, IntegerField, Max, OuterRef, Q, Sum, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from alerts.models import Alert
from escalation.models import Deadline, Kind, State
from incidents.models import Incident, TimelineEntry, TimelineKind
from notifications.models import Delivery, DeliveryStatus, Notification
from plan.document import LEVEL_RANKS

from .filters import add_months
from .models import (DeadlineFigure, DeliveryFigure, IncidentFigures, MonthDeadlines, MonthDeliveries,
                     MonthIncidents, MonthSources, SourceFigure)
from .stats import Seconds, one_if

DELIVERED = (DeliveryStatus.SENT, DeliveryStatus.COALESCED)
CAUSES = ("plan", "alert", "person", "condition")
# Rows written this recently are checked by the sweep for a later change (a read confirmation, a duty met after
# the resolution, an edit); older ones are the record, unless the backfill command is run with --all.
RECHECK = timedelta(days=30)
BATCH = 2_000
# The first half of the PostgreSQL advisory lock key of a month's sums (any fixed number unused elsewhere).
MONTH_LOCK_NAMESPACE = 1_716_160_020


def kept_q() -> Q:
    """A deadline kept: met, or an escalation whose time had not run out when it ended (docs/reports.md)."""
    return Q(state=State.MET) | Q(kind=Kind.ESCALATION, state=State.CANCELLED, acted_at__lt=F("due_at"))


def decided_q() -> Q:
    return kept_q() | Q(state__in=[State.MISSED, State.FIRED])


def rank(field: str) -> Case:
    return Case(*[When(**{field: key}, then=Value(r)) for key, r in LEVEL_RANKS.items()],
                default=Value(0), output_field=IntegerField())


def rises(entries: Any) -> Any:
    """Level-changed entries that raised the level (to a more severe one the plan knows)."""
    return (entries.filter(kind=TimelineKind.LEVEL_CHANGED)
            .annotate(from_rank=rank("detail__from"), to_rank=rank("detail__to"))
            .filter(to_rank__lt=F("from_rank"), to_rank__gt=0))


def _facts(incident: Mapping[str, Any]) -> dict[str, Any]:
    return {"opened_at": incident["opened_at"],
            "category_key": incident["category__key"], "level_key": incident["level__key"],
            "source": incident["source"], "affected_system": incident["affected_system"],
            "is_drill": incident["is_drill"], "asset_id": incident["asset_id"]}


def figures_write(*, incident_ids: Iterable[int]) -> int:
    """Write (or rewrite) the figures of these incidents, those resolved; returns how many were written.

    Eight queries for the batch plus the inserts, whatever its size. The caller's transaction holds it, or
    its own: old rows and new ones change together.
    """
    ids = sorted(set(incident_ids))
    if not ids:
        return 0
    with transaction.atomic():
        months = {month_of(moment) for moment in
                  IncidentFigures.objects.filter(incident_id__in=ids).values_list("opened_at", flat=True)}
        incidents = list(
            Incident.objects.filter(pk__in=ids, resolved_at__isnull=False).order_by()
            .values("id", "opened_at", "category__key", "level__key", "source", "affected_system", "is_drill",
                    "asset_id")
            .annotate(mtta=Seconds("acknowledged_at", "opened_at"),
                      mttr=Seconds(Coalesce("recovered_at", "resolved_at"), "opened_at"),
                      mttr_resolved=Seconds("resolved_at", "opened_at")))
        facts = {row["id"]: _facts(row) for row in incidents}
        for model in (DeadlineFigure, DeliveryFigure, SourceFigure):
            model.objects.filter(figures_id__in=ids).delete()
        IncidentFigures.objects.filter(incident_id__in=ids).delete()
        months |= {month_of(row["opened_at"]) for row in incidents}
        if not facts:
            months_write(months)
            return 0
        written = list(facts)
        marks = dict(TimelineEntry.objects.filter(incident_id__in=written).order_by().values("incident_id")
                     .annotate(mark=Max("id")).values_list("incident_id", "mark"))
        escalations: dict[int, dict[str, int]] = {}
        for row in (rises(TimelineEntry.objects.filter(incident_id__in=written)).order_by()
                    .values("incident_id", cause=KeyTextTransform("cause", "detail")).annotate(n=Count("id"))):
            tally = escalations.setdefault(row["incident_id"], {})
            cause = row["cause"] or "person"
            tally[cause] = tally.get(cause, 0) + row["n"]
        now = timezone.now()
        IncidentFigures.objects.bulk_create([IncidentFigures(
            incident_id=row["id"], **facts[row["id"]],
            mtta_s=row["mtta"], mttr_s=row["mttr"], mttr_resolved_s=row["mttr_resolved"],
            **{f"escalations_{cause}": escalations.get(row["id"], {}).get(cause, 0) for cause in CAUSES},
            timeline_mark=marks.get(row["id"], 0), written_at=now) for row in incidents])

        deadlines = (Deadline.objects.filter(incident_id__in=written).filter(decided_q()).order_by()
                     .annotate(arrival=Seconds("acted_at", "started_at"))
                     .values("incident_id", "kind", "role_key", "level_key", "state", "due_at", "acted_at",
                             "arrival"))
        DeadlineFigure.objects.bulk_create([DeadlineFigure(
            figures_id=d["incident_id"], **facts[d["incident_id"]],
            kind=d["kind"], role_key=d["role_key"], cell_level_key=d["level_key"],
            kept=d["state"] == State.MET or (d["kind"] == Kind.ESCALATION and d["state"] == State.CANCELLED
                                            and d["acted_at"] is not None and d["acted_at"] < d["due_at"]),
            arrival_s=d["arrival"] if d["kind"] == Kind.ON_SITE and d["state"] == State.MET else None)
            for d in deadlines], batch_size=BATCH)

        deliveries = (Delivery.objects.filter(notification__incident_id__in=written,
                                              status__in=[*DELIVERED, DeliveryStatus.FAILED]).order_by()
                      .annotate(ack=Seconds("notification__acknowledged_at", "notification__created_at"))
                      .values("notification__incident_id", "kind", "status", "ack"))
        DeliveryFigure.objects.bulk_create([DeliveryFigure(
            figures_id=d["notification__incident_id"], **facts[d["notification__incident_id"]],
            channel=d["kind"], delivered=d["status"] in DELIVERED,
            ack_s=d["ack"] if d["status"] in DELIVERED else None) for d in deliveries], batch_size=BATCH)

        sources = (Alert.objects.filter(incident_id__in=written).order_by()
                   .values("incident_id", "integration__name").annotate(n=Count("id")))
        SourceFigure.objects.bulk_create([SourceFigure(
            figures_id=s["incident_id"], **facts[s["incident_id"]], source_name=s["integration__name"], alerts=s["n"])
            for s in sources],
            batch_size=BATCH)
        months_write(months)
    return len(written)


def month_of(moment: datetime) -> date:
    """The calendar month (its first day) of a moment, in the office's time zone."""
    return timezone.localtime(moment).date().replace(day=1)


def _midnight(month: date) -> datetime:
    return timezone.make_aware(datetime.combine(month, time.min))


MONTH_KEYS = ("category_key", "level_key", "source", "affected_system", "is_drill")


def _by_month(rows: Any, *more: str) -> Any:
    """Figures rows grouped by their month and keys (and ``more`` columns), in the shape of a ``Month*`` row."""
    return (rows.order_by()
            .values(*MONTH_KEYS, *more, asset_key=Coalesce("asset_id", Value(0)),
                    month=TruncMonth("opened_at", tzinfo=timezone.get_current_timezone(), output_field=DateField())))


def months_write(months: Iterable[date]) -> None:
    """Rewrite the sums of these months (and of any between them) from the figures rows: call it inside the
    transaction that changed those rows, after the change.

    The months are locked first (PostgreSQL: an advisory lock per month, in order; SQLite opens every
    transaction with BEGIN IMMEDIATE, one writer at a time), and each statement after the lock sees what other
    writers committed before it: two resolutions in one month each rewrite it with the other's rows, one after
    the other. At most thirteen statements, for any span.
    """
    wanted = sorted(set(months))
    if not wanted:
        return
    span = [wanted[0]]
    while span[-1] < wanted[-1]:
        span.append(add_months(span[-1], 1))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, key) FROM (SELECT unnest(%s::int[]) AS key ORDER BY 1) AS k",
                           [MONTH_LOCK_NAMESPACE, [m.year * 12 + m.month - 1 for m in span]])
    after = add_months(span[-1], 1)
    within = Q(opened_at__gte=_midnight(span[0]), opened_at__lt=_midnight(after))
    for model in (MonthIncidents, MonthDeadlines, MonthDeliveries, MonthSources):
        model.objects.filter(month__gte=span[0], month__lt=after).delete()
    incidents = _by_month(IncidentFigures.objects.filter(within)).annotate(
        incidents=Count("pk"), **{f"escalations_{cause}": Sum(f"escalations_{cause}") for cause in CAUSES})
    MonthIncidents.objects.bulk_create([MonthIncidents(**row) for row in incidents], batch_size=BATCH)
    deadlines = _by_month(DeadlineFigure.objects.filter(within), "kind", "role_key", "cell_level_key").annotate(
        decided=Count("pk"), kept=Sum(one_if(Q(kept=True))))
    MonthDeadlines.objects.bulk_create([MonthDeadlines(**row) for row in deadlines], batch_size=BATCH)
    deliveries = _by_month(DeliveryFigure.objects.filter(within), "channel").annotate(
        total=Count("pk"), delivered=Sum(one_if(Q(delivered=True))))
    MonthDeliveries.objects.bulk_create([MonthDeliveries(**row) for row in deliveries], batch_size=BATCH)
    sources = _by_month(SourceFigure.objects.filter(within), "source_name").annotate(
        alerts=Sum("alerts"), incidents=Count("pk"))
    MonthSources.objects.bulk_create([MonthSources(**row) for row in sources], batch_size=BATCH)


def figures_backfill(*, everything: bool = False, batch: int = BATCH) -> int:
    """Write the figures of every resolved incident without them (``everything``: rewrite all). Batches of
    ``batch`` incidents, each its own transaction, so a long backfill holds no lock for long."""
    incidents = Incident.objects.filter(resolved_at__isnull=False).order_by("id")
    if not everything:
        incidents = incidents.filter(figures__isnull=True)
    ids = list(incidents.values_list("id", flat=True))
    written = 0
    for start in range(0, len(ids), batch):
        written += figures_write(incident_ids=ids[start:start + batch])
    return written


def stale_ids(now: Any = None) -> Sequence[int]:
    """Resolved incidents whose figures are missing, or were written in the last ``RECHECK`` and something that
    may move them happened since: a timeline row (a duty met or cancelled, a level or field changed), a read
    confirmation, a delivery sent."""
    since = (now or timezone.now()) - RECHECK
    changed = (IncidentFigures.objects.filter(written_at__gte=since)
               .filter(Exists(TimelineEntry.objects.filter(incident_id=OuterRef("incident_id"),
                                                          id__gt=OuterRef("timeline_mark")))
                       | Exists(Notification.objects.filter(incident_id=OuterRef("incident_id"),
                                                           acknowledged_at__gt=OuterRef("written_at")))
                       | Exists(Delivery.objects.filter(notification__incident_id=OuterRef("incident_id"),
                                                       sent_at__gt=OuterRef("written_at"))))
               .values_list("incident_id", flat=True))
    missing = Incident.objects.filter(resolved_at__isnull=False, figures__isnull=True).values_list("id", flat=True)
    return sorted({*changed, *missing})


def figures_refresh(*, batch: int = BATCH) -> int:
    """The sweep: rewrite the figures ``stale_ids`` names, with ``figures_write``. Returns how many."""
    ids = list(stale_ids())
    written = 0
    for start in range(0, len(ids), batch):
        written += figures_write(incident_ids=ids[start:start + batch])
    return written


def on_resolved(incident: Incident, *, at: Any, actor: Any) -> None:
    """The ``resolved`` hook (incidents/hooks.py): the incident's figures, in the transaction resolving it."""
    figures_write(incident_ids=[incident.pk])
