"""Who may do what, from plan roles. One table, used by pages, API and admin alike."""

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from people.models import Person
    from plan.models import Response

    from .models import Incident, ResponsePlan

OFFICE = "office"
TECH_GROUP = "tech_group"
LEADERS = {"leadership", "main_leaders"}
# Told for their information (announcements, plan 4.1.3): they do not work the incident.
INFORMED_ONLY = {"business_departments"}


def responder_roles(cell: "Response") -> set[str]:
    """Every role the plan cell gives work to, plus the office that coordinates (plan 2.2.2) and the
    technical emergency groups that carry out the measures (plan 2.3.2)."""
    roles = {n.role.key for n in cell.notify.all()}
    roles |= {d.role.key for d in cell.on_site.all()}
    roles |= {d.from_role.key for d in cell.reports.all()} | {d.to_role.key for d in cell.reports.all()}
    if cell.approval_by is not None:
        roles.add(cell.approval_by.key)
    return (roles - INFORMED_ONLY) | {OFFICE, TECH_GROUP}


def role_name(role_key: str, *, incident: "Incident | None" = None, cell: "Response | None" = None) -> str:
    """The plan's name of a role in the reader's language; a refusal never shows a raw key like ``main_leaders``."""
    if cell is not None and cell.approval_by is not None and cell.approval_by.key == role_key:
        return cell.approval_by.name
    from plan.models import Role

    version_id = incident.plan_version_id if incident is not None else (cell.version_id if cell is not None else None)
    roles = Role.objects.filter(key=role_key)
    role = (roles.filter(version_id=version_id) if version_id else roles.order_by("-version_id")).first()
    return role.name if role else role_key


def refusal(person: "Person", *, action: str, incident: "Incident | None" = None, cell: "Response | None" = None,
            plan: "ResponsePlan | None" = None) -> str | None:
    """None when ``person`` may do ``action``; else the reason, in words a person can act on."""
    if not person.is_authenticated:
        return _("sign in first")
    held = person.role_keys()
    if action == "log":
        return None if held or person.is_superuser else _("you hold no role in the emergency plan")
    if action == "edit_plan":
        return None if person.is_superuser or OFFICE in held else _("only the emergency office edits the plan")
    if action in {"approve_plan", "reject_plan"}:
        role = plan.approver_role_key if plan else (cell.approval_by.key if cell and cell.approval_by is not None else "")
        if not role:
            return _("this response plan needs no approval")
        if role not in held:
            return _("only %(role)s may decide on this response plan") % {"role": role_name(role, incident=incident, cell=cell)}
        return None
    if action in {"deescalate", "review", "archive", "announce"}:
        if held & ({OFFICE} | LEADERS):
            return None
        return _("only the emergency office or the leadership group may do this")
    if cell is not None and held & responder_roles(cell):
        return None
    if person.is_superuser:
        return None
    return _("your roles have no part in this incident's response")
