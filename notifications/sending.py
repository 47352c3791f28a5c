"""Calling the channels of one claimed batch at the same time, and handing the answers back as they come.

Only the provider calls run in threads: every database read and write stays
on the caller's thread, in its connection and transaction (a test's
transaction, or a worker's), so threads here never touch the database.

Calls to one destination keep their order (a lane): a group chat shows an
incident's updates in the order they happened, an SMS gateway gets one
person's texts in order, and email keeps going out one message after the
other as before. Webhooks are machine receivers that tell duplicates and
order by the delivery id and timestamp, so each webhook call is its own lane.
"""

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Hashable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from .channels import Message, Result, adapter_for
from .models import ChannelKind, Delivery

log = logging.getLogger(__name__)

# Threads per delivery run: enough to wait on a batch's slow providers at once, few enough for a 2-core worker.
SEND_THREADS = 16
# Answers that have come are recorded at least this often while slower calls of the batch are still out, so a
# provider that hangs until the timeout does not keep the others' attempts unrecorded (and re-sent after a crash).
FLUSH_SECONDS = 0.2


@dataclass
class Call:
    delivery: Delivery
    message: Message
    # Filled in by the thread that makes the call.
    started_at: datetime | None = None
    result: Result = field(default_factory=lambda: Result(ok=False, error="not sent"))


def lane(delivery: Delivery) -> Hashable:
    if delivery.kind == ChannelKind.EMAIL:
        return ("email",)
    if delivery.kind == ChannelKind.WEBHOOK:
        return ("webhook", delivery.pk)
    if delivery.kind == ChannelKind.SMS:
        return ("sms", delivery.channel_id, delivery.address)
    return (delivery.kind, delivery.channel_id)


class Sender:
    """A thread pool for one delivery run (``with Sender() as sender``); its threads end with the run."""

    def __init__(self, *, threads: int = SEND_THREADS, now: datetime | None = None):
        self.threads, self.now = threads, now
        self.pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> "Sender":
        self.pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="fenghuo-send")
        return self

    def __exit__(self, *exc_info: Any) -> None:
        assert self.pool is not None
        self.pool.shutdown(wait=True)
        self.pool = None

    def batch(self) -> "Batch":
        assert self.pool is not None, "use Sender as a context manager"
        return Batch(self.pool, now=self.now)


class Batch:
    """Calls submitted one by one (each starts at once, behind the earlier calls of its lane), answers collected.

    Submitting while the next message is still being put together lets the
    provider calls overlap the database reads of the batch.
    """

    def __init__(self, pool: ThreadPoolExecutor, *, now: datetime | None = None):
        self.pool, self.now = pool, now
        self.lock = threading.Lock()
        self.lanes: dict[Hashable, deque[Call]] = {}
        self.running: set[Hashable] = set()
        self.finished: queue.SimpleQueue[Call] = queue.SimpleQueue()
        self.submitted = 0

    def submit(self, call: Call) -> None:
        key = lane(call.delivery)
        with self.lock:
            self.lanes.setdefault(key, deque()).append(call)
            self.submitted += 1
            if key in self.running:
                return
            self.running.add(key)
        self.pool.submit(self._run_lane, key)

    def results(self) -> Iterator[list[Call]]:
        """Yield the finished calls in groups until every submitted call has finished, each exactly once.

        An adapter that raises gives a failed result, never a lost call.
        """
        done = 0
        while done < self.submitted:
            group = [self.finished.get()]
            deadline = time.monotonic() + FLUSH_SECONDS
            while done + len(group) < self.submitted:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    group.append(self.finished.get(timeout=left))
                except queue.Empty:
                    break
            done += len(group)
            yield group

    def _run_lane(self, key: Hashable) -> None:
        while True:
            with self.lock:
                calls = self.lanes[key]
                if not calls:
                    self.running.discard(key)
                    return
                call = calls.popleft()
            try:
                call.started_at = self.now or timezone.now()
                call.result = _call(call)
            finally:
                self.finished.put(call)


def _call(call: Call) -> Result:
    delivery = call.delivery
    try:
        return adapter_for(delivery.kind).send(call.message, address=delivery.address, config=delivery.channel)
    except Exception as exc:  # noqa: BLE001 - an adapter bug must fail the delivery visibly, never drop it
        log.exception("channel %s raised while sending delivery %s", delivery.kind, delivery.pk)
        return Result(ok=False, error=f"{type(exc).__name__}: {exc}")
