"""What a due deadline does to its incident: the effect of the plan's time limits.

The escalation engine finds the deadlines that came due and calls
``act_on_due`` for each (registered in ``IncidentsConfig.ready``). A due
escalation raises the level through ``levels.change_level``, unless its
condition is false; a missed duty is reported to the role's superior and the
office. ``reevaluate_conditions`` applies an escalation that waited on its
condition once the incident's details make it true.
"""

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from escalation import services as engine
from escalation.models import Deadline, Kind, State
from escalation.services import Outcome
from notifications.facts import Note, bilingual, in_each_language
from notifications.models import Ask
from notifications.recipients import Request, notify_many, notify_roles
from plan.conditions import condition_holds
from plan.models import Role
from plan.services import roles_with

from . import timeline
from .levels import Why, cancelled_rows, change_level
from .models import Incident, TimelineEntry, TimelineKind


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
    timeline.record_rows(_missed_rows([(incident, deadline)], now))


def _missed_rows(missed: Sequence[tuple[Incident, Deadline]], now: datetime) -> list[TimelineEntry]:
    """Tell whom each missed duty is reported to, all in one fan-out; return their deadline_missed entries."""
    items: list[tuple[Incident, Sequence[Request], str]] = []
    notes: list[Note] = []
    reported: list[list[str]] = []
    for incident, deadline in missed:
        role = _role(incident.plan_version_id, deadline.role_key)
        # The role's superior in the plan's hierarchy, and the office that coordinates every response.
        coordinators = sorted(roles_with("coordinate", incident.plan_version_id))
        reported_to = list(dict.fromkeys(([role.reports_to.key] if role and role.reports_to else []) + coordinators))
        # Facts, not a sentence: each reader reads the deadline's kind and the role in their own language.
        notes.append({"msgid": gettext_noop("%(kind)s: %(role)s"),
                      "params": {"kind": _kind_names(deadline.kind),
                                 "role": bilingual(role) if role else deadline.role_key}})
        items.append((incident, [(key, Ask.MISSED, None) for key in reported_to], f"deadline:{deadline.pk}"))
        reported.append(reported_to)
    # Still undecided approvals: remind the approvers too (their own event, no note).
    reminders = [(incident, [(deadline.role_key, Ask.APPROVE, None)], f"deadline:{deadline.pk}:remind")
                 for incident, deadline in missed if deadline.kind == Kind.APPROVAL]
    told = notify_many([*items, *reminders], notes=[*notes, *[""] * len(reminders)])
    return [timeline.row(incident, kind=TimelineKind.DEADLINE_MISSED, at=now, deadline=deadline, detail={
        "deadline_kind": deadline.kind, "role": deadline.role_key, "due_at": deadline.due_at.isoformat(),
        "lateness_seconds": round((now - deadline.due_at).total_seconds(), 3),
        "reported_to": reported_to, "people": sorted(p.username for p in people),
    }) for (incident, deadline), reported_to, (people, _nobody) in zip(missed, reported, told[:len(missed)],
                                                                       strict=True)]


def act_on_due_many(due: Sequence[tuple[int, Any]]) -> list[str]:
    """``act_on_due`` for a batch of due rows in one transaction: the sweep's path (an outcome per row).

    The same locks in the same order, each SKIP LOCKED: the batch's incidents,
    then their deadlines. Cancelled and missed duties are marked in one
    statement per state, their people told in one fan-out (``notify_many``) and
    their timeline rows written in one statement, in due order. An escalation
    changes the level, which cancels the incident's other deadlines and starts
    a new response: it and every later row of its incident are left to
    ``act_on_due`` (``Outcome.ALONE``), which the engine calls right after this
    commits, in due order, so each incident's rows act in the order they would
    one by one. If anything here raises, the whole batch rolls back and the
    engine acts on each row alone.
    """
    outcomes: dict[int, str] = {deadline_id: Outcome.BUSY for deadline_id, _incident_id in due}
    with transaction.atomic():
        incidents = {incident.pk: incident for incident in (
            Incident.objects.select_for_update(of=("self",), skip_locked=True).with_plan()
            .filter(pk__in={incident_id for _deadline_id, incident_id in due if incident_id is not None}))}
        ours = [deadline_id for deadline_id, incident_id in due if incident_id in incidents]
        if not ours:
            return [outcomes[deadline_id] for deadline_id, _incident_id in due]
        for deadline_id in ours:
            outcomes[deadline_id] = Outcome.NOT_DUE
        deadlines = list(
            Deadline.objects.select_for_update(skip_locked=True)
            .filter(pk__in=ours, incident_id__in=list(incidents), state=State.PENDING, due_at__lte=timezone.now())
            .order_by("due_at", "id")
        )
        now = timezone.now()
        waiting: set[int] = set()  # incidents with an escalation among their due rows, from it on
        cancelled: dict[Why, list[Deadline]] = {}
        missed: list[tuple[Incident, Deadline]] = []
        entries: list[TimelineEntry] = []
        for deadline in deadlines:
            incident = incidents[deadline.incident_id]
            if incident.pk in waiting:
                outcomes[deadline.pk] = Outcome.ALONE
            elif not incident.is_open or incident.level.key != deadline.level_key:
                # As act_on_due: a row resolution or a level change missed, ended on the timeline too.
                why: Why = "incident_closed" if not incident.is_open else "level_changed"
                deadline.state, deadline.acted_at, deadline.note = State.CANCELLED, now, why.replace("_", " ")
                cancelled.setdefault(why, []).append(deadline)
                entries += cancelled_rows(incident, [deadline], at=now, why=why)
                outcomes[deadline.pk] = Outcome.ACTED
            elif deadline.kind == Kind.ESCALATION:
                waiting.add(incident.pk)
                outcomes[deadline.pk] = Outcome.ALONE
            else:
                deadline.state, deadline.acted_at = State.MISSED, now
                missed.append((incident, deadline))
                outcomes[deadline.pk] = Outcome.ACTED
        for why, rows in cancelled.items():
            Deadline.objects.filter(pk__in=[d.pk for d in rows]).update(state=State.CANCELLED, acted_at=now,
                                                                       note=why.replace("_", " "))
        if missed:
            Deadline.objects.filter(pk__in=[d.pk for _incident, d in missed]).update(state=State.MISSED, acted_at=now)
            entries += _missed_rows(missed, now)
        # One statement for all; the chain seals them in the order given, which must be each incident's due order.
        entries.sort(key=lambda entry: (entry.deadline.due_at, entry.deadline.pk) if entry.deadline else (now, 0))
        timeline.record_rows(entries)
    return [outcomes[deadline_id] for deadline_id, _incident_id in due]


@lru_cache(maxsize=64)
def _kind_names(kind: str) -> dict[str, str]:
    # A kind's name in each language comes from the code's choices and catalogues: fixed for the process.
    # Callers only read the dict (it is stored in a note's JSON); a burst of misses translates each kind once.
    return in_each_language(lambda: dict(Kind.choices).get(kind, kind))


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
