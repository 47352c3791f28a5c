"""Rounds generated ahead of time from each schedule, each with its miss deadline in the escalation engine.

Beat runs ``generate_rounds`` (task ``inspections.generate_rounds``); each
schedule is generated under its row lock, up to INSPECTIONS_GENERATE_AHEAD
from now, in one transaction with the deadlines, so two generators never
write the same round (and the unique (schedule, due_at) would refuse it).
A round is due at ``first_due_at + k × every`` that falls in the schedule's
daily window (local time, start included, end excluded, may wrap midnight);
it is missed at ``due_at + grace``: a deadline of kind ``inspection``,
subject ``round:<id>``, no incident.
"""

from collections.abc import Iterator, Sequence
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from escalation import services as engine
from escalation.models import Deadline, Kind, State

from .models import Round, RoundStatus, Schedule

if TYPE_CHECKING:
    from people.models import Person


def in_window(at: datetime, start: time | None, end: time | None) -> bool:
    if start is None or end is None:
        return True
    local = timezone.localtime(at).time()
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # wraps midnight: 20:00–08:00


def due_times(schedule: Schedule, *, after: datetime | None, until: datetime) -> Iterator[datetime]:
    """The due times of ``schedule`` strictly after ``after`` (None: from the first) and up to ``until``."""
    every, first = schedule.every, schedule.first_due_at
    steps = 0 if after is None or after < first else (after - first) // every + 1
    at = first + steps * every
    while at <= until:
        if in_window(at, schedule.window_start, schedule.window_end):
            yield at
        at += every


def generate_schedule(schedule_id: int, *, now: datetime | None = None, ahead: timedelta | None = None) -> int:
    """Write the schedule's rounds (and their deadlines) due up to ``now + ahead``; return how many."""
    now = now or timezone.now()
    until = now + (ahead if ahead is not None else settings.INSPECTIONS_GENERATE_AHEAD)
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update(skip_locked=True).filter(pk=schedule_id, active=True).first()
        if schedule is None:  # stopped, gone, or another generator holds it
            return 0
        if schedule.generated_until is not None and schedule.generated_until >= until:
            return 0
        rounds = [Round(schedule=schedule, due_at=at, role_key=schedule.role_key, miss_at=at + schedule.grace)
                  for at in due_times(schedule, after=schedule.generated_until, until=until)]
        Round.objects.bulk_create(rounds, batch_size=2000)
        start_miss_deadlines(rounds)
        schedule.generated_until = until
        schedule.save(update_fields=["generated_until"])
        return len(rounds)


def generate_rounds(*, now: datetime | None = None, ahead: timedelta | None = None) -> int:
    """Every active schedule, one transaction each (beat's task); returns the rounds written."""
    ids = list(Schedule.objects.filter(active=True).values_list("pk", flat=True))
    return sum(generate_schedule(pk, now=now, ahead=ahead) for pk in ids)


def start_miss_deadlines(rounds: Sequence[Round]) -> list[Deadline]:
    """One pending ``inspection`` deadline per round, due when it would be missed; written in one statement.

    ``escalation.services.start_deadline`` writes one row at a time; a month of rounds is thousands, so the
    rows are built here with the same fields and armed by the engine's own ``schedule_precise_firing``.
    """
    deadlines = [Deadline(kind=Kind.INSPECTION, incident=None, subject=r.subject, role_key=r.role_key,
                          level_key="", started_at=r.due_at, due_at=r.miss_at) for r in rounds]
    Deadline.objects.bulk_create(deadlines, batch_size=2000)
    engine.schedule_precise_firing(deadlines)
    return deadlines


def meet_miss_deadline(round_: Round, *, person: "Person", at: datetime) -> None:
    """The round was submitted: its miss deadline is met (when it was missed already, it stays missed)."""
    engine.meet(Deadline.objects.filter(kind=Kind.INSPECTION, subject=round_.subject, state=State.PENDING),
                person=person, at=at)


def withdraw_future_rounds(schedule: Schedule, *, after: datetime) -> int:
    """Delete the schedule's rounds due after ``after`` that nobody started, and cancel their deadlines."""
    future = list(Round.objects.filter(schedule=schedule, status=RoundStatus.DUE, due_at__gt=after,
                                       started_at__isnull=True))
    for round_ in future:
        engine.cancel_subject(Kind.INSPECTION, round_.subject, reason="schedule stopped")
    Round.objects.filter(pk__in=[r.pk for r in future]).delete()
    schedule.generated_until = after
    schedule.save(update_fields=["generated_until"])
    return len(future)
