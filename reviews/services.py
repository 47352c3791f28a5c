"""Every change of a review or a remediation action, and archiving. Pages, API, hooks and tasks call these.

Each service locks the incident row first (``incidents.guard.lock``), refuses
an archived incident (409), checks the plan's authority (``permissions``), makes
the change and writes its timeline row in the same transaction. An action of an
asset alone has no incident to lock, refuse or write on: its own row is locked,
and its history rows are its record.

Review:  (resolved) ──draft──▶ draft ──submit──▶ submitted ──approve──▶ approved (incident: reviewed)
                                  ▲                  │
                                  └─────return───────┘
Action:  open ──done (evidence)──▶ done;  open ──carry over (reason)──▶ carried_over
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assets.models import Asset
from core.errors import Refused
from escalation import services as engine
from escalation.models import Kind
from incidents import services as incident_services
from incidents import timeline
from incidents.guard import lock, refuse_if_archived
from incidents.models import Incident, TimelineKind
from incidents.states import Status
from people.models import Person

from . import permissions
from .models import REQUIRED_SECTIONS, SECTIONS, Action, ActionStatus, Review, ReviewStatus

SECTION_LABELS = {
    "summary": "what happened",
    "impact": "impact",
    "root_cause": "root cause",
    "went_well": "what went well",
    "went_wrong": "what went wrong",
    "lessons": "lessons",
}
MAX_SECTION = 20_000
MAX_TITLE = 300
MAX_EVIDENCE = 10_000


def _refuse(person: Person, action: str, incident: Incident | None, subject: Action | None = None) -> None:
    reason = permissions.refusal(person, action=action, incident=incident, subject=subject)
    if reason:
        raise Refused(reason, code="forbidden", status_code=403)


def _locked_review(incident: Incident) -> Review:
    review = Review.objects.select_for_update().filter(incident_id=incident.pk).first()
    if review is None:
        raise Refused(_("this incident has no review yet: it is drafted when the incident is resolved"),
                      code="no_review")
    return review


# --- the review ------------------------------------------------------------------------------


def review_draft(incident: Incident, *, at: datetime, actor: Person | None = None) -> Review:
    """Draft the review of a just-resolved incident (the ``resolved`` hook): what people wrote, prefilled.

    Runs inside the resolution's transaction, which holds the incident lock. A
    second resolution (there is none today) would find the draft already there.
    """
    existing = Review.objects.filter(incident_id=incident.pk).first()
    if existing is not None:
        return existing
    what = "\n\n".join(text for text in (incident.description.strip(), incident.resolution_summary.strip()) if text)
    review = Review.objects.create(incident=incident, summary=what, drafted_at=at, updated_at=at)
    timeline.record(incident, kind=TimelineKind.REVIEW_DRAFTED, at=at, detail={"review": review.pk})
    return review


@transaction.atomic
def review_update(incident: Incident, *, actor: Person, changes: Mapping[str, Any]) -> Review:
    """Edit the written parts of a draft review. Unknown parts are refused; omitted parts keep their text."""
    incident = lock(incident)
    refuse_if_archived(incident)
    _refuse(actor, "edit_review", incident)
    review = _locked_review(incident)
    if review.status != ReviewStatus.DRAFT:
        raise Refused(_("the review is %(status)s: only a draft can be edited (the approver may return it)")
                      % {"status": review.get_status_display()}, code="invalid_transition")
    errors: dict[str, list[str]] = {}
    for name in sorted(set(changes) - set(SECTIONS)):
        errors[name] = [_("not a part of the review (its parts: %(parts)s)") % {"parts": ", ".join(SECTIONS)}]
    for name in SECTIONS:
        if name in changes:
            value = changes[name]
            if value is None:
                value = ""
            if not isinstance(value, str):
                errors[name] = [_("must be text")]
            elif len(value) > MAX_SECTION:
                errors[name] = [_("at most %(n)d characters") % {"n": MAX_SECTION}]
    if errors:
        raise ValidationError(errors)
    changed = [name for name in SECTIONS if name in changes and (changes[name] or "").strip() != getattr(review, name)]
    if not changed:
        return review
    for name in changed:
        setattr(review, name, (changes[name] or "").strip())
    review.updated_at, review.updated_by = timezone.now(), actor
    review._history_user = actor  # type: ignore[attr-defined]  # simple-history reads it
    review.save(update_fields=[*changed, "updated_at", "updated_by"])
    return review


@transaction.atomic
def review_submit(incident: Incident, *, actor: Person) -> Review:
    """Send the draft to the approver; every required part must be written (the empty ones are named)."""
    incident = lock(incident)
    refuse_if_archived(incident)
    _refuse(actor, "submit_review", incident)
    review = _locked_review(incident)
    if review.status != ReviewStatus.DRAFT:
        raise Refused(_("the review is %(status)s, not a draft") % {"status": review.get_status_display()},
                      code="invalid_transition")
    empty = [name for name in REQUIRED_SECTIONS if not getattr(review, name).strip()]
    if empty:
        raise ValidationError({name: [_("write this part before submitting the review")] for name in empty})
    now = timezone.now()
    review.status, review.submitted_at, review.submitted_by = ReviewStatus.SUBMITTED, now, actor
    review._history_user = actor  # type: ignore[attr-defined]
    review.save(update_fields=["status", "submitted_at", "submitted_by"])
    timeline.record(incident, kind=TimelineKind.REVIEW_SUBMITTED, actor=actor, at=now, detail={"review": review.pk})
    return review


@transaction.atomic
def review_return(incident: Incident, *, actor: Person, reason: str) -> Review:
    """The approver sends a submitted review back to the office as a draft, saying why."""
    incident = lock(incident)
    refuse_if_archived(incident)
    _refuse(actor, "return_review", incident)
    review = _locked_review(incident)
    if review.status != ReviewStatus.SUBMITTED:
        raise Refused(_("the review is %(status)s: only a submitted review can be returned")
                      % {"status": review.get_status_display()}, code="invalid_transition")
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("say what the review needs before it can be approved")]})
    now = timezone.now()
    review.status = ReviewStatus.DRAFT
    review._history_user = actor  # type: ignore[attr-defined]
    review.save(update_fields=["status"])
    timeline.record(incident, kind=TimelineKind.REVIEW_RETURNED, actor=actor, at=now,
                    detail={"review": review.pk, "reason": reason.strip()[:2000]})
    return review


@transaction.atomic
def review_approve(incident: Incident, *, actor: Person) -> Review:
    """Approve a submitted review: the incident moves to reviewed (its timeline entry is the approval)."""
    incident = lock(incident)
    refuse_if_archived(incident)
    _refuse(actor, "approve_review", incident)
    review = _locked_review(incident)
    if review.status != ReviewStatus.SUBMITTED:
        raise Refused(_("the review is %(status)s: only a submitted review can be approved")
                      % {"status": review.get_status_display()}, code="invalid_transition")
    now = timezone.now()
    review.status, review.approved_at, review.approved_by = ReviewStatus.APPROVED, now, actor
    review._history_user = actor  # type: ignore[attr-defined]
    review.save(update_fields=["status", "approved_at", "approved_by"])
    incident_services.review(incident, actor=actor, detail={"review": review.pk})
    return review


# --- remediation actions ---------------------------------------------------------------------


def remind_every() -> timedelta:
    """How often an overdue action's owner and the office are told again (settings.FENGHUO_REMEDIATION_REMIND_EVERY)."""
    return settings.FENGHUO_REMEDIATION_REMIND_EVERY


