"""Hand-built history for the report tests: incidents, deadlines, timeline rows, alerts and notifications
written straight to the tables, at the moments each test names, so every expected figure can be worked out."""

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from alerts.integrations import integration_create
from alerts.models import Alert, AlertStatus, Integration
from escalation.models import Deadline, Kind, State
from incidents.models import Incident, Status, TimelineEntry, TimelineKind
from notifications.models import Delivery, DeliveryStatus, Notification
from plan.models import Category, Level, PlanVersion

SHANGHAI = ZoneInfo("Asia/Shanghai")
_n = itertools.count(1)


def at(text: str) -> datetime:
    """'2026-11-02 10:00' in the office's time zone (Asia/Shanghai, the settings' default)."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def incident(version: PlanVersion, *, category="system", level="yellow", opened: datetime, ack: float | None = None,
             recovered: float | None = None, resolved: float | None = None, drill=False, source="manual",
             title="") -> Incident:
    """An incident opened at ``opened``; ack/recovered/resolved are seconds after it opened."""
    return Incident.objects.create(
        title=title or f"fault {next(_n)}", plan_version=version,
        category=Category.objects.get(version=version, key=category), level=Level.objects.get(version=version, key=level),
        status=Status.RESOLVED if resolved is not None else (Status.ACKNOWLEDGED if ack is not None else Status.REPORTED),
        is_drill=drill, source=source, opened_at=opened, discovered_at=opened, level_since=opened,
        acknowledged_at=None if ack is None else opened + s(ack),
        recovered_at=None if recovered is None else opened + s(recovered),
        resolved_at=None if resolved is None else opened + s(resolved),
    )


def deadline(inc: Incident, *, kind: str, state: str, due: float, acted: float | None = None, role="",
             to_role="", level: str | None = None, started: float = 0) -> Deadline:
    """A deadline of ``inc``; started/due/acted are seconds after the incident opened."""
    return Deadline.objects.create(
        incident=inc, kind=kind, state=state, level_key=level or inc.level.key, role_key=role, to_role_key=to_role,
        started_at=inc.opened_at + s(started), due_at=inc.opened_at + s(due),
        acted_at=None if state == State.PENDING else inc.opened_at + s(acted if acted is not None else due),
        target_level_key="orange" if kind == Kind.ESCALATION else "",
    )


def level_change(inc: Incident, *, frm: str, to: str, cause: str, after: float = 60) -> TimelineEntry:
    return TimelineEntry.objects.create(incident=inc, at=inc.opened_at + s(after), kind=TimelineKind.LEVEL_CHANGED,
                                        detail={"from": frm, "to": to, "reason": "", "cause": cause})


def integration(name: str) -> Integration:
    found = Integration.objects.filter(name=name).first()
    return found or integration_create(name=name, kind="alertmanager")[0]


def alerts(inc: Incident, source: str, count: int) -> None:
    source_row = integration(source)
    for _ in range(count):
        n = next(_n)
        Alert.objects.create(
            integration=source_row, group_key="g", fingerprint=f"f{n}", delivery_key=f"d{n}",
            status=AlertStatus.FIRING, starts_at=inc.opened_at, summary="down", category_key=inc.category.key,
            level_key=inc.level.key, received_at=inc.opened_at, incident=inc, processed_at=inc.opened_at)


def notification(inc: Incident, *, ack: float | None, deliveries: dict[str, str]) -> Notification:
    """A notification written when ``inc`` opened, read-confirmed ``ack`` seconds later, delivered per channel."""
    n = next(_n)
    note = Notification.objects.create(incident=inc, role_key="office", event=f"e{n}", title="t", dedup_key=f"k{n}",
                                       acknowledged_at=None if ack is None else inc.opened_at + s(ack))
    Notification.objects.filter(pk=note.pk).update(created_at=inc.opened_at)  # auto_now_add: set it afterwards
    for kind, status in deliveries.items():
        Delivery.objects.create(notification=note, kind=kind, idempotency_key=f"i{n}{kind}", status=status,
                                sent_at=inc.opened_at if status == DeliveryStatus.SENT else None)
    return note
