"""The escalation engine: the plan's deadlines, and the sweep that finds the ones come due.

This layer knows *when*: which deadlines a level's response starts, which
are met, cancelled or due. What a due deadline *does* to its incident (a new
level, a missed duty reported up) is the incident workflow's rule, one layer
up: ``incidents.deadlines.act_on_due``, registered at start-up with
``act_on_due_deadlines_with`` (docs/architecture.md, "Calls up the layers").

Lock order everywhere is incident row first, then its deadline rows: the
sweeper and people's actions therefore never deadlock, and whoever commits
first wins (a cancel or a "met" beats a firing, and the reverse).
"""

import logging
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from notifications.models import Ask
from plan.services import response_for

from .models import RESPONSE_KINDS, Deadline, Kind, State

if TYPE_CHECKING:
    from incidents.models import Incident
    from people.models import Person
    from plan.models import Cell

# Who the plan tells what when a level starts: (role key, ask, due time or None) each.
Told = list[tuple[str, str, datetime | None]]

log = logging.getLogger(__name__)

# ETA nudges only for deadlines this close: far below Redis' visibility timeout (1 h), so a
# held ETA message is never redelivered as a duplicate while still waiting.
# ESCALATION_ETA_HORIZON_SECONDS (300) shortens it for the multi-node tests (tests/test_multinode_beats.py).
ETA_HORIZON = timedelta(seconds=settings.ESCALATION_ETA_HORIZON_SECONDS)
# How often beat arms the deadlines entering the horizon (CELERY_BEAT_SCHEDULE "arm-near-deadlines").
ARM_EVERY = timedelta(seconds=settings.ESCALATION_ARM_SECONDS)
# Rows read per sweep query: small enough that a batch is still due-ordered when reached.
SWEEP_BATCH = 200
# Rows a batch handler acts on in one transaction: its incidents stay locked that long (tens of ms),
# and a second sweeper skips to the next batch meanwhile.
ACT_BATCH = 50
# A sweep's working time, well under task_soft_time_limit (50 s) in config/celery.py.
SWEEP_BUDGET_SECONDS = 20


# A stored plan version never changes (plan/models.py), so neither do its cells:
# each process reads a cell once, with everything it references.
_cells: dict[tuple[int, str, str], "Cell"] = {}


def cell_of(incident: "Incident") -> "Cell":
    """The plan response that governs the incident now: its own plan version, its current level."""
    key = (incident.plan_version_id, incident.category.key, incident.level.key)
    cell = _cells.get(key)
    if cell is None:
        cell = _cells[key] = response_for(incident.plan_version, category_key=incident.category.key,
                                                  level_key=incident.level.key)
    return cell


def planned_response(cell: "Cell", *, started_at: datetime, clock: float = 1.0) -> tuple[list[Deadline], Told]:
    """What the response of a plan cell starts at ``started_at``, without doing it.

    ``clock`` is the incident's plan seconds per real second (a drill's compressed
    clock, ``Incident.clock``): every duration the cell gives is divided by it.

    Returns the deadline rows (unsaved, without their incident) and who is told
    what, in the order they are told: on-site roles with their arrival time,
    then the roles the cell notifies, then the receivers of its reports. The
    page that logs a fault previews exactly this.
    """
    level = cell.level.key
    deadlines = [
        Deadline(kind=Kind.ON_SITE, level_key=level, role_key=duty.role.key, started_at=started_at,
                 due_at=started_at + duty.within / clock)
        for duty in cell.on_site.all()
    ]
    if cell.escalate_to_id:
        # Both set with escalate_to_id (CheckConstraint escalation_has_target_and_deadline).
        assert cell.escalate_to is not None and cell.escalate_after is not None
        deadlines.append(Deadline(
            kind=Kind.ESCALATION, level_key=level, target_level_key=cell.escalate_to.key,
            started_at=started_at, due_at=started_at + cell.escalate_after / clock,
            condition_field=cell.escalate_when_field, condition_op=cell.escalate_when_op,
            condition_value=cell.escalate_when_value,
        ))
    # Reports are "at once" in the plan: Fenghuo makes them itself, so the duty is met when it starts.
    for duty in cell.reports.all():
        deadlines.append(Deadline(
            kind=Kind.REPORT, level_key=level, role_key=duty.from_role.key, to_role_key=duty.to_role.key,
            started_at=started_at, due_at=started_at, state=State.MET, acted_at=started_at,
            note="reported by Fenghuo when the level started",
        ))
    told: Told = [(d.role_key, Ask.ON_SITE, d.due_at) for d in deadlines if d.kind == Kind.ON_SITE]
    told += [(n.role.key, Ask.ACKNOWLEDGE, None) for n in cell.notify.all()]
    told += [(d.to_role.key, Ask.REPORT, None) for d in cell.reports.all()]
    return deadlines, told