def _owner(username: str) -> Person | None:
    return Person.objects.filter(username=username, is_active=True).first() if username else None


@transaction.atomic
def action_create(incident: Incident | None = None, *, actor: Person, title: str, owner: str,
                  due_at: datetime | None, asset: Asset | None = None, vouched: bool = False,
                  reason: str = "") -> Action:
    """A remediation action with an owner (a username) and a future due date; its due date starts a deadline.

    It hangs from ``incident`` (its review's authority decides; an entry on its timeline), or from ``asset``
    alone (the active plan's ``review`` authority decides, unless the caller ``vouched`` for the actor by its
    own rule: an inspection finding lets its walker add one). An action of no incident has no timeline: its
    history row (``reason`` says what raised it) and its deadline are its record.
    """
    if incident is None and asset is None:
        raise ValidationError({"incident": [_("an action hangs from an incident or an asset")]})
    if incident is not None:
        incident = lock(incident)
        refuse_if_archived(incident)
    if not vouched:
        _refuse(actor, "add_action", incident)
    now = timezone.now()
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = [_("say what is to be done")]
    elif len(title) > MAX_TITLE:
        errors["title"] = [_("at most %(n)d characters") % {"n": MAX_TITLE}]
    person = _owner((owner or "").strip())
    if not (owner or "").strip():
        errors["owner"] = [_("every action needs an owner: give their username")]
    elif person is None:
        errors["owner"] = [_("nobody active has the username %(name)r") % {"name": owner.strip()}]
    if due_at is None:
        errors["due_at"] = [_("every action needs a due date")]
    elif due_at <= now:
        errors["due_at"] = [_("the due date is in the past: give a time after now")]
    if errors:
        raise ValidationError(errors)
    assert person is not None and due_at is not None
    action = Action(incident=incident, asset=asset, title=title, owner=person, due_at=due_at, created_at=now,
                    created_by=actor)
    action._history_user = actor  # type: ignore[attr-defined]  # simple-history reads them
    if reason:
        action._change_reason = reason[:100]  # type: ignore[attr-defined]
    action.save()
    engine.start_deadline(kind=Kind.REMEDIATION, due_at=due_at, incident=incident, subject=action.subject,
                          level_key=incident.level.key if incident is not None else "", started_at=now,
                          note=title[:300])
    if incident is not None:
        timeline.record(incident, kind=TimelineKind.ACTION_ADDED, actor=actor, at=now, detail={
            "action": action.pk, "title": title, "owner": person.username, "due_at": due_at.isoformat()})
    return action


