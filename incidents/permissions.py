"""Who may do what, from plan roles. One table, used by pages, API and admin alike."""

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from plan.models import Role
from plan.services import roles_with

if TYPE_CHECKING:
    from people.models import Person
    from plan.models import Cell

    from .models import Incident, ResponsePlan

# Actions only the roles the plan grants the same-named authority may take (plan/document.py AUTHORITIES).
# "review" is the move to reviewed, which approving the post-incident review makes (reviews.services).
AUTHORITY_OF = {"edit_plan": "edit_plan", "deescalate": "lower_level", "review": "approve_review", "archive": "archive",
                "announce": "announce", "split_storm": "coordinate",
                "end_drill": "coordinate"}
# An administrator may also edit the plan and announce without a plan role; lowering a level, reviewing and
# archiving stay with the roles the plan names.
SUPERUSER_MAY = {"edit_plan", "announce"}


def _version_id(incident: "Incident | None" = None, cell: "Cell | None" = None) -> int | None:
    if incident is not None:
        return incident.plan_version_id
    return cell.version_id if cell is not None else None  # None: the active plan version


def responder_roles(cell: "Cell") -> set[str]:
    """Every role the plan cell gives work to, plus the roles the plan has take part in every response
    (the coordinating office, plan 2.2.2; the technical emergency groups, plan 2.3.2), less those only told."""
    roles = {n.role.key for n in cell.notify.all()}
    roles |= {d.role.key for d in cell.on_site.all()}
    roles |= {d.from_role.key for d in cell.reports.all()} | {d.to_role.key for d in cell.reports.all()}
    if cell.approval_by is not None:
        roles.add(cell.approval_by.key)
    always = roles_with("coordinate", cell.version_id) | roles_with("respond_to_every_incident", cell.version_id)
    return (roles - roles_with("informed_only", cell.version_id)) | set(always)


def _names(role_keys: frozenset[str], version_id: int | None) -> str:
    roles = Role.objects.filter(key__in=role_keys)
    roles = roles.filter(version_id=version_id) if version_id else roles.filter(version__is_active=True)
    return ", ".join(role.name for role in roles.order_by("position")) or _("nobody in this plan")


def role_name(role_key: str, *, incident: "Incident | None" = None, cell: "Cell | None" = None) -> str:
    """The plan's name of a role in the reader's language; a refusal never shows a raw key like ``main_leaders``."""
    if cell is not None and cell.approval_by is not None and cell.approval_by.key == role_key:
        return cell.approval_by.name
    version_id = incident.plan_version_id if incident is not None else (cell.version_id if cell is not None else None)
    roles = Role.objects.filter(key=role_key)
    role = (roles.filter(version_id=version_id) if version_id else roles.order_by("-version_id")).first()
    return role.name if role else role_key


def refusal(person: "Person", *, action: str, incident: "Incident | None" = None, cell: "Cell | None" = None,
            plan: "ResponsePlan | None" = None) -> str | None:
    """None when ``person`` may do ``action``; else the reason, in words a person can act on."""
    if not person.is_authenticated:
        return _("sign in first")
    held = person.role_keys()
    if action == "log":
        return None if held or person.is_superuser else _("you hold no role in the emergency plan")
    if action in {"approve_plan", "reject_plan"}:
        role = plan.approver_role_key if plan else (cell.approval_by.key if cell and cell.approval_by is not None else "")
        if not role:
            return _("this response plan needs no approval")
        if role not in held:
            return _("only %(role)s may decide on this response plan") % {"role": role_name(role, incident=incident, cell=cell)}
        return None
    if action in AUTHORITY_OF:
        granted = roles_with(AUTHORITY_OF[action], _version_id(incident, cell))
        if held & granted or (person.is_superuser and action in SUPERUSER_MAY):
            return None
        return _("only %(roles)s may do this") % {"roles": _names(granted, _version_id(incident, cell))}
    if action == "add_note" and incident is not None and incident.reporter_id == person.pk:
        return None  # whoever reported the fault may add what they see next, without a role in the response
    if cell is not None and held & responder_roles(cell):
        return None
    if person.is_superuser:
        return None
    return _("your roles have no part in this incident's response")
