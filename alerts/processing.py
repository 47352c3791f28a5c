"""Turning stored alerts into incidents: the runner's loop over pending groups, lane by lane, with a time budget.

The body of the ``alerts.process_pending`` and ``alerts.sweep_pending`` tasks.
Each pass opens the incidents of new groups first (what the office waits for),
then joins the alerts of groups that have one, then takes everything else group
by group (``grouping``). A crash between the request's commit and this leaves
rows with ``processed_at IS NULL`` that the next run or the sweep picks up.
"""

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db.models import Case, Count, F, IntegerField, Min, Value, When
from django.utils import timezone

from plan.document import LEVEL_RANKS

from .grouping import (MAX_ATTEMPTS, alert_group_process, alerts_join_open_incidents, alerts_open_incidents,
                       joinable_incident)
from .lanes import clear_nudge, lane_of, run_in_turn
from .models import Alert, AlertGroup

log = logging.getLogger(__name__)

# Keep one task run well inside Celery's 50 s soft time limit; it re-nudges itself.
RUN_SECONDS = 30
# New groups whose incidents open in one transaction: big enough to share the work, small enough that the
# first of them is visible soon.
OPEN_CHUNK = 20
# Groups one pass looks at, oldest first; the others wait for the next pass.
GROUPS_PER_PASS = 1000


def alerts_process_pending_in_turn(lane: int = 0) -> tuple[int, bool]:
    """``alerts_process_pending`` for one lane by one runner at a time (``lanes.run_in_turn``).

    Returns (processed, whether to run again): again when another runner asked
    for the lane meanwhile, or when this run stopped at its time budget.
    """
    started = time.monotonic()
    done, rerun = run_in_turn(lane, work=lambda keep_turn: alerts_process_pending(
        lane=lane, pass_interval=settings.ALERTS_PASS_INTERVAL_SECONDS, keep_turn=keep_turn,
        before_exit=lambda: clear_nudge(lane)))
    return done, rerun or time.monotonic() - started >= RUN_SECONDS


# A pending alert's severity as a number, mildest highest (the plan format's ranks; unknown keys last).
_SEVERITY = Case(*[When(level_key=key, then=Value(rank)) for key, rank in LEVEL_RANKS.items()],
                 default=Value(max(LEVEL_RANKS.values()) + 1), output_field=IntegerField())


