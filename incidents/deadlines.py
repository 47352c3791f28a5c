"""What a due deadline does to its incident: the effect of the plan's time limits.

The escalation engine finds the deadlines that came due and calls
``act_on_due`` for each (registered in ``IncidentsConfig.ready``). A due
escalation raises the level through ``levels.change_level``, unless its
condition is false; a missed duty is reported to the role's superior and the
office. ``reevaluate_conditions`` applies an escalation that waited on its
condition once the incident's details make it true.
"""

from datetime import datetime
from functools import lru_cache

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from escalation import services as engine
from escalation.models import Deadline, Kind, State
from escalation.services import Outcome
from notifications.facts import bilingual, in_each_language
from notifications.models import Ask
from notifications.recipients import notify_roles
from plan.conditions import condition_holds
from plan.models import Role
from plan.services import roles_with

from . import timeline
from .levels import Why, cancelled_rows, change_level
from .models import Incident, TimelineKind

def act_on_due(deadline_id: int, *, incident_id: int) -> str:
    """One transaction: lock the incident, then the deadline, re-check, do the effect, mark the row.

    Both locks SKIP LOCKED: a row held elsewhere is being acted on, cancelled
    or met by whoever holds it, and whichever transaction commits first wins;
    the loser finds the row no longer pending. The effect and the state change
    commit together or not at all (a killed worker leaves the row pending for
    the next sweep). The effect's timeline row is unique per deadline, so even
    a logic error cannot act twice: the second insert fails and rolls back.
    """
    with transaction.atomic():
        incident = (
            Incident.objects.select_for_update(of=("self",), skip_locked=True).with_plan()
            .filter(pk=incident_id).first()
        )
        if incident is None:
            return Outcome.BUSY
        deadline = (
            Deadline.objects.select_for_update(skip_locked=True)
            .filter(pk=deadline_id, incident_id=incident_id, state=State.PENDING, due_at__lte=timezone.now())
            .first()
        )
        if deadline is None:
            return Outcome.NOT_DUE
        now = timezone.now()
        if not incident.is_open or incident.level.key != deadline.level_key:
            # Resolution and level changes cancel their deadlines themselves; this catches a row they missed,
            # and says so on the timeline like they do: a deadline never ends silently.
            why: Why = "incident_closed" if not incident.is_open else "level_changed"
            deadline.state, deadline.acted_at, deadline.note = State.CANCELLED, now, why.replace("_", " ")
            deadline.save(update_fields=["state", "acted_at", "note"])
            timeline.record_rows(cancelled_rows(incident, [deadline], at=now, why=why))
            return Outcome.ACTED
        if deadline.kind == Kind.ESCALATION:
            _fire_escalation(incident, deadline, now)
        else:
            _record_missed(incident, deadline, now)
        return Outcome.ACTED


def _fire_escalation(incident: Incident, deadline: Deadline, now: datetime) -> None:
    lateness = (now - deadline.due_at).total_seconds()
    if deadline.condition_field and not condition_holds(
        deadline.condition_field, op=deadline.condition_op, value=deadline.condition_value,
        values=incident.condition_values(),
    ):
        deadline.state, deadline.acted_at = State.CONDITION_NOT_MET, now
        deadline.save(update_fields=["state", "acted_at"])
        timeline.record(incident, kind=TimelineKind.CONDITION_NOT_MET, at=now, deadline=deadline, detail={
            "field": deadline.condition_field, "op": deadline.condition_op, "value": deadline.condition_value,
            "actual": incident.condition_values().get(deadline.condition_field),
            "target": deadline.target_level_key, "lateness_seconds": round(lateness, 3),
        })
        return
    deadline.state, deadline.acted_at = State.FIRED, now
    deadline.save(update_fields=["state", "acted_at"])
    # The new level starts at the due time, not when the sweeper got here: no drift. An escalation with a
    # condition rose because the condition held when its time ran out: the condition is its cause.
    change_level(incident, level_key=deadline.target_level_key, actor=None, at=deadline.due_at, deadline=deadline,
                 reason="not resolved within the plan's time limit",
                 cause="condition" if deadline.condition_field else "plan", lateness_seconds=round(lateness, 3))


def _record_missed(incident: Incident, deadline: Deadline, now: datetime) -> None:
    deadline.state, deadline.acted_at = State.MISSED, now
    deadline.save(update_fields=["state", "acted_at"])
    role = _role(incident.plan_version_id, deadline.role_key)
    # The role's superior in the plan's hierarchy, and the office that coordinates every response.
    coordinators = sorted(roles_with("coordinate", incident.plan_version_id))
    reported_to = list(dict.fromkeys(([role.reports_to.key] if role and role.reports_to else []) + coordinators))
    # Facts, not a sentence: each reader reads the deadline's kind and the role in their own language.
    note = {"msgid": gettext_noop("%(kind)s: %(role)s"),
            "params": {"kind": in_each_language(deadline.get_kind_display),
                       "role": bilingual(role) if role else deadline.role_key}}
    told, _nobody = notify_roles(incident, role_keys=reported_to, event=f"deadline:{deadline.pk}", ask=Ask.MISSED,
                                 note=note)
    if deadline.kind == Kind.APPROVAL:
        # Still undecided: remind the approvers too.
        notify_roles(incident, role_keys=[deadline.role_key], event=f"deadline:{deadline.pk}:remind", ask=Ask.APPROVE)
    timeline.record(incident, kind=TimelineKind.DEADLINE_MISSED, at=now, deadline=deadline, detail={
        "deadline_kind": deadline.kind, "role": deadline.role_key, "due_at": deadline.due_at.isoformat(),
        "lateness_seconds": round((now - deadline.due_at).total_seconds(), 3),
        "reported_to": reported_to, "people": sorted(p.username for p in told),
    })


@lru_cache(maxsize=1024)
def _role(version_id: int, role_key: str) -> Role | None:
    # A plan version never changes once stored (a new plan is a new version), so its roles cache safely.
    return Role.objects.select_related("reports_to").filter(version_id=version_id, key=role_key).first()


def reevaluate_conditions(incident: Incident) -> None:
    """Details changed: an escalation that came due while its condition was false may now apply."""
    waiting = engine.waiting_escalation(incident)
    if waiting and condition_holds(waiting.condition_field, op=waiting.condition_op, value=waiting.condition_value,
                                   values=incident.condition_values()):
        change_level(incident, level_key=waiting.target_level_key, actor=None, at=timezone.now(),
                     reason=f"escalation condition now met ({waiting.condition_field})", cause="condition")