def create_level_deadlines(incidents: Sequence["Incident"], *, started_at: datetime) -> list[Told]:
    """Write the deadlines of each incident's current level, counted from ``started_at``; one statement for all.

    Returns, per incident, who the plan tells what (``planned_response``'s second half): the caller
    tells them and records it (incidents.levels.start_level_responses).
    """
    deadlines: list[Deadline] = []
    told: list[Told] = []
    for incident in incidents:
        own, plan_told = planned_response(cell_of(incident), started_at=started_at, clock=incident.clock)
        for deadline in own:
            deadline.incident = incident
        deadlines += own
        told.append(plan_told)
    Deadline.objects.bulk_create(deadlines)
    schedule_precise_firing([d for d in deadlines if d.state == State.PENDING])
    return told


def cancel_pending(incident: "Incident", *, reason: str, kinds: Iterable[str] = RESPONSE_KINDS) -> list[Deadline]:
    """Cancel the incident's pending deadlines of ``kinds`` (resolution, level change) and return them, as cancelled.

    By default the plan response's own kinds: a remediation action, a report to the regulator or a
    vendor's promised arrival outlives the incident's resolution. Caller holds the incident lock, and
    records each one on the incident's timeline: a deadline never ends silently (the incidents layer
    knows why it ended).
    """
    pending = Deadline.objects.select_for_update().filter(incident=incident, state=State.PENDING,
                                                          kind__in=list(kinds))
    return _cancel(list(pending), reason=reason)


def _cancel(cancelled: list[Deadline], *, reason: str) -> list[Deadline]:
    if not cancelled:
        return []
    now, note = timezone.now(), reason[:300]
    Deadline.objects.filter(pk__in=[d.pk for d in cancelled]).update(state=State.CANCELLED, acted_at=now, note=note)
    for deadline in cancelled:
        deadline.state, deadline.acted_at, deadline.note = State.CANCELLED, now, note
    return cancelled


def meet_on_site(incident: "Incident", *, person: "Person", at: datetime) -> list[Deadline]:
    """Mark the pending on-site deadlines of the roles ``person`` holds as met. Returns them."""
    met = list(Deadline.objects.select_for_update().filter(
        incident=incident, kind=Kind.ON_SITE, state=State.PENDING, role_key__in=person.role_keys(),
    ))
    for deadline in met:
        deadline.state, deadline.acted_at, deadline.met_by = State.MET, at, person
        deadline.save(update_fields=["state", "acted_at", "met_by"])
    return met


def start_approval(incident: "Incident", *, role_key: str, started_at: datetime) -> Deadline:
    """The approver's decision deadline, as long as the incident's cell says (approval.within, default 30 min)."""
    deadline = Deadline.objects.create(
        incident=incident, kind=Kind.APPROVAL, level_key=incident.level.key, role_key=role_key,
        started_at=started_at, due_at=started_at + cell_of(incident).approval_deadline / incident.clock,
    )
    schedule_precise_firing([deadline])
    return deadline


def meet_approval(incident: "Incident", *, person: "Person", at: datetime) -> None:
    for deadline in Deadline.objects.select_for_update().filter(incident=incident, kind=Kind.APPROVAL,
                                                                 state=State.PENDING):
        deadline.state, deadline.acted_at, deadline.met_by = State.MET, at, person
        deadline.save(update_fields=["state", "acted_at", "met_by"])


