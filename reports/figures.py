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
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Case, Count, Exists, F, IntegerField, Max, OuterRef, Q, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.utils import timezone

from alerts.models import Alert
from escalation.models import Deadline, Kind, State
from incidents.models import Incident, TimelineEntry, TimelineKind
from notifications.models import Delivery, DeliveryStatus, Notification
from plan.document import LEVEL_RANKS

from .models import DeadlineFigure, DeliveryFigure, IncidentFigures, SourceFigure
from .stats import Seconds

DELIVERED = (DeliveryStatus.SENT, DeliveryStatus.COALESCED)
CAUSES = ("plan", "alert", "person", "condition")
# Rows written this recently are checked by the sweep for a later change (a read confirmation, a duty met after
# the resolution, an edit); older ones are the record, unless the backfill command is run with --all.
RECHECK = timedelta(days=30)
BATCH = 2_000


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
        if not facts:
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
    return len(written)


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
