"""What every incident service does first: lock the row, check the state machine and the person's right.

``lock`` → ``check`` (which first refuses an archived incident: 409) → change → ``move`` (the status, by
the state table). The
services in ``services``, ``decisions`` and ``notes`` share these steps so
that each refuses the same way.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from core.errors import Refused
from escalation import services as engine
from plan.models import Cell

from . import permissions, states
from .models import Incident, PlanStatus, ResponsePlan
from .states import Status

if TYPE_CHECKING:
    from people.models import Person


def lock(incident: Incident) -> Incident:
    # Lock the bare row, then read it with its joins. Locking through the joins loses the row when the
    # transaction we waited for changed its level: PostgreSQL re-checks the updated row against the
    # joined rows it had already read, finds the old level, and returns nothing (DoesNotExist).
    Incident.objects.select_for_update().values_list("pk", flat=True).get(pk=incident.pk)
    return Incident.objects.with_plan().get(pk=incident.pk)


def refuse_if_archived(incident: Incident) -> None:
    """An archived incident is a closed record (plan 5, 归档): every write to it is refused with 409."""
    if incident.status == Status.ARCHIVED:
        raise Refused(_("incident %(id)s is archived: its record is closed and can no longer change")
                      % {"id": incident.pk}, code="archived", status_code=409)


def check(person: "Person | None", action: str, incident: Incident, *,
           plan: ResponsePlan | None = None) -> Cell:
    # Every service checks here after locking: an archived record refuses every write before any other rule.
    refuse_if_archived(incident)
    if not states.allowed(action, status=incident.status):
        raise Refused(cannot(action, incident), code="invalid_transition")
    if person is None:  # Fenghuo itself (deadlines, integrations) acts under the plan's authority.
        return engine.cell_of(incident)
    cell = engine.cell_of(incident)
    reason = permissions.refusal(person, action=action, incident=incident, cell=cell, plan=plan)
    if reason:
        raise Refused(_("cannot %(action)s: %(reason)s") % {"action": states.ACTION_NAMES[action], "reason": reason},
                      code="forbidden", status_code=403)
    return cell


def cannot(action: str, incident: Incident) -> str:
    whys: dict[str, str] = {
        Status.PLAN_PROPOSED: _("the response plan awaits approval by %(role)s"),
        Status.REPORTED: _("nobody has acknowledged the incident yet"),
    }
    why = whys.get(incident.status)
    if why and "%(role)s" in why:
        pending = incident.response_plans.filter(status=PlanStatus.PENDING).first()
        role = pending.approver_role_key if pending else ""
        role_obj = incident.plan_version.roles.filter(key=role).first()
        why = why % {"role": role_obj.name if role_obj else role}
    if not why:
        why = _("the incident is %(status)s") % {"status": incident.get_status_display()}
    return _("cannot %(action)s: %(why)s") % {"action": states.ACTION_NAMES[action], "why": why}


def move(incident: Incident, action: str, fields: Iterable[str] = ()) -> None:
    incident.status = states.target_status(action, status=incident.status)
    incident.save(update_fields=["status", *fields])