def waiting_escalation(incident: "Incident") -> Deadline | None:
    """The latest escalation of the current level that came due while its condition was false, or None."""
    return Deadline.objects.filter(
        incident=incident, kind=Kind.ESCALATION, state=State.CONDITION_NOT_MET, level_key=incident.level.key,
    ).order_by("-due_at").first()


# --- deadlines of the plan's before and after (remediation, rounds, outside parties, drills) ---------


def start_deadline(*, kind: str, due_at: datetime, incident: "Incident | None" = None, subject: str = "",
                   role_key: str = "", level_key: str = "", started_at: datetime | None = None,
                   note: str = "") -> Deadline:
    """One pending deadline of ``kind`` for ``subject`` (e.g. ``action:12``), armed to fire at its due second.

    The app that owns the kind registers what it does when due (``act_on_due_deadlines_with(...,
    kinds=[kind])``). At most one is pending per incident, kind, level, role and subject.
    """
    started_at = started_at or timezone.now()
    deadline = Deadline.objects.create(
        incident=incident, kind=kind, subject=subject, role_key=role_key, level_key=level_key,
        started_at=min(started_at, due_at), due_at=due_at, note=note[:300],
    )
    schedule_precise_firing([deadline])
    return deadline


def meet(deadlines: "Iterable[Deadline]", *, person: "Person | None", at: datetime) -> list[Deadline]:
    """Mark pending ``deadlines`` met at ``at`` by ``person`` (None: Fenghuo itself). Locks them; returns those met."""
    ids = [d.pk for d in deadlines]
    met = list(Deadline.objects.select_for_update().filter(pk__in=ids, state=State.PENDING))
    for deadline in met:
        deadline.state, deadline.acted_at, deadline.met_by = State.MET, at, person
        deadline.save(update_fields=["state", "acted_at", "met_by"])
    return met


def pending_for(kind: str, subject: str, *, incident: "Incident | None" = None) -> list[Deadline]:
    """The pending deadlines of ``kind`` for ``subject``, locked (the caller is in a transaction).

    ``incident`` narrows it to one incident's: a subject such as ``external:pboc:initial`` names a duty
    every incident may have.
    """
    pending = Deadline.objects.select_for_update().filter(kind=kind, subject=subject, state=State.PENDING)
    if incident is not None:
        pending = pending.filter(incident=incident)
    return list(pending)


def cancel_subject(kind: str, subject: str, *, reason: str, incident: "Incident | None" = None) -> list[Deadline]:
    """Cancel the pending deadlines of ``kind`` for ``subject`` (the action was done, the round submitted...)."""
    return _cancel(pending_for(kind, subject, incident=incident), reason=reason)


# --- enforcement -----------------------------------------------------------------


class Outcome:
    ACTED = "acted"
    BUSY = "busy"  # another transaction holds the incident or the deadline: leave it to them or the next sweep
    NOT_DUE = "not_due"  # gone, already acted on, or not due yet
    # From a batch handler only: not acted on in the batch; the sweep acts on it alone, right after the batch.
    ALONE = "alone"


def due_deadlines(limit: int) -> list[tuple[int, int | None, str]]:
    """(id, incident_id, kind) of pending deadlines that are due, oldest first. Read without locks."""
    # The application clock, not the database's: due_at was computed with it too
    # (log_fault, change_level), and the tests move it with time-machine. Hosts
    # keep it in step with NTP; docs/escalation.md explains the choice.
    return list(
        Deadline.objects.filter(state=State.PENDING, due_at__lte=timezone.now())
        .order_by("due_at", "id").values_list("id", "incident_id", "kind")[:limit]
    )


