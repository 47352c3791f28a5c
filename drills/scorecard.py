"""A drill's scorecard: every requirement of the cells it passed through, who should have, by when, and whether.

The requirements are the drill incident's own rows, written by the real engine:
its on-site, approval and report deadlines, and every notification that asked
for an answer (confirming it was read). A deadline the level change superseded,
or one not yet due when the drill ended, is no requirement of this drill. The
plan gives no time to confirm reading; the drill expects it within
``DRILLS_ACKNOWLEDGE_WITHIN_SECONDS`` of plan time. Each time is reported on
both clocks: real seconds since the start, and plan seconds (times the drill's clock).
"""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from escalation.models import Deadline, Kind, State
from incidents.models import TimelineKind
from notifications.facts import bilingual
from notifications.models import ASKS_NEEDING_ANSWER

if TYPE_CHECKING:
    from .models import Drill

SCORED_KINDS = (Kind.ON_SITE, Kind.APPROVAL, Kind.REPORT)
ACKNOWLEDGE = "acknowledge"


def _after(at: datetime | None, start: datetime, clock: float) -> tuple[float | None, float | None]:
    if at is None:
        return None, None
    real = (at - start).total_seconds()
    return round(real, 3), round(real * clock, 1)


def scorecard_of(drill: "Drill") -> dict[str, Any]:
    """The scorecard as stored on the drill and answered by the API (``items`` and ``score``, interfaces.md)."""
    incident = drill.incident
    assert incident is not None and drill.started_at is not None
    start, clock = drill.started_at, drill.clock
    ended = drill.ended_at or timezone.now()
    roles = {r.key: r for r in incident.plan_version.roles.all()}
    items: list[dict[str, Any]] = []

    def add(requirement: str, *, role_key: str, people: list[str], due_at: datetime, met_at: datetime | None,
            met: bool, level_key: str) -> None:
        due_real, due_plan = _after(due_at, start, clock)
        met_real, met_plan = _after(met_at, start, clock)
        role = roles.get(role_key)
        items.append({
            "requirement": requirement, "role": role_key, "role_name": bilingual(role) if role else {},
            "people": people, "level": level_key, "due_at": due_at.isoformat(),
            "met_at": met_at.isoformat() if met_at else None, "met": met,
            "due_after_s": due_real, "due_after_plan_s": due_plan, "met_after_s": met_real,
            "met_after_plan_s": met_plan,
        })

    # Who should have: whoever met it, else everyone the drill told in that role.
    told: dict[str, list[str]] = {}
    for role_key, username in (incident.notifications.filter(person__isnull=False).order_by("person__username")
                               .values_list("role_key", "person__username")):
        if username not in told.setdefault(role_key, []):
            told[role_key].append(username)
    for d in Deadline.objects.filter(incident=incident, kind__in=SCORED_KINDS).select_related("met_by"):
        if d.state == State.CANCELLED and not (d.note == "drill ended" and d.due_at <= ended):
            continue  # superseded by a level change, or not due before the drill ended
        if d.state == State.PENDING and d.due_at > ended:
            continue
        met = d.state == State.MET
        who = [d.met_by.username] if d.met_by else told.get(d.role_key, [])
        add(d.kind, role_key=d.role_key, people=who, due_at=d.due_at, met_at=d.acted_at if met else None, met=met,
            level_key=d.level_key)

    within = timedelta(seconds=settings.DRILLS_ACKNOWLEDGE_WITHIN_SECONDS) / clock
    notifications = (incident.notifications.filter(person__isnull=False, ask__in=ASKS_NEEDING_ANSWER,
                                                   cancelled_at__isnull=True, visible_from__lte=ended)
                     .select_related("person").order_by("visible_from", "id"))
    for n in notifications:
        assert n.person is not None
        due = n.visible_from + within
        acknowledged = n.acknowledged_at
        add(ACKNOWLEDGE, role_key=n.role_key, people=[n.person.username], due_at=due, met_at=acknowledged,
            met=acknowledged is not None and acknowledged <= due, level_key=n.level_key)

    items.sort(key=lambda i: (i["due_at"], i["requirement"], i["role"]))
    met_count = sum(1 for i in items if i["met"])
    level_path = [incident.timeline.filter(kind=TimelineKind.OPENED).values_list("detail__level", flat=True).first()
                  or drill.level_key]
    level_path += list(incident.timeline.filter(kind=TimelineKind.LEVEL_CHANGED).order_by("at", "id")
                       .values_list("detail__to", flat=True))
    real_elapsed = (ended - start).total_seconds()
    return {
        "drill": drill.pk, "incident": incident.pk, "category": drill.category_key, "levels": level_path,
        "clock": clock, "started_at": start.isoformat(), "ended_at": ended.isoformat(),
        "real_elapsed_s": round(real_elapsed, 3), "plan_elapsed_s": round(real_elapsed * clock, 1),
        "items": items, "met": met_count, "total": len(items),
        "score": round(100 * met_count / len(items)) if items else None,
        "observations": drill.observations,
    }
