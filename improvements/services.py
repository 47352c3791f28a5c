"""Plan change proposals: create, edit the draft, submit, approve, reject. Pages and API both call these.

Every edit of the draft (a cell's form, the raw YAML) becomes plan text and goes
through ``plan.services.check_text``, the check ``loadplan`` makes of a file:
a draft that fails raises ``PlanFileError`` with every error and its path, and
nothing is stored (each service is one transaction). Approving re-checks the
draft and activates it through ``plan.services.plan_draft_activate``.

Who may do what is plan data (docs/architecture.md, "The plan is data"): the
roles with the ``edit_plan`` authority (or ``review``, who write the reviews a
proposal comes from) may propose; only ``edit_plan`` may approve or reject.
"""

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Refused
from incidents import guard, permissions, timeline
from incidents.models import Incident, TimelineKind
from incidents.states import Status
from plan.diff import PlanDiff, diff_documents
from plan.document import check_document
from plan.models import PlanVersion
from plan.services import (check_text, export_version, plan_draft_activate, plan_draft_store, roles_with,
                           version_document)

from .models import Proposal, ProposalState

if TYPE_CHECKING:
    from people.models import Person


# --- who may ------------------------------------------------------------------------------------------


def propose_refusal(person: "Person") -> str | None:
    """None when ``person`` may propose a plan change; else why not."""
    if not person.is_authenticated:
        return _("sign in first")
    if person.is_superuser:
        return None
    if person.role_keys() & (roles_with("edit_plan") | roles_with("review")):
        return None
    return _("only the roles that edit the plan or review incidents may propose a plan change")


def decide_refusal(person: "Person") -> str | None:
    """None when ``person`` may approve or reject a proposal: the plan's ``edit_plan`` authority."""
    return permissions.refusal(person, action="edit_plan")


def edit_refusal(person: "Person", proposal: Proposal) -> str | None:
    """None when ``person`` may edit (or submit) the proposal: its proposer, or a role that edits the plan."""
    if proposal.proposed_by_id == person.pk or decide_refusal(person) is None:
        return None
    return _("only its proposer or the roles that edit the plan may edit this proposal")


def _check_editable(person: "Person", proposal: Proposal) -> None:
    _refuse(edit_refusal(person, proposal))
    if proposal.state != ProposalState.DRAFT:
        _refuse_state(_("the proposal is %(state)s: only a draft can be changed")
                      % {"state": proposal.get_state_display()})


def _refuse(reason: str | None) -> None:
    if reason:
        raise Refused(reason, code="forbidden", status_code=403)


def _refuse_state(reason: str | None) -> None:
    if reason:
        raise Refused(reason, code="invalid_state", status_code=409)


# --- writes -------------------------------------------------------------------------------------------


@transaction.atomic
def proposal_create(*, person: "Person", reason: str, incident: Incident | None = None,
                    text: str | None = None) -> Proposal:
    """A new draft proposal: a copy of the active plan, or ``text`` (checked like a file for loadplan)."""
    _refuse(propose_refusal(person))
    reason = (reason or "").strip()
    if not reason:
        raise Refused(_("say why the plan should change"), code="reason_required", status_code=400)
    active = PlanVersion.objects.filter(is_active=True).first()
    if active is None:
        raise Refused(_("no plan is active yet: load one with loadplan first"), code="no_plan")
    if incident is not None:
        guard.refuse_if_archived(incident)
    document = check_text(text if text is not None else export_version(active))
    draft = plan_draft_store(document=document, proposed_by=person, reason=reason, based_on=active)
    return Proposal.objects.create(incident=incident, reason=reason, draft=draft, proposed_by=person)


def _locked(proposal: Proposal) -> Proposal:
    """Lock the bare row (an outer join cannot be locked), then read it fresh with what it refers to."""
    Proposal.objects.select_for_update().values_list("pk", flat=True).get(pk=proposal.pk)
    return Proposal.objects.select_related("draft", "draft__based_on", "incident").get(pk=proposal.pk)


@transaction.atomic
def proposal_update(*, proposal: Proposal, person: "Person", reason: str | None = None,
                    text: str | None = None) -> Proposal:
    """Change the reason and/or replace the whole draft with ``text`` (the advanced editor, the API's PUT)."""
    proposal = _locked(proposal)
    _check_editable(person, proposal)
    if reason is not None:
        if not reason.strip():
            raise Refused(_("say why the plan should change"), code="reason_required", status_code=400)
        proposal.reason = reason.strip()
    if text is not None:
        plan_draft_store(document=check_text(text), proposed_by=proposal.proposed_by, reason=proposal.reason,
                         draft=proposal.draft)
    elif reason is not None:
        PlanVersion.objects.filter(pk=proposal.draft_id).update(reason=proposal.reason)
    proposal.save()
    return proposal


@dataclass(frozen=True)
class CellEdit:
    """What the cell form changes: the checklist, deadlines and roles of one category × level."""

    steps: list[dict[str, str]]
    notify: list[str]
    on_site: list[dict[str, str]]  # [{role, within}]
    approval_by: str  # "" for no approval
    approval_within: str  # "" for the default
    escalate_after: str  # ignored when the cell has no escalation


def cell_document(proposal: Proposal, *, category: str, level: str) -> dict[str, Any]:
    """The draft's cell as plan data (durations as in the file), or Refused 404 when there is no such cell."""
    for entry in version_document(proposal.draft)["categories"]:
        if entry["key"] == category and level in entry["responses"]:
            cell: dict[str, Any] = entry["responses"][level]
            return cell
    raise Refused(_("the plan has no cell %(category)s × %(level)s") % {"category": category, "level": level},
                  code="not_found", status_code=404)