def sweep(limit: int | None = None) -> int:
    """Act on every pending deadline that is due; return how many acted. Safe to run concurrently.

    Several sweepers (beat ticks overlapping, several workers) share the work:
    each skips rows another one holds, so none waits behind another and no
    row is acted on twice. A row skipped now is picked up by the next sweep.

    Kinds whose handler acts on many at once (``act_on_due_deadlines_with(..., many=)``)
    go to it ``ACT_BATCH`` rows at a time: one transaction and one notification
    fan-out per batch instead of per row (bench/escalation_burst.md). A row that
    fails does not hold back the others: the failed batch is acted on again one
    row at a time, each failing row stays pending, and the first failure is
    raised once the sweep has done everything else.
    """
    limit = limit or SWEEP_BATCH
    # Stop well inside the task's time limit; beat has queued the next sweep meanwhile.
    give_up_at = time.monotonic() + SWEEP_BUDGET_SECONDS
    acted = 0
    failures: list[Exception] = []
    while time.monotonic() < give_up_at:
        due = due_deadlines(limit)
        if not due:
            break
        progress = 0
        for many, rows in _batches(due):
            progress += _act_together(many, rows, failures) if many else _act_alone(rows, failures)
            if time.monotonic() >= give_up_at:
                break
        acted += progress
        if progress == 0:
            # Everything still due is held by other sweepers or people right now, or failed just now.
            break
    if failures:
        raise failures[0]
    return acted


DueRow = tuple[int, int | None, str]  # (deadline id, incident id, kind), as due_deadlines reads them


def _batches(due: Sequence[DueRow]) -> "Iterable[tuple[DueDeadlinesHandler | None, list[DueRow]]]":
    """The due rows in due order, as runs of up to ACT_BATCH rows of one batch handler (or None: one by one)."""
    run: list[DueRow] = []
    run_handler: DueDeadlinesHandler | None = None
    for row in due:
        kind = row[2]
        if kind not in _handlers:
            raise ImproperlyConfigured(f"nothing acts on due {kind!r} deadlines: its app registers a handler in ready()")
        many = _batch_handlers.get(kind)
        if run and (many is not run_handler or len(run) >= ACT_BATCH):
            yield run_handler, run
            run = []
        run_handler = many
        run.append(row)
    if run:
        yield run_handler, run


def _act_together(many: "DueDeadlinesHandler", rows: list[DueRow], failures: list[Exception]) -> int:
    try:
        outcomes = many([(deadline_id, incident_id) for deadline_id, incident_id, _kind in rows])
    except Exception:  # noqa: BLE001 - the batch rolled back as a whole; each row gets its own chance below
        log.exception("acting on %d due deadlines together failed; acting on each alone", len(rows))
        return _act_alone(rows, failures)
    acted = sum(1 for outcome in outcomes if outcome == Outcome.ACTED)
    # What the batch left to be acted on alone (an escalation, and its incident's later rows), in due order.
    return acted + _act_alone([row for row, outcome in zip(rows, outcomes, strict=True) if outcome == Outcome.ALONE],
                              failures)


def _act_alone(rows: Sequence[DueRow], failures: list[Exception]) -> int:
    acted = 0
    for deadline_id, incident_id, kind in rows:
        try:
            acted += _act(deadline_id, incident_id, kind) == Outcome.ACTED
        except Exception as exc:  # noqa: BLE001 - raised by sweep() once the other rows are done
            log.exception("acting on due deadline %s failed; it stays pending", deadline_id)
            failures.append(exc)
    return acted


def act_on(deadline_id: int, *, incident_id: int | None = None) -> bool:
    """Act on one due deadline at most once (the ETA task's entry point). Returns True if this call acted."""
    # A nudge usually finds its row already acted on by a sweep (a burst's first nudge sweeps the rest): one
    # read then, no locks. The handler re-checks under its locks whatever this read saw.
    row = Deadline.objects.filter(pk=deadline_id, state=State.PENDING).values_list("incident_id", "kind").first()
    if row is None:
        return False
    return _act(deadline_id, row[0], row[1]) == Outcome.ACTED


def nudge(deadline_id: int, *, incident_id: int | None = None) -> int:
    """The ETA task at a deadline's due time: act on it, then on whatever else is due.

    When many deadlines fall due together, the first nudge sweeps them all in
    one loop and the rest find nothing left: measurably cheaper than one task
    per row (bench/README.md).
    """
    return int(act_on(deadline_id, incident_id=incident_id)) + sweep()


class DueDeadlineHandler(Protocol):
    def __call__(self, deadline_id: int, *, incident_id: Any) -> str: ...


class DueDeadlinesHandler(Protocol):
    def __call__(self, due: Sequence[tuple[int, Any]], /) -> list[str]: ...