def pending_groups(*, lane: int | None = None) -> tuple[list[tuple[int, str]], int]:
    """The alert groups with pending alerts, most severe first, then oldest first, and how many alerts those hold.

    In a storm the queue holds thousands of mild alerts; a red one that arrives
    behind them is opened in the next pass, not after them (issue 21). With
    ``lane``, only the groups of that lane. Read without locks.
    """
    rows = (Alert.objects.filter(processed_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
            .values_list("integration_id", "group_key")
            .annotate(worst=Min(_SEVERITY), first=Min("id"), count=Count("id"))
            .order_by("worst", "first"))
    groups: list[tuple[int, str]] = []
    alerts = 0
    for integration_id, group_key, _worst, _first, count in rows:
        if lane is not None and lane_of(integration_id, group_key=group_key) != lane:
            continue
        groups.append((integration_id, group_key))
        alerts += count
        if len(groups) >= GROUPS_PER_PASS:
            break
    return groups, alerts


def alerts_process_pending(*, lane: int | None = None, pass_interval: float = 0.0,
                           keep_turn: Callable[[], Any] | None = None,
                           before_exit: Callable[[], Any] | None = None) -> int:
    """Process every pending alert (of ``lane``, or all), group by group, oldest first. Returns how many.

    Each pass first opens the incidents of groups that have none (what the
    office waits for), then joins the alerts of the others. Returns early
    (leaving the rest for the next run) after ``RUN_SECONDS``. Safe to run
    concurrently: groups are serialised by their row lock and alerts claimed
    with SKIP LOCKED. ``keep_turn`` is called at the start of every pass and
    every few groups. ``before_exit`` runs when nothing is left, followed by
    one more look, so whatever was committed before it ran is processed here.
    A pass that cleared all it saw is followed by the next at most
    ``pass_interval`` seconds after it started: a chattering source then costs
    one batched join per group per pass, not one per alert. With a backlog the
    next pass starts at once.
    """
    started = time.monotonic()
    done = 0
    failed: set[tuple[int, str]] = set()  # tried once in this run; the next run (sweep) tries again
    while time.monotonic() - started < RUN_SECONDS:
        pass_started = time.monotonic()
        if keep_turn is not None:
            keep_turn()
        groups, waiting = pending_groups(lane=lane)
        groups = [group for group in groups if group not in failed]
        if not groups:
            if before_exit is None:
                return done
            before_exit()
            before_exit = None
            continue
        with_incident = _groups_with_open_incident(groups)
        progress = _open_in_chunks([g for g in groups if g not in with_incident], failed, keep_turn)
        try:
            joined_alerts, _joined, left = alerts_join_open_incidents(with_incident)
        except Exception:  # noqa: BLE001 - the one-group path below takes every group, recording failures
            log.exception("the batched join of alerts failed; processing group by group")
            joined_alerts, left = 0, with_incident
        progress += joined_alerts
        progress += _process_one_by_one([g for g in groups if g in left], failed, keep_turn)
        done += progress
        if progress == 0:  # everything pending is held by another worker right now
            if before_exit is not None:
                before_exit()
            return done
        if progress >= waiting:  # it cleared all it saw, no backlog: let the next pass gather more per group
            time.sleep(max(0.0, pass_interval - (time.monotonic() - pass_started)))
    return done


def _groups_with_open_incident(groups: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
    """Those of ``groups`` (integration id, key) whose group has an open incident now. Read without locks."""
    if not groups:
        return set()
    wanted = set(groups)
    rows = AlertGroup.objects.filter(
        joinable_incident(timezone.now()), integration_id__in={i for i, _key in wanted},
        key__in={key for _i, key in wanted}).values_list("integration_id", "key")
    return {row for row in rows if row in wanted}


def _open_in_chunks(groups: Sequence[tuple[int, str]], failed: set[tuple[int, str]],
                    keep_turn: Callable[[], Any] | None) -> int:
    """Open the incidents of new groups, ``OPEN_CHUNK`` per transaction; what a chunk leaves goes one by one."""
    progress = 0
    for start in range(0, len(groups), OPEN_CHUNK):
        some = groups[start:start + OPEN_CHUNK]
        try:
            opened_alerts, opened = alerts_open_incidents(some)
        except Exception:  # noqa: BLE001 - the one-group path takes every group, recording failures
            log.exception("opening incidents in a batch failed; processing group by group")
            opened_alerts, opened = 0, set()
        progress += opened_alerts + _process_one_by_one([g for g in some if g not in opened], failed, None)
        if keep_turn is not None:
            keep_turn()
    return progress


def _process_one_by_one(groups: Sequence[tuple[int, str]], failed: set[tuple[int, str]],
                        keep_turn: Callable[[], Any] | None) -> int:
    progress = 0
    for n, (integration_id, group_key) in enumerate(groups, start=1):
        try:
            progress += alert_group_process(integration_id=integration_id, group_key=group_key)
        except Exception as exc:  # noqa: BLE001 - one bad group must not stop the others
            log.exception("alerts of group %r could not be processed", group_key)
            _record_failure(integration_id, group_key, exc)
            failed.add((integration_id, group_key))
        if keep_turn is not None and n % 10 == 0:  # opening incidents can take a while in a storm
            keep_turn()
    return progress


def _record_failure(integration_id: int, group_key: str, exc: Exception) -> None:
    Alert.objects.filter(integration_id=integration_id, group_key=group_key, processed_at__isnull=True).update(
        attempts=F("attempts") + 1, last_error=f"{exc.__class__.__name__}: {exc}"[:2000])

