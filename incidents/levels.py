"""An incident's level: changing it, whatever the cause, and starting the level's full response.

``change_level`` is the one path for every level change (a person, a plan
deadline, an escalation condition now met, a monitoring alert): it cancels
the old level's deadlines, records the cause on the timeline and starts the
new level's response. ``start_level_responses`` is that response (plan 3.1.2):
the level's deadlines, everyone the plan tells, the reports Fenghuo makes,
and the announcement at orange and red, all in the caller's transaction.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, get_args

from escalation import services as engine
from escalation.models import Deadline, Kind
from notifications.announcements import announce_level
from notifications.models import Ask
from notifications.recipients import notify_many, notify_roles
from plan.models import Level

from . import hooks, timeline
from .models import Incident, PlanStatus, ResponsePlan, TimelineEntry, TimelineKind

if TYPE_CHECKING:
    from people.models import Person


def start_level_responses(incidents: Sequence[Incident], *, started_at: datetime) -> None:
    """Start the full response of each incident's current level, counted from ``started_at``.

    Called inside the transaction that opened the incidents or changed their
    level. Deadlines, notifications, deliveries and timeline rows are written
    in one statement each for all of them (an alert storm opens many at once).
    """
    told_by_plan = engine.create_level_deadlines(incidents, started_at=started_at)
    # One event for the whole level start: a person in two of its roles is told once, by the first.
    items = [(incident, plan_told, f"level:{incident.level.key}:{started_at.isoformat()}")
             for incident, plan_told in zip(incidents, told_by_plan, strict=True)]
    entries: list[TimelineEntry] = []
    for (incident, plan_told, _event), (told, _nobody) in zip(items, notify_many(items), strict=True):
        level = incident.level.key
        entries.append(timeline.row(incident, kind=TimelineKind.NOTIFIED, at=started_at, detail={
            "level": level, "roles": list(dict.fromkeys(role_key for role_key, _ask, _due in plan_told)),
            "people": sorted({p.username for p in told})}))
        entries += [timeline.row(incident, kind=TimelineKind.REPORTED_TO, at=started_at,
                                 detail={"from": duty.from_role.key, "to": duty.to_role.key, "level": level})
                    for duty in engine.cell_of(incident).reports.all()]
    # Orange and red are announced to the related business departments (plan 4.1.3, 4.2.3).
    for incident in incidents:
        announcement = announce_level(incident, at=started_at)
        if announcement is not None:
            entries.append(timeline.row(incident, kind=TimelineKind.ANNOUNCED, at=started_at, detail={
                "announcement": announcement.pk, "level": announcement.level_key, "automatic": True,
                "text": announcement.text_zh[:500], "text_zh": announcement.text_zh[:500],
                "text_en": announcement.text_en[:500]}))
    timeline.record_rows(entries)
    hooks.run("level_started", list(incidents), at=started_at)


def start_approval(incident: Incident, *, role_key: str, started_at: datetime) -> Deadline:
    """The approver's decision deadline, and the approvers told: a response plan awaits them."""
    deadline = engine.start_approval(incident, role_key=role_key, started_at=started_at)
    notify_roles(incident, role_keys=[role_key], event=f"approval:{deadline.pk}", ask=Ask.APPROVE, due_at=deadline.due_at)
    return deadline


# Why a level changed, in a level_changed entry's ``detail["cause"]`` (interfaces.md): a person escalated or
# lowered it, a monitoring alert saw worse, the plan's time limit ran out, or the plan's escalation condition held.
Cause = Literal["person", "alert", "plan", "condition"]
CAUSES: tuple[Cause, ...] = get_args(Cause)

# Why a deadline ended early, in a deadline_cancelled entry's ``detail["why"]``.
Why = Literal["incident_resolved", "incident_archived", "incident_closed", "level_changed"]


def cancelled_rows(incident: Incident, deadlines: Sequence[Deadline], *, at: datetime, why: Why,
                   actor: "Person | None" = None) -> list[TimelineEntry]:
    """One deadline_cancelled entry per deadline that ended because the incident did (or its level changed)."""
    return [timeline.row(incident, kind=TimelineKind.DEADLINE_CANCELLED, actor=actor, at=at, deadline=d, detail={
        "deadline_kind": d.kind, "role": d.role_key, "to_role": d.to_role_key, "target": d.target_level_key,
        "level": d.level_key, "due_at": d.due_at.isoformat(), "why": why, "to_level": incident.level.key,
    }) for d in deadlines]


def change_level(incident: Incident, *, level_key: str, actor: "Person | None", at: datetime, reason: str,
                 cause: Cause, deadline: Deadline | None = None, lateness_seconds: float | None = None) -> Incident:
    """Move to another level and start that level's full response. Caller holds the incident lock."""
    if cause not in CAUSES:
        raise ValueError(f"unknown cause of a level change {cause!r} (one of {', '.join(CAUSES)})")
    old = incident.level
    new = Level.objects.get(version=incident.plan_version, key=level_key)
    cancelled = engine.cancel_pending(incident, reason=f"level changed to {new.key}",
                                      kinds=[Kind.ON_SITE, Kind.ESCALATION, Kind.REPORT])
    incident.level, incident.level_since = new, at
    incident.save(update_fields=["level", "level_since"])
    # "manual" stays for the readers written before "cause" named every cause.
    detail: dict[str, Any] = {"from": old.key, "to": new.key, "reason": reason, "cause": cause,
                              "manual": cause == "person"}
    if lateness_seconds is not None:
        detail["lateness_seconds"] = lateness_seconds
    timeline.record_rows([
        timeline.row(incident, kind=TimelineKind.LEVEL_CHANGED, actor=actor, at=at, detail=detail, deadline=deadline),
        *cancelled_rows(incident, cancelled, at=at, why="level_changed", actor=actor),
    ])
    start_level_responses([incident], started_at=at)
    _reassign_pending_approval(incident, at=at, actor=actor)
    return incident


def _reassign_pending_approval(incident: Incident, *, at: datetime, actor: "Person | None") -> None:
    """A level change re-asks the pending response plan's approval of the new level (plan rule 7).

    The approver becomes the new cell's approval role, its deadline restarts
    from the level change and the new approvers are told. When the new cell
    needs no approval (a level lowered to one without a gate), the plan stays
    pending with the approver already asked: nobody approved it, so clearing it
    would let an unapproved plan pass as approved; work is not held back meanwhile,
    since the new cell no longer gates starting the implementation.
    """
    pending = ResponsePlan.objects.select_for_update().filter(incident=incident, status=PlanStatus.PENDING).first()
    if pending is None:
        return
    cell = engine.cell_of(incident)
    old_role = pending.approver_role_key
    new_role = cell.approval_by.key if cell.approval_by is not None else old_role
    cancelled = engine.cancel_pending(incident, reason=f"level changed to {incident.level.key}", kinds=[Kind.APPROVAL])
    if new_role != old_role:
        pending.approver_role_key = new_role
        pending._history_user = actor  # type: ignore[attr-defined]  # simple-history reads it; no stub declares it
        pending.save(update_fields=["approver_role_key"])
    approval = start_approval(incident, role_key=new_role, started_at=at)
    timeline.record_rows([*cancelled_rows(incident, cancelled, at=at, why="level_changed", actor=actor),
                          timeline.row(incident, kind=TimelineKind.NOTE, actor=actor, at=at, detail={
        "plan": pending.pk, "approver_role_from": old_role, "approver_role": new_role,
        "approval_due_at": approval.due_at.isoformat(), "level": incident.level.key,
        "note": "approval re-asked at the new level"})])