@transaction.atomic
def proposal_edit_cell(*, proposal: Proposal, person: "Person", category: str, level: str,
                       edit: CellEdit) -> Proposal:
    proposal = _locked(proposal)
    _check_editable(person, proposal)
    document = copy.deepcopy(version_document(proposal.draft))
    cell = None
    for entry in document["categories"]:
        if entry["key"] == category:
            cell = entry["responses"].get(level)
    if cell is None:
        raise Refused(_("the plan has no cell %(category)s × %(level)s") % {"category": category, "level": level},
                      code="not_found", status_code=404)
    cell["steps"] = edit.steps
    # A form posts its checkboxes in role order: roles that stay keep their place, so the diff shows no reordering.
    cell["notify"] = [k for k in cell["notify"] if k in edit.notify] + [k for k in edit.notify if k not in cell["notify"]]
    cell["on_site"] = edit.on_site
    if edit.approval_by:
        cell["approval"] = {"by": edit.approval_by}
        if edit.approval_within:
            cell["approval"]["within"] = edit.approval_within
    else:
        cell["approval"] = None
    if cell.get("escalate"):
        cell["escalate"]["after"] = edit.escalate_after
    # The document is plan data already (what a file parses to): the loader's own check, without a YAML round trip.
    plan_draft_store(document=check_document(document), proposed_by=proposal.proposed_by,
                     reason=proposal.reason, draft=proposal.draft)
    proposal.save(update_fields=["updated_at"])
    return proposal


def _tell_incident(proposal: Proposal, *, kind: str, person: "Person", at: datetime,
                   detail: dict[str, Any]) -> None:
    """The linked incident's timeline records the step, unless the incident is archived (read-only by then)."""
    if proposal.incident_id is None:
        return
    incident = guard.lock(proposal.incident) if proposal.incident is not None else None
    if incident is None or incident.status == Status.ARCHIVED:
        return
    timeline.record(incident, kind=kind, actor=person, at=at, detail={"proposal": proposal.pk, **detail})


@transaction.atomic
def proposal_submit(*, proposal: Proposal, person: "Person") -> Proposal:
    proposal = _locked(proposal)
    _check_editable(person, proposal)
    now = timezone.now()
    proposal.state, proposal.submitted_at = ProposalState.SUBMITTED, now
    proposal.save(update_fields=["state", "submitted_at", "updated_at"])
    changes = proposal_diff(proposal)
    _tell_incident(proposal, kind=TimelineKind.PLAN_CHANGE_PROPOSED, person=person, at=now,
                   detail={"reason": proposal.reason, "changes": changes.count})
    return proposal


def _decidable(proposal: Proposal, person: "Person") -> Proposal:
    proposal = _locked(proposal)
    _refuse(decide_refusal(person))
    if proposal.state != ProposalState.SUBMITTED:
        _refuse_state(_("the proposal is %(state)s: only a submitted proposal can be decided")
                      % {"state": proposal.get_state_display()})
    return proposal


@transaction.atomic
def proposal_approve(*, proposal: Proposal, person: "Person", note: str = "") -> Proposal:
    """Activate the draft (checked again like a file for loadplan); open incidents keep their own version."""
    proposal = _decidable(proposal, person)
    active = PlanVersion.objects.select_for_update().filter(is_active=True).first()
    based_on = proposal.draft.based_on
    if active is not None and based_on is not None and active.pk != based_on.pk:
        _refuse_state(_("the active plan changed since this draft was made (from version %(old)s; version %(new)s "
                        "is active now): approving it would undo that change. Reject it and propose again from "
                        "the active plan.") % {"old": based_on.number, "new": active.number})
    now = timezone.now()
    version = plan_draft_activate(draft=proposal.draft, approved_by=person, at=now)
    proposal.state, proposal.decided_by, proposal.decided_at = ProposalState.APPROVED, person, now
    proposal.decision_note = (note or "").strip()
    proposal.save(update_fields=["state", "decided_by", "decided_at", "decision_note", "updated_at"])
    _tell_incident(proposal, kind=TimelineKind.PLAN_CHANGE_APPROVED, person=person, at=now,
                   detail={"plan_version": version.number, "note": proposal.decision_note})
    return proposal


@transaction.atomic
def proposal_reject(*, proposal: Proposal, person: "Person", note: str = "") -> Proposal:
    """Keep the proposal and its draft for the record; the active plan stays."""
    proposal = _decidable(proposal, person)
    note = (note or "").strip()
    if not note:
        raise Refused(_("say why the proposal is rejected"), code="note_required", status_code=400)
    now = timezone.now()
    proposal.state, proposal.decided_by, proposal.decided_at = ProposalState.REJECTED, person, now
    proposal.decision_note = note
    proposal.save(update_fields=["state", "decided_by", "decided_at", "decision_note", "updated_at"])
    _tell_incident(proposal, kind=TimelineKind.PLAN_CHANGE_REJECTED, person=person, at=now, detail={"note": note})
    return proposal


# --- reads --------------------------------------------------------------------------------------------


def compared_version(proposal: Proposal) -> PlanVersion | None:
    """What the draft is compared with: the active version while undecided, the one it replaced once approved."""
    if proposal.state == ProposalState.APPROVED:
        return proposal.draft.based_on
    return PlanVersion.objects.filter(is_active=True).first()


def proposal_diff(proposal: Proposal) -> PlanDiff:
    other = compared_version(proposal)
    old = version_document(other) if other is not None else {}
    return diff_documents(old, version_document(proposal.draft))
