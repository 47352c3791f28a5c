"""Who hears of a missed round, and what they read: the office and the round role's superior.

The plan's ``coordinate`` roles (the emergency office in the shipped plan,
plan 2.2: "safety inspections and follow-up") and the role that reports
above the round's role are told through ``notifications.recipients``, in
each reader's language, on their own channels (email, SMS).
"""

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from escalation.models import Deadline
from notifications.facts import bilingual, in_each_language
from notifications.models import Ask
from notifications.recipients import notify_roles_about
from people.models import Person
from plan.models import PlanVersion, Role
from plan.services import roles_with

from .models import Round


def told_roles(role_key: str) -> list[str]:
    version = PlanVersion.objects.filter(is_active=True).first()
    if version is None:
        return []
    role = Role.objects.select_related("reports_to").filter(version=version, key=role_key).first()
    superior = [role.reports_to.key] if role and role.reports_to else []
    return list(dict.fromkeys(superior + sorted(roles_with("coordinate", version.pk))))


def tell_round_missed(round_: Round, *, deadline: Deadline, at: datetime) -> tuple[list[Person], list[str]]:
    due = timezone.localtime(round_.due_at).strftime("%Y-%m-%d %H:%M")
    title = in_each_language(lambda: _("Inspection round missed: %(name)s, due %(due)s") % {
        "name": round_.schedule.name, "due": due})
    version = PlanVersion.objects.filter(is_active=True).first()
    role = Role.objects.filter(version=version, key=round_.role_key).first() if version else None
    # Facts, not a sentence: each reader reads the role's name in their own language.
    note = {"msgid": gettext_noop("Not submitted within its grace period by the role %(role)s."),
            "params": {"role": bilingual(role) if role else round_.role_key}}
    return notify_roles_about(f"inspection:{round_.subject}", role_keys=told_roles(round_.role_key),
                              event=f"deadline:{deadline.pk}", ask=Ask.MISSED, title=title, note=note,
                              link=f"/inspections/rounds/{round_.pk}/")
