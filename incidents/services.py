"""Everything that changes an incident. Pages, API, admin, integrations and tasks call these.

Each service locks the incident row, checks the viewer's right and the state
machine (``guard``), makes the change and writes its timeline row in one
transaction. Response-plan decisions (``decisions``) and notes
(``note_taking``) live in modules of their own and are called through here.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from simple_history.utils import bulk_create_with_history

from core.errors import Refused
from escalation import services as engine
from escalation.models import Kind
from notifications import announcements
from notifications.answers import confirm_read_about
from notifications.facts import Note
from notifications.models import Announcement, Ask
from notifications.recipients import notify_roles
from plan.models import Level, PlanVersion

from . import deadlines, hooks, levels, permissions, states, timeline
from . import stability as stability_rules
from .decisions import approve_plan, check_decision, propose_plan, reject_plan
from .faults import check_branches, checked_fault
from .guard import cannot, check, lock, move, refuse_if_archived
from .models import Incident, PlanStatus, Source, TimelineKind
from .note_taking import add_note
from .states import Status

if TYPE_CHECKING:
    from people.models import Person

# The longer services live beside this module and are called through it, like the rest.
__all__ = ["add_note", "approve_plan", "check_decision", "propose_plan", "reject_plan"]

DETAIL_FIELDS = ("title", "description", "affected_branches", "total_branches", "affected_system", "host_fault")


# --- opening ------------------------------------------------------------------------


def log_fault(*, reporter: "Person | None", category: str, level: str, title: str, description: str = "",
              affected_branches: int | None = None, total_branches: int | None = None, affected_system: str = "",
              host_fault: bool = False, is_drill: bool = False, discovered_at: datetime | None = None,
              source: str = Source.MANUAL, actor_label: str = "", plan_version: PlanVersion | None = None,
              clock: float = 1.0, asset: str = "") -> Incident:
    """Open an incident under the active plan and start its level's response.

    Everything is checked before anything is written, so a refusal leaves the
    caller's transaction usable and the writes need no savepoint of their own.
    """
    return log_faults([dict(
        reporter=reporter, category=category, level=level, title=title, description=description,
        affected_branches=affected_branches, total_branches=total_branches, affected_system=affected_system,
        host_fault=host_fault, is_drill=is_drill, discovered_at=discovered_at, source=source,
        actor_label=actor_label, plan_version=plan_version, clock=clock, asset=asset)])[0]


def log_faults(faults: Sequence[Mapping[str, Any]]) -> list[Incident]:
    """``log_fault`` for several faults (dicts of its arguments) at once: all are opened, or none.

    An alert storm opens many incidents together: their rows, history,
    timeline, deadlines and notifications are written in one statement each.
    """
    checked = [checked_fault(**fault) for fault in faults]
    with transaction.atomic(savepoint=False):
        now = timezone.now()
        incidents = [Incident(**fields, discovered_at=discovered_at or now, opened_at=now, level_since=now)
                     for fields, discovered_at, _actor_label in checked]
        if len(incidents) == 1:
            incidents[0].save()  # history by the post_save signal, with the request's user
        else:
            bulk_create_with_history(incidents, Incident, default_date=now)
        timeline.record_rows([
            timeline.row(incident, kind=TimelineKind.OPENED, actor=incident.reporter, actor_label=actor_label, at=now,
                       detail={"category": incident.category.key, "level": incident.level.key,
                               "plan_version": incident.plan_version.number, "drill": incident.is_drill,
                               "source": incident.source,
                               **({"asset": incident.asset.tag} if incident.asset else {})})
            for incident, (_fields, _discovered_at, actor_label) in zip(incidents, checked, strict=True)])
        levels.start_level_responses(incidents, started_at=now)
    return incidents


# --- level ----------------------------------------------------------------------


def check_level_change(incident: Incident, *, action: str, level_key: str, actor: "Person", reason: str) -> Level:
    """The level ``escalate`` or ``deescalate`` (``action``) would move ``incident`` to, checked but not changed.

    The incident page asks for confirmation before a level change and shows
    its consequences; this refuses exactly what the change itself would refuse.
    """
    check(actor, action, incident)
    target = Level.objects.filter(version=incident.plan_version, key=level_key).first()
    if target is None:
        raise ValidationError({"level": [_("unknown level %(key)r") % {"key": level_key}]})
    if action == "escalate" and not target.is_more_severe_than(incident.level):
        raise ValidationError({"level": [_("%(new)s is not more severe than the current level %(old)s; "
                                           "lowering a level is a separate action") %
                                         {"new": target.name, "old": incident.level.name}]})
    if action == "deescalate" and not incident.level.is_more_severe_than(target):
        raise ValidationError({"level": [_("%(new)s is not milder than the current level %(old)s") %
                                         {"new": target.name, "old": incident.level.name}]})
    if not (reason or "").strip():
        why = _("say why the level rises") if action == "escalate" else _("say why the level is lowered")
        raise ValidationError({"reason": [why]})
    return target


@transaction.atomic
def escalate(incident: Incident, *, level_key: str, actor: "Person", reason: str) -> Incident:
    """Manual escalation ("worsening", plan 4.3.1/4.3.2): the same path as a timed one."""
    incident = lock(incident)
    check_level_change(incident, action="escalate", level_key=level_key, actor=actor, reason=reason)
    return levels.change_level(incident, level_key=level_key, actor=actor, at=timezone.now(), reason=reason.strip(), cause="person")


@transaction.atomic
def raise_level(incident: Incident, *, level_key: str, reason: str) -> Incident:
    """A monitoring source saw worse: the level rises through the one path, if more severe and still open."""
    incident = lock(incident)
    target = Level.objects.get(version=incident.plan_version, key=level_key)
    if not incident.is_open or not target.is_more_severe_than(incident.level):
        return incident
    return levels.change_level(incident, level_key=level_key, actor=None, at=timezone.now(), reason=reason, cause="alert")


def record_alerts(entries: Iterable[tuple[Incident, str, dict[str, Any]]], *, at: datetime,
                  actor: "Person | None" = None) -> None:
    """Monitoring alerts that reached incidents, on their timelines: ``(incident, source name, detail)`` each.

    ``actor``: the person who moved them (splitting a group out of an alert storm), else the source acted.
    """
    timeline.record_rows([timeline.row(incident, kind=TimelineKind.ALERT, actor=actor,
                                       actor_label="" if actor else source, at=at, detail=detail)
                          for incident, source, detail in entries])


@transaction.atomic
def recovered_at_source(incident: Incident, *, source: str, event: str) -> Incident:
    """Every alert of ``source`` is resolved: the incident is recovered, and its responders are told.

    Recovery is not closure (plan 4.2.2: responders confirm stability and resolve).
    When the state machine does not allow it (nobody acknowledged yet), the
    refusal is recorded instead, so responders still see the source recovered.
    """
    said = gettext_noop("%(name)s reports every alert resolved")
    note = _(said) % {"name": source}
    if incident.status != Status.RECOVERED:
        try:
            incident = mark_recovered(incident, actor=None, note=note)
        except Refused as refused:
            timeline.record(incident, kind=TimelineKind.ALERT, actor_label=source, detail={
                "integration": source, "resolved_at_source": True, "not_marked_recovered": str(refused.message),
                "not_marked_recovered_status": incident.status})
    tell_responders(incident, event=event, note={"msgid": said, "params": {"name": source}})
    return incident


def tell_responders(incident: Incident, *, event: str, note: Note) -> None:
    """For their information: the roles the incident's cell sends on site or notifies (once per ``event``).

    ``note`` is facts, not a sentence, when the system writes it: each person reads it in their language
    (notifications/facts.py).
    """
    cell = engine.cell_of(incident)
    roles = [duty.role.key for duty in cell.on_site.all()] + [n.role.key for n in cell.notify.all()]
    notify_roles(incident, role_keys=roles, event=event, ask=Ask.FYI, note=note)


@transaction.atomic
def deescalate(incident: Incident, *, level_key: str, actor: "Person", reason: str) -> Incident:
    """Lowering a level is only ever manual and recorded (never automatic)."""
    incident = lock(incident)
    check_level_change(incident, action="deescalate", level_key=level_key, actor=actor, reason=reason)
    return levels.change_level(incident, level_key=level_key, actor=actor, at=timezone.now(), reason=reason.strip(), cause="person")


# --- working it ---------------------------------------------------------------------


@transaction.atomic
def acknowledge(incident: Incident, *, actor: "Person") -> Incident:
    """The actor takes the incident on ("I am taking this on"); their messages about it are answered by that."""
    incident = lock(incident)
    check(actor, "acknowledge", incident)
    incident.acknowledged_at, incident.acknowledged_by = timezone.now(), actor
    move(incident, "acknowledge", ["acknowledged_at", "acknowledged_by"])
    timeline.record(incident, kind=TimelineKind.ACKNOWLEDGED, actor=actor)
    confirm_read_about(incident.pk, person=actor)
    return incident


@transaction.atomic
def check_in(incident: Incident, *, actor: "Person") -> Incident:
    """The caller is on site; meets the arrival deadline of each role they hold."""
    incident = lock(incident)
    check(actor, "check_in", incident)
    now = timezone.now()
    met = engine.meet_on_site(incident, person=actor, at=now)
    if incident.acknowledged_at is None:
        # Whoever arrives first has taken the incident on.
        incident.acknowledged_at, incident.acknowledged_by = now, actor
    move(incident, "check_in", ["acknowledged_at", "acknowledged_by"])
    timeline.record(incident, kind=TimelineKind.CHECKED_IN, actor=actor, at=now, detail={
        "deadlines_met": [{"role": d.role_key, "due_at": d.due_at.isoformat(),
                           "early_seconds": round((d.due_at - now).total_seconds(), 1)} for d in met],
    })
    # On site says more than "I have read this": nobody keeps repeating "be on site" to whoever is there.
    confirm_read_about(incident.pk, person=actor)
    return incident


@transaction.atomic
def start_implementing(incident: Incident, *, actor: "Person") -> Incident:
    incident = lock(incident)
    cell = check(actor, "start_implementing", incident)
    if cell.approval_by is not None and incident.status != Status.PLAN_APPROVED:
        raise Refused(_("cannot start implementing: the plan requires %(role)s to approve a response plan first")
                      % {"role": cell.approval_by.name}, code="approval_required")
    move(incident, "start_implementing")
    timeline.record(incident, kind=TimelineKind.IMPLEMENTING, actor=actor)
    return incident


@transaction.atomic
def mark_recovered(incident: Incident, *, actor: "Person | None", note: str = "") -> Incident:
    """Service is back; responders watch until stability is confirmed (plan 4.2.2)."""
    incident = lock(incident)
    cell = check(actor, "mark_recovered", incident)
    now = timezone.now()
    # The plan's stability watch (plan 4.2.2) counts from here.
    incident.recovered_at = now
    move(incident, "mark_recovered", ["recovered_at"])
    detail: dict[str, Any] = {"note": note}
    if stability_rules.required(cell):
        assert cell.stability_by is not None and cell.stability_watch is not None  # stored together
        detail |= {"stability_by": cell.stability_by.key, "watch_seconds": int(cell.stability_watch.total_seconds()),
                   "watch_ends_at": (now + cell.stability_watch / incident.clock).isoformat()}
    timeline.record(incident, kind=TimelineKind.RECOVERED, actor=actor, at=now, detail=detail)
    return incident


@transaction.atomic
def resolve(incident: Incident, *, actor: "Person | None", summary: str, stability: str = "",
            actor_label: str = "") -> Incident:
    """Close the incident; cancels what is pending, each cancelled deadline on the timeline.

    In a plan cell with a stability rule (plan 4.2.2) only its role may, once
    the watch after recovery is over, saying what was watched and seen
    (``stability``): that confirmation goes on the timeline before the resolution.
    """
    incident = lock(incident)
    cell = check(actor, "resolve", incident)
    now = timezone.now()
    stability_rules.check(incident, cell=cell, person=actor, now=now)
    errors: dict[str, list[str]] = {}
    if not (summary or "").strip():
        errors["summary"] = [_("write a short summary of what was done")]
    observed = (stability or "").strip()
    if stability_rules.required(cell) and not observed:
        errors["stability"] = [_("say what was watched after recovery and what was seen (plan 4.2.2)")]
    if errors:
        raise ValidationError(errors)
    cancelled = engine.cancel_pending(incident, reason="incident resolved")
    incident.resolved_at, incident.resolved_by, incident.resolution_summary = now, actor, summary.strip()
    move(incident, "resolve", ["resolved_at", "resolved_by", "resolution_summary"])
    entries = []
    if observed:
        watched = (now - incident.recovered_at).total_seconds() if incident.recovered_at else None
        entries.append(timeline.row(incident, kind=TimelineKind.STABILITY_CONFIRMED, actor=actor,
                                    actor_label=actor_label, at=now, detail={
            "observed": observed[:2000], "by_role": cell.stability_by.key if cell.stability_by else "",
            "recovered_at": incident.recovered_at.isoformat() if incident.recovered_at else None,
            "watched_seconds": round(watched) if watched is not None else None,
            "watch_seconds": int(cell.stability_watch.total_seconds()) if cell.stability_watch else None,
        }))
    entries.append(timeline.row(incident, kind=TimelineKind.RESOLVED, actor=actor, actor_label=actor_label, at=now,
                                detail={"summary": incident.resolution_summary, "stability_confirmed": bool(observed),
                                        "deadlines_cancelled": len(cancelled)}))
    entries += levels.cancelled_rows(incident, cancelled, at=now, why="incident_resolved", actor=actor)
    timeline.record_rows(entries)
    hooks.run("resolved", incident, at=now, actor=actor)
    return incident


@transaction.atomic
def end_drill(incident: Incident, *, actor: "Person | None", summary: str) -> Incident:
    """Close a drill incident from any open status: the office ends the exercise when it chooses (drills app).

    Unlike ``resolve`` no state of the response is required first (a drill may
    end before anyone took it on, to score exactly that); every pending deadline
    ends here, each on the timeline.
    """
    incident = lock(incident)
    check(actor, "end_drill", incident)
    if not incident.is_drill:
        raise Refused(_("only a drill incident can be ended as a drill; resolve a real incident"), code="not_a_drill")
    now = timezone.now()
    # Every kind: nothing of an exercise outlives it (a scripted injection, a drill's report duty).
    cancelled = engine.cancel_pending(incident, reason="drill ended", kinds=Kind.values)
    incident.resolved_at, incident.resolved_by = now, actor
    incident.resolution_summary = (summary or "").strip() or "Drill ended"
    move(incident, "end_drill", ["resolved_at", "resolved_by", "resolution_summary"])
    timeline.record_rows([
        timeline.row(incident, kind=TimelineKind.RESOLVED, actor=actor, at=now, detail={
            "summary": incident.resolution_summary, "drill_ended": True, "deadlines_cancelled": len(cancelled)}),
        *levels.cancelled_rows(incident, cancelled, at=now, why="incident_resolved", actor=actor),
    ])
    hooks.run("resolved", incident, at=now, actor=actor)
    # What the apps above start at a resolution (a final report owed to the regulator) ends with the exercise too.
    started_by_hooks = engine.cancel_pending(incident, reason="drill ended", kinds=Kind.values)
    timeline.record_rows(levels.cancelled_rows(incident, started_by_hooks, at=now, why="incident_resolved", actor=actor))
    return incident


@transaction.atomic
def review(incident: Incident, *, actor: "Person", detail: Mapping[str, Any] | None = None) -> Incident:
    """Plan 5: the post-incident review is approved, so the incident is reviewed.

    Called by ``reviews.services.review_approve`` inside its transaction (the review's own rules live
    there); the authority checked here is the plan's ``approve_review``. The timeline entry is the approval.
    """
    incident = lock(incident)
    check(actor, "review", incident)
    move(incident, "review")
    timeline.record(incident, kind=TimelineKind.REVIEWED, actor=actor, detail=dict(detail or {}))
    return incident


@transaction.atomic
def archive(incident: Incident, *, actor: "Person") -> Incident:
    incident = lock(incident)
    check(actor, "archive", incident)
    now = timezone.now()
    # Resolution cancelled the plan's deadlines; anything started since (a later duty) ends here, on the record.
    cancelled = engine.cancel_pending(incident, reason="incident archived")
    move(incident, "archive")
    timeline.record_rows([timeline.row(incident, kind=TimelineKind.ARCHIVED, actor=actor, at=now),
                          *levels.cancelled_rows(incident, cancelled, at=now, why="incident_archived", actor=actor)])
    hooks.run("archived", incident, at=now, actor=actor)
    return incident


@transaction.atomic
def announce(incident: Incident, *, author: "Person", text_en: str = "", text_zh: str = "") -> Announcement:
    """The office or the leadership group announces the level by hand (plan 4.1.3); it goes on the timeline."""
    incident = lock(incident)
    check(author, "announce", incident)
    announcement = announcements.announcement_create(incident=incident, author=author, text_en=text_en,
                                                     text_zh=text_zh)
    timeline.record(incident, kind=TimelineKind.ANNOUNCED, actor=author, at=announcement.created_at,
           detail={"announcement": announcement.pk, "level": announcement.level_key, "automatic": False,
                   "text": (announcement.text_zh or announcement.text_en)[:500],
                   "text_zh": announcement.text_zh[:500], "text_en": announcement.text_en[:500]})
    return announcement


@transaction.atomic
def update_details(incident: Incident, *, actor: "Person | None", changes: Mapping[str, Any],
                   actor_label: str = "") -> Incident:
    """Edit the facts (title, branches, ...). Recorded old → new; may satisfy an escalation condition."""
    incident = lock(incident)
    refuse_if_archived(incident)
    if actor is not None:
        check(actor, "update", incident)
    elif not incident.is_open:
        raise Refused(cannot("update", incident), code="invalid_transition")
    unknown = set(changes) - set(DETAIL_FIELDS)
    if unknown:
        raise ValidationError({field: [_("cannot be changed here")] for field in sorted(unknown)})
    errors: dict[str, list[str]] = {}
    merged = {f: changes.get(f, getattr(incident, f)) for f in ("affected_branches", "total_branches")}
    check_branches(merged["affected_branches"], merged["total_branches"], errors)
    if "title" in changes and not (changes["title"] or "").strip():
        errors["title"] = [_("a short title is required")]
    if errors:
        raise ValidationError(errors)
    diff: dict[str, dict[str, Any]] = {}
    for field, value in changes.items():
        old = getattr(incident, field)
        if old != value:
            diff[field] = {"from": old, "to": value}
            setattr(incident, field, value)
    if not diff:
        return incident
    incident._history_user = actor  # type: ignore[attr-defined]  # simple-history reads it; no stub declares it
    incident.save(update_fields=list(diff))
    timeline.record(incident, kind=TimelineKind.UPDATED, actor=actor, actor_label=actor_label, detail=diff)
    deadlines.reevaluate_conditions(incident)
    return incident


# The review is written and approved on its own page (reviews); archiving asks for confirmation there too.
PAGE_ACTIONS = ("acknowledge", "check_in", "escalate", "propose_plan", "approve_plan", "reject_plan",
                "start_implementing", "mark_recovered", "resolve", "deescalate", "archive")


def action_choices(person: "Person", *, incident: Incident) -> tuple[list[str], list[tuple[str, str]]]:
    """What ``person`` may do now, and the other actions of the current state with why not (same rules the
    services apply): the incident page offers the first and explains the second instead of offering a refusal."""
    cell = engine.cell_of(incident)
    pending = incident.response_plans.filter(status=PlanStatus.PENDING).first()
    offered: list[str] = []
    refused: list[tuple[str, str]] = []
    for action in PAGE_ACTIONS:
        if not states.allowed(action, status=incident.status):
            continue
        if action in {"approve_plan", "reject_plan"} and pending is None:
            continue
        reason = permissions.refusal(person, action=action, incident=incident, cell=cell, plan=pending)
        if reason is None and action == "start_implementing" and cell.approval_by is not None \
                and incident.status != Status.PLAN_APPROVED:
            reason = _("the plan requires %(role)s to approve a response plan first") % {"role": cell.approval_by.name}
        if reason is None:
            offered.append(action)
        else:
            refused.append((action, reason))
    return offered, refused


def available_actions(person: "Person", *, incident: Incident) -> list[str]:
    """The actions ``person`` may take now, for the incident page (same rules the services apply)."""
    return action_choices(person, incident=incident)[0]