# What a due deadline does, per kind: set once at start-up by the layers above. The incidents layer
# registers the plan response's kinds (incidents.apps.IncidentsConfig.ready → incidents.deadlines.act_on_due);
# each app of the plan's before and after registers its own kinds.
_handlers: dict[str, DueDeadlineHandler] = {}
# The kinds whose handler also acts on many rows in one transaction (the sweep's path).
_batch_handlers: dict[str, DueDeadlinesHandler] = {}


def act_on_due_deadlines_with(handler: DueDeadlineHandler, kinds: Iterable[str] = RESPONSE_KINDS, *,
                              many: DueDeadlinesHandler | None = None) -> None:
    """Register ``handler(deadline_id, *, incident_id) -> Outcome`` for ``kinds``.

    The handler locks (the incident row first, when there is one, then the deadline), re-checks the
    row is pending and due, acts and marks it, in one transaction: so each deadline acts exactly once
    however many sweepers run. ``incident_id`` is None for a deadline of no incident.

    ``many([(deadline_id, incident_id), ...]) -> [Outcome, ...]`` (optional) does the same for a
    batch of due rows in one transaction, an outcome per row in the order given; ``Outcome.ALONE``
    leaves a row to ``handler``, called right after. The sweep uses it; the ETA nudge of one
    deadline uses ``handler``.
    """
    for kind in kinds:
        _handlers[kind] = handler
        if many is None:
            _batch_handlers.pop(kind, None)
        else:
            _batch_handlers[kind] = many


def _act(deadline_id: int, incident_id: int | None, kind: str) -> str:
    handler = _handlers.get(kind)
    if handler is None:
        raise ImproperlyConfigured(f"nothing acts on due {kind!r} deadlines: its app registers a handler in ready()")
    return handler(deadline_id, incident_id=incident_id)


def schedule_precise_firing(deadlines: Iterable[Deadline]) -> None:
    """Ask a worker to act at the due second. Only an optimisation: the sweeper is the safety net."""
    if not settings.ESCALATION_ETA_TASKS:
        return
    # Only near deadlines: an ETA message beyond Redis' visibility timeout would be redelivered.
    horizon = timezone.now() + ETA_HORIZON
    ids_and_due = [(d.pk, d.incident_id, d.due_at) for d in deadlines if d.pk and d.due_at <= horizon]
    if not ids_and_due:
        return

    def publish() -> None:
        from .tasks import act_on_deadline

        for deadline_id, incident_id, due_at in ids_and_due:
            try:
                act_on_deadline.apply_async(args=[deadline_id, incident_id], eta=due_at,
                                            expires=due_at + timedelta(minutes=5))
            except Exception:  # noqa: BLE001 - the broker being down must not fail the transaction's caller
                log.warning("could not schedule deadline %s; the sweeper will act on it", deadline_id)

    transaction.on_commit(publish)


def arm_near_deadlines(*, every: timedelta = ARM_EVERY) -> int:
    """Nudges for deadlines entering the ETA horizon since the last run (beat runs this ``every``).

    Deadlines created far ahead (a 48 h escalation) get their ETA nudge here,
    about five minutes before they are due. Windows that overlap only send a
    harmless second nudge; a gap (beat was down) only costs precision: the
    sweeper still acts.
    """
    now = timezone.now()
    entering = Deadline.objects.filter(state=State.PENDING, due_at__gt=now + ETA_HORIZON - every,
                                       due_at__lte=now + ETA_HORIZON)
    with transaction.atomic():
        deadlines = list(entering.only("id", "incident_id", "due_at"))
        schedule_precise_firing(deadlines)
    return len(deadlines)


# --- watching the watcher ------------------------------------------------------------


def oldest_overdue_seconds() -> float | None:
    """Age of the oldest pending deadline past its due time, or None when none is overdue."""
    oldest = Deadline.objects.filter(state=State.PENDING, due_at__lte=timezone.now()).aggregate(m=Min("due_at"))["m"]
    if oldest is None:
        return None
    return max(0.0, (timezone.now() - oldest).total_seconds())


def beat_heart(name: str) -> None:
    """Record that ``name`` ("beat" or "worker") is alive now; /readyz reports the age."""
    from .models import Heartbeat

    Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})
