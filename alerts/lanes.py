"""Which runner processes which alert group: lanes, the per-lane nudge flag and the per-lane turn, in Redis.

Alert groups are spread over ``ALERTS_LANES`` lanes by a hash of their key, so
that many new groups (a storm) have their incidents opened by as many runners
at once without ever contending for the same group. Every flag and turn here
is an optimisation: without Redis (the embedded broker), or when it is
unreachable, everything still works, only with some wasted work, because the
groups' row locks keep runners apart and the periodic sweep finds what a lost
nudge left.

The lane count and the key prefix must be the same in the web processes (which
pick the lane and set its flag) and the workers (which run it): each worker
records its values (``worker_settings_record``) and ``/readyz`` reports a
worker that differs from the web process answering (``workers_disagreeing``).
"""

import logging
import secrets
import zlib
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, TypeVar

import redis
from django.conf import settings
from django.utils import timezone

from core.broker import broker_redis

from .models import WorkerSettings

log = logging.getLogger(__name__)

T = TypeVar("T")

_NUDGE_TTL_MS = 10_000
_TURN_TTL_MS = 10_000
# Both scripts run atomically in Redis, so a refused runner's rerun mark is never missed by the holder.
_TAKE_TURN = """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
redis.call('set', KEYS[2], '1', 'PX', ARGV[2])
return 0"""
_GIVE_BACK_TURN = """
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end
local rerun = redis.call('get', KEYS[2])
redis.call('del', KEYS[2])
return rerun"""


def redis_key(*parts: object) -> str:
    """A Redis key of the alerts app, under this deployment's prefix (tests and installations share servers)."""
    return ":".join([settings.FENGHUO_QUEUE_PREFIX, "alerts", *map(str, parts)])


def lane_of(integration_id: int, *, group_key: str, lanes: int | None = None) -> int:
    """The runner lane owning an alert group: a stable hash, the same in every process."""
    lanes = lanes or settings.ALERTS_LANES
    return zlib.crc32(f"{integration_id}:{group_key}".encode()) % lanes


def nudge(lanes: Iterable[int]) -> None:
    """Ask a worker to process pending alerts in ``lanes``, unless a runner is already asked or at work there.

    Each lane has its flag. It stays set while the lane's runner works, so a
    storm enqueues one task per lane, not one per request. The runner deletes
    it before its last look for pending rows (``alerts_process_pending``), so a
    row committed after that look finds the flag gone and nudges again;
    skipping ours therefore loses nothing. Publishing can fail (broker down,
    process killed): the periodic sweep is the safety net, which is why rows
    carry ``processed_at``.
    """
    from .tasks import process_pending

    pending = sorted(lanes)
    client = broker_redis()
    try:
        if client is not None and len(pending) == 1:  # most requests: one group, one lane, one plain command
            pending = pending if client.set(redis_key("nudge", pending[0]), "1", nx=True, px=_NUDGE_TTL_MS) else []
        elif client is not None:
            pipe = client.pipeline(transaction=False)
            for lane in pending:
                pipe.set(redis_key("nudge", lane), "1", nx=True, px=_NUDGE_TTL_MS)
            pending = [lane for lane, fresh in zip(pending, pipe.execute(), strict=True) if fresh]
        for lane in pending:
            process_pending.delay(lane)
    except Exception:  # noqa: BLE001 - the alert is committed; the sweep will process it
        log.warning("could not nudge the alert worker; the periodic sweep will process the alerts")


def clear_nudge(lane: int) -> None:
    client = broker_redis()
    if client is not None:
        try:
            client.delete(redis_key("nudge", lane))
        except redis.RedisError:
            pass


def run_in_turn(lane: int, *, work: Callable[[Callable[[], Any] | None], T]) -> tuple[T | int, bool]:
    """Run ``work(keep_turn)`` as the one runner of ``lane``; returns (its result, whether to run again).

    Two runners in one lane are safe (row locks) but wasteful: each skips the
    groups the other holds, at a few queries per group. The turn is a Redis key
    with a short expiry that ``keep_turn`` renews (None without Redis), so a
    runner that dies holds it only briefly; correctness never depends on it. A
    runner refused the turn returns (0, False) at once and marks a rerun, which
    the holder reads after giving the turn back, so alerts committed meanwhile
    are not left for the periodic sweep.
    """
    client = broker_redis()
    holder = secrets.token_hex(8)
    keys = (redis_key("turn", lane), redis_key("rerun", lane))
    try:
        if client is not None and not client.eval(_TAKE_TURN, 2, *keys, holder, _TURN_TTL_MS):
            return 0, False
    except redis.RedisError:
        client = None  # run anyway: without the turn there is only some wasted work
    renew = (lambda: client.pexpire(keys[0], _TURN_TTL_MS)) if client is not None else None
    try:
        done = work(renew)
    finally:
        rerun = False
        if client is not None:
            try:
                rerun = bool(client.eval(_GIVE_BACK_TURN, 2, *keys, holder))
            except redis.RedisError:
                rerun = True
    return done, rerun


def shared_settings() -> dict[str, Any]:
    """The settings every web process and alert worker must run with alike."""
    return {"lanes": settings.ALERTS_LANES, "queue_prefix": settings.FENGHUO_QUEUE_PREFIX}


# A worker silent this long is gone (containers get a new node name each start): its row is dropped.
FORGET_WORKERS_AFTER = timedelta(days=7)


def worker_settings_record(*, worker: str) -> None:
    """Note the settings this worker runs with: one UPDATE, an INSERT the first time."""
    now = timezone.now()
    values = {**shared_settings(), "seen_at": now}
    if not WorkerSettings.objects.filter(worker=worker).update(**values):
        WorkerSettings.objects.bulk_create([WorkerSettings(worker=worker, **values)], ignore_conflicts=True)
        # Only when a new name appears: the periodic sweep's usual cost stays one UPDATE.
        WorkerSettings.objects.filter(seen_at__lt=now - FORGET_WORKERS_AFTER).delete()


def workers_disagreeing(*, max_age_seconds: float) -> list[dict[str, Any]]:
    """The workers seen in the last ``max_age_seconds`` whose settings differ from this process's.

    A worker silent for longer no longer counts, so the report clears once a
    worker restarted with the right values has replaced it under another name.
    """
    since = timezone.now() - timedelta(seconds=max_age_seconds)
    rows = WorkerSettings.objects.filter(seen_at__gte=since).exclude(**shared_settings()).order_by("worker")
    return [{"worker": row.worker, "lanes": row.lanes, "queue_prefix": row.queue_prefix,
             "seen_at": row.seen_at.isoformat()} for row in rows]
