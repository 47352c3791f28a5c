"""Response plans: proposed by responders, decided by the cell's approval role (plan rule 6).

Called through ``incidents.services`` like every other change of an incident.
"""

from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Refused
from escalation import services as engine
from notifications.recipients import notify_person_and_roles
from plan.services import roles_with

from . import levels, states, timeline
from .guard import check, lock, move, refuse_if_archived
from .models import Incident, PlanStatus, ResponsePlan, TimelineKind
from .states import Status

if TYPE_CHECKING:
    from people.models import Person


@transaction.atomic
def propose_plan(incident: Incident, *, actor: "Person", text: str) -> ResponsePlan:
    incident = lock(incident)
    cell = check(actor, "propose_plan", incident)
    if not (text or "").strip():
        raise ValidationError({"text": [_("write the response plan")]})
    now = timezone.now()
    approver = cell.approval_by.key if cell.approval_by is not None else ""
    plan = ResponsePlan.objects.create(incident=incident, text=text.strip(), proposed_by=actor, proposed_at=now,
                                       approver_role_key=approver,
                                       status=PlanStatus.PENDING if approver else PlanStatus.APPROVED,
                                       decided_at=None if approver else now)
    timeline.record(incident, kind=TimelineKind.PLAN_PROPOSED, actor=actor, at=now,
           detail={"plan": plan.pk, "approver_role": approver, "text": plan.text[:500]})
    if approver:
        incident.status = Status.PLAN_PROPOSED
        levels.start_approval(incident, role_key=approver, started_at=now)
    else:
        # The cell needs no approval: the plan is simply recorded and work goes on.
        incident.status = Status.IMPLEMENTING
    incident.save(update_fields=["status"])
    return plan


def _refuse_decision(plan: ResponsePlan, incident: Incident, *, actor: "Person", comment: str, approve: bool) -> None:
    action = "approve_plan" if approve else "reject_plan"
    refuse_if_archived(incident)
    if plan.status != PlanStatus.PENDING:
        raise Refused(_("cannot %(action)s: it is already %(status)s") %
                      {"action": states.ACTION_NAMES[action], "status": plan.get_status_display()},
                      code="invalid_transition")
    check(actor, action, incident, plan=plan)
    if not approve and not (comment or "").strip():
        raise ValidationError({"comment": [_("say why the plan is rejected")]})


def check_decision(plan: ResponsePlan, *, actor: "Person", comment: str, approve: bool) -> None:
    """Raise what deciding now would raise (``Refused``, ``ValidationError``), and change nothing.

    The pages ask for a confirmation before deciding (issue 14): this lets
    them refuse at once what the decision itself would refuse.
    """
    _refuse_decision(plan, Incident.objects.with_plan().get(pk=plan.incident_id), actor=actor, comment=comment,
                     approve=approve)


def _decide(plan: ResponsePlan, *, actor: "Person", comment: str, approve: bool) -> ResponsePlan:
    incident = lock(plan.incident)
    plan = ResponsePlan.objects.select_for_update().get(pk=plan.pk)
    _refuse_decision(plan, incident, actor=actor, comment=comment, approve=approve)
    now = timezone.now()
    plan.status = PlanStatus.APPROVED if approve else PlanStatus.REJECTED
    plan.decided_by, plan.decided_at, plan.decision_comment = actor, now, (comment or "").strip()
    plan._history_user = actor  # type: ignore[attr-defined]  # simple-history reads it; no stub declares it
    plan.save()
    engine.meet_approval(incident, person=actor, at=now)
    move(incident, "approve_plan" if approve else "reject_plan")
    timeline.record(incident, kind=TimelineKind.PLAN_APPROVED if approve else TimelineKind.PLAN_REJECTED, actor=actor, at=now,
           detail={"plan": plan.pk, "comment": plan.decision_comment})
    _tell_the_decision(incident, plan, actor=actor, at=now)
    return plan


def _tell_the_decision(incident: Incident, plan: ResponsePlan, *, actor: "Person", at: datetime) -> None:
    """The proposer and the office (the roles that coordinate) learn the decision on their channels (issue 14).

    One event per plan and decision: a plan is decided once, and a retry of
    the same event tells nobody twice (notifications.recipients).
    """
    who, comment, approved = actor.display_name, plan.decision_comment, plan.status == PlanStatus.APPROVED

    def note() -> str:  # called in each reader's language
        if approved and comment:
            return _("%(who)s approved the response plan. Comment: %(comment)s") % {"who": who, "comment": comment}
        if approved:
            return _("%(who)s approved the response plan.") % {"who": who}
        return _("%(who)s rejected the response plan. Reason: %(reason)s") % {"who": who, "reason": comment}

    coordinators = sorted(roles_with("coordinate", incident.plan_version_id))
    told, _nobody = notify_person_and_roles(incident, person=plan.proposed_by, role_keys=coordinators,
                                            event=f"plan:{plan.pk}:{plan.status}", note=note)
    timeline.record(incident, kind=TimelineKind.NOTIFIED, at=at, detail={
        "plan": plan.pk, "decision": plan.status, "roles": coordinators,
        "proposer": plan.proposed_by.username if plan.proposed_by else None,
        "people": sorted({p.username for p in told})})


@transaction.atomic
def approve_plan(plan: ResponsePlan, *, actor: "Person", comment: str = "") -> ResponsePlan:
    return _decide(plan, actor=actor, comment=comment, approve=True)


@transaction.atomic
def reject_plan(plan: ResponsePlan, *, actor: "Person", comment: str) -> ResponsePlan:
    return _decide(plan, actor=actor, comment=comment, approve=False)