def _lock_action(action: Action) -> tuple[Incident | None, Action]:
    """Lock the incident (when there is one: an archived one refuses), then the action: the engine's order."""
    incident = None
    if action.incident_id is not None:
        incident = lock(Incident(pk=action.incident_id))
        refuse_if_archived(incident)
    return incident, Action.objects.select_for_update().get(pk=action.pk)


def _still_open(action: Action, verb: str) -> None:
    if action.status != ActionStatus.OPEN:
        raise Refused(_("cannot %(verb)s: the action is already %(status)s")
                      % {"verb": verb, "status": action.get_status_display()}, code="invalid_transition")


@transaction.atomic
def action_done(action: Action, *, actor: Person, evidence: str) -> Action:
    """The owner (or the office) records the action done, with the evidence; its deadline is met."""
    incident, action = _lock_action(action)
    _refuse(actor, "complete_action", incident, subject=action)
    _still_open(action, _("record it done"))
    evidence = (evidence or "").strip()
    if not evidence:
        raise ValidationError({"evidence": [_("say what shows it is done (a change number, a test, a document)")]})
    if len(evidence) > MAX_EVIDENCE:
        raise ValidationError({"evidence": [_("at most %(n)d characters") % {"n": MAX_EVIDENCE}]})
    now = timezone.now()
    action.status, action.evidence, action.closed_at, action.closed_by = ActionStatus.DONE, evidence, now, actor
    action._history_user = actor  # type: ignore[attr-defined]
    action.save(update_fields=["status", "evidence", "closed_at", "closed_by"])
    engine.meet(engine.pending_for(Kind.REMEDIATION, action.subject, incident=incident), person=actor, at=now)
    if incident is not None:
        timeline.record(incident, kind=TimelineKind.ACTION_DONE, actor=actor, at=now, detail={
            "action": action.pk, "title": action.title, "evidence": evidence[:2000],
            "late_seconds": max(0, round((now - action.due_at).total_seconds()))})
    return action


@transaction.atomic
def action_carry_over(action: Action, *, actor: Person, reason: str) -> Action:
    """The office carries an open action over (to a plan, a project, next year), saying why; reminders stop."""
    incident, action = _lock_action(action)
    _refuse(actor, "carry_over_action", incident, subject=action)
    _still_open(action, _("carry it over"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("say why the action is carried over, and where it goes on")]})
    if len(reason) > MAX_EVIDENCE:
        raise ValidationError({"reason": [_("at most %(n)d characters") % {"n": MAX_EVIDENCE}]})
    now = timezone.now()
    action.status, action.carry_over_reason = ActionStatus.CARRIED_OVER, reason
    action.closed_at, action.closed_by = now, actor
    action._history_user = actor  # type: ignore[attr-defined]
    action.save(update_fields=["status", "carry_over_reason", "closed_at", "closed_by"])
    engine.cancel_subject(Kind.REMEDIATION, action.subject, reason="action carried over", incident=incident)
    if incident is not None:
        timeline.record(incident, kind=TimelineKind.ACTION_CARRIED_OVER, actor=actor, at=now, detail={
            "action": action.pk, "title": action.title, "reason": reason[:2000]})
    return action


# --- archiving --------------------------------------------------------------------------------


def archive_refusals(incident: Incident) -> list[str]:
    """Why ``incident`` cannot be archived yet, in words a person can act on; empty when it can."""
    reasons = []
    review = Review.objects.filter(incident_id=incident.pk).first()
    if review is None or review.status != ReviewStatus.APPROVED:
        reasons.append(_("the review is not approved yet") if review else _("the incident has no review yet"))
    still_open = Action.objects.filter(incident_id=incident.pk, status=ActionStatus.OPEN).count()
    if still_open:
        reasons.append(_("%(n)d remediation action(s) still open: each must be done or carried over")
                       % {"n": still_open})
    return reasons


def refuse_unready_archive(incident: Incident, *, at: datetime, actor: Person | None) -> None:
    """The ``archived`` hook: archiving needs the approved review and no open action (else 409, nothing changes)."""
    reasons = archive_refusals(incident)
    if reasons:
        raise Refused(_("cannot archive: %(why)s") % {"why": "; ".join(reasons)}, code="not_ready_to_archive")


def incident_archive(incident: Incident, *, actor: Person) -> Incident:
    """Archive through the incident workflow (its state machine and the ``archive`` authority); the hook
    above refuses it while the review is unapproved or an action is open."""
    return incident_services.archive(incident, actor=actor)
