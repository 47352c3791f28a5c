"""Reads of the alerts side for pages and the API."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Count, IntegerField, Max, OuterRef, Subquery

from .models import Alert, AlertGroup, AlertStatus, AlertStorm

if TYPE_CHECKING:
    from incidents.models import Incident


def storm_with_groups(pk: int) -> tuple[AlertStorm, list[AlertGroup]]:
    """A storm and its groups, each annotated with ``alert_count`` and ``last_received``: two queries.

    Alerts name their group by (integration, key), not by a key to the group
    row: the counts are correlated subqueries on the (integration, group_key) index.
    """
    storm = AlertStorm.objects.select_related("integration", "incident__level").get(pk=pk)
    of_group = Alert.objects.filter(integration_id=OuterRef("integration_id"), group_key=OuterRef("key"))
    groups = (AlertGroup.objects.filter(storm=storm).select_related("incident")
              .annotate(alert_count=Subquery(of_group.values("group_key").annotate(n=Count("id")).values("n"),
                                             output_field=IntegerField()),
                        last_received=Subquery(of_group.values("group_key").annotate(at=Max("received_at"))
                                               .values("at")),
                        last_summary=Subquery(of_group.order_by("-id").values("summary")[:1]))
              .order_by("key"))
    return storm, list(groups)


def storm_of_incident(incident_id: int) -> AlertStorm | None:
    """The storm whose incident this is, if any (the latest, should one incident have served two)."""
    return AlertStorm.objects.filter(incident_id=incident_id).order_by("-started_at").first()


# --- what monitoring says about one incident ---------------------------------------------

FIRING, RECOVERED = "firing", "recovered"


@dataclass
class MonitoringSource:
    integration: str
    name: str  # the alert's name (Alertmanager's alertname label), else its summary
    count: int


@dataclass
class MonitoringState:
    state: str  # FIRING or RECOVERED
    since: datetime  # firing: when the earliest alert still firing started; recovered: when the last one ended
    sources: list[MonitoringSource] = field(default_factory=list)  # firing: what fires, most alerts first

    @property
    def firing(self) -> bool:
        return self.state == FIRING


def _order(row: Any) -> tuple[datetime, int, int]:
    # The order alerts/grouping.py keeps of one alert's states: a later start wins; at the same start,
    # resolved beats firing.
    return (row.starts_at, 1 if row.status == AlertStatus.RESOLVED else 0, row.id)


def monitoring_state(incident: "Incident") -> MonitoringState | None:
    """Firing or recovered at the source, since when, and which sources fire; None when no alert reached it.

    Each alert (integration, fingerprint) counts in its latest state; an
    acknowledgement at the source changes no state. One query.
    """
    rows = Alert.objects.filter(incident_id=incident.pk).exclude(status=AlertStatus.ACKNOWLEDGED)
    if connection.features.can_distinct_on_fields:  # PostgreSQL: one row per alert instead of its whole history
        rows = (rows.order_by("integration_id", "fingerprint", "-starts_at", "-status", "-id")
                .distinct("integration_id", "fingerprint"))
    latest: dict[tuple[int, str], Any] = {}
    for row in rows.values_list("id", "integration_id", "integration__name", "fingerprint", "status", "starts_at",
                                "ends_at", "received_at", "labels__alertname", "summary", named=True):
        key = (row.integration_id, row.fingerprint)
        if key not in latest or _order(row) > _order(latest[key]):
            latest[key] = row
    if not latest:
        return None
    firing = [row for row in latest.values() if row.status == AlertStatus.FIRING]
    if not firing:
        return MonitoringState(state=RECOVERED, since=max(row.ends_at or row.received_at for row in latest.values()))
    counts: dict[tuple[str, str], int] = {}
    for row in firing:
        name = row.labels__alertname if isinstance(row.labels__alertname, str) and row.labels__alertname else row.summary
        counts[(row.integration__name, name)] = counts.get((row.integration__name, name), 0) + 1
    sources = [MonitoringSource(integration=integration, name=name, count=count)
               for (integration, name), count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    return MonitoringState(state=FIRING, since=min(row.starts_at for row in firing), sources=sources)
