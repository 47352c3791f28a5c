"""Who may write, submit and approve a review, and add or close remediation actions: the plan's authorities.

No role key here: the plan file's ``authority`` lists grant ``review`` (write the
review, add and carry over actions) and ``approve_review`` (approve or return a
submitted review). An action's owner may also mark it done. An action of an
asset alone (no incident) is judged by the active plan's authorities.
"""

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from plan.models import PlanVersion, Role
from plan.services import roles_with

if TYPE_CHECKING:
    from incidents.models import Incident
    from people.models import Person

    from .models import Action

AUTHORITY_OF = {
    "edit_review": "review",
    "submit_review": "review",
    "add_action": "review",
    "carry_over_action": "review",
    "approve_review": "approve_review",
    "return_review": "approve_review",
}


def role_names(role_keys: frozenset[str], version_id: int) -> str:
    roles = Role.objects.filter(version_id=version_id, key__in=role_keys).order_by("position")
    return ", ".join(str(role.name) for role in roles) or _("nobody in this plan")


def refusal(person: "Person", *, action: str, incident: "Incident | None",
            subject: "Action | None" = None) -> str | None:
    """None when ``person`` may do ``action`` on ``incident`` (or its action ``subject``); else why not.

    ``incident`` None: an action of an asset alone, judged by the active plan version.
    """
    if not person.is_authenticated:
        return _("sign in first")
    held = person.role_keys()
    if action == "complete_action":
        if subject is not None and subject.owner_id == person.pk:
            return None
        action = "carry_over_action"  # whoever may carry an action over may also record it done
    version_id = incident.plan_version_id if incident is not None else active_version_id()
    granted = roles_with(AUTHORITY_OF[action], version_id)
    if held & granted:
        return None
    names = role_names(granted, version_id) if version_id else _("nobody in this plan")
    if action == "carry_over_action" and subject is not None:
        return _("only its owner or %(roles)s may do this") % {"roles": names}
    return _("only %(roles)s may do this") % {"roles": names}


def active_version_id() -> int | None:
    return PlanVersion.objects.filter(is_active=True).values_list("pk", flat=True).first()


def may(person: "Person", *, action: str, incident: "Incident | None", subject: "Action | None" = None) -> bool:
    return refusal(person, action=action, incident=incident, subject=subject) is None
