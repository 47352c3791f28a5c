"""Sending what the outbox holds: claim due rows, call the channel outside any transaction, record the attempt.

``deliver_due`` is the ``notifications.deliver_pending`` task body. A claim
commits before any provider is called, so a slow provider holds no lock, and
a worker that dies mid-send leaves a claim that expires and is taken over.

A claimed batch is sent at once (``sending``: threads for the provider calls
only, kept-alive connections) while the database work stays on this thread;
answers are recorded as they come, one attempt row and one outcome per
delivery, a group of answers per transaction.
"""

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from core.broker import broker_redis

from .channels import Message, Result
from .messages import RobotReading, message_for, robot_message, robot_reading
from .models import (
    PERSONAL_KINDS, ROBOT_KINDS, ChannelConfig, ChannelKind, Delivery, DeliveryAttempt, DeliveryStatus, Preference,
)
from .outbox import active_channels, usable_channels
from .sending import Call, Sender

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=2)
# A lost run (broker restarted) stops absorbing kicks after this; the beat schedule delivers meanwhile.
_KICK_TTL_MS = 10_000


def max_attempts() -> int:
    return settings.NOTIFICATIONS_MAX_ATTEMPTS


def backoff(attempt: int) -> timedelta:
    """Wait before attempt ``attempt + 1``: 10 s, 30 s, 90 s, … capped at an hour."""
    base = settings.NOTIFICATIONS_RETRY_BASE_SECONDS
    return timedelta(seconds=min(base * 3 ** (attempt - 1), 3600))


def deliver_due(*, now: datetime | None = None, limit: int = 50, rounds: int = 20) -> int:
    """Deliver everything due (the ``notifications.deliver_pending`` task body). Returns how many were sent.

    Each round claims a batch, calls its channels at the same time (``sending``) and records the answers in a
    few transactions as they come: each claimed delivery gets exactly one attempt row and one outcome.
    """
    sent = 0
    with Sender(now=now) as sender:
        for _round in range(rounds):
            ids = claim_due(now=now, limit=limit)
            if not ids:
                break
            sent += _deliver_batch(list(_claimed(ids)), sender, now=now)
    return sent


def claim_due(*, now: datetime | None = None, limit: int = 50) -> list[int]:
    """Claim due deliveries for this worker and commit the claim; return their ids.

    ``SKIP LOCKED``: concurrent workers take different rows instead of waiting.
    Robots get their per-minute limit here: over it, one carrier message per
    incident takes the others along (coalesced), and what still does not fit
    waits for the next minute.
    """
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",)).select_related("notification")
            .filter(Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
                    | Q(status=DeliveryStatus.SENDING, claimed_until__lt=now))
            .order_by("next_attempt_at", "id")[:limit]
        )
        if not rows:
            return []
        claimed = _apply_robot_limits(rows, now)
        Delivery.objects.filter(pk__in=claimed).update(
            status=DeliveryStatus.SENDING, claimed_until=now + CLAIM_LEASE, attempts=F("attempts") + 1)
    return claimed


def _apply_robot_limits(rows: Sequence[Delivery], now: datetime) -> list[int]:
    claimed: list[int] = []
    by_channel: dict[int, list[Delivery]] = {}
    for row in rows:
        if row.channel_id and row.kind in ROBOT_KINDS:
            by_channel.setdefault(row.channel_id, []).append(row)
        else:
            claimed.append(row.pk)
    for channel_id, channel_rows in by_channel.items():
        config = ChannelConfig.objects.get(pk=channel_id)
        if config.limit_per_minute is None:
            claimed += [row.pk for row in channel_rows]
            continue
        window_start = now - timedelta(minutes=1)
        # Claimed by another worker and not yet recorded: being sent now, so they take room too. Counted before
        # the attempts, so a batch recorded in between is counted twice (too little room), never missed.
        out = Delivery.objects.filter(channel_id=channel_id, status=DeliveryStatus.SENDING,
                                      claimed_until__gte=now).count()
        recent = DeliveryAttempt.objects.filter(channel_id=channel_id, at__gt=window_start)
        room = max(config.limit_per_minute - out - recent.count(), 0)
        carriers = channel_rows
        if len(channel_rows) > room:
            carriers = []
            by_incident: dict[int | None, list[Delivery]] = {}
            for row in channel_rows:
                by_incident.setdefault(row.notification.incident_id, []).append(row)
            for incident_rows in by_incident.values():
                carrier, rest = incident_rows[0], incident_rows[1:]
                carriers.append(carrier)
                if rest:
                    Delivery.objects.filter(pk__in=[r.pk for r in rest]).update(
                        status=DeliveryStatus.COALESCED, coalesced_into=carrier, claimed_until=None)
        if len(carriers) > room:
            # A slot frees a minute after the oldest send in the window (a second's margin for the call itself).
            oldest = recent.order_by("at").values_list("at", flat=True).first() or now
            Delivery.objects.filter(pk__in=[c.pk for c in carriers[room:]]).update(
                next_attempt_at=oldest + timedelta(seconds=61))
        claimed += [c.pk for c in carriers[:room]]
    return claimed


def _claimed(ids: Sequence[int]) -> QuerySet[Delivery]:
    return (Delivery.objects.select_related("notification__person", "notification__incident__level",
                                            "notification__incident__plan_version", "channel")
            .filter(pk__in=ids, status=DeliveryStatus.SENDING).order_by("next_attempt_at", "id"))


def _deliver_batch(deliveries: Sequence[Delivery], sender: Sender, *, now: datetime | None = None) -> int:
    """Send one claimed batch; returns how many were sent.

    An SMS whose number might reach its daily cap through another SMS of the same batch still out waits for that
    one's outcome (the next wave), so the cap counts exactly what was sent, as when rows were sent one by one.
    """
    sent = 0
    waiting = list(deliveries)
    while waiting:
        batch = sender.batch()
        later: list[Delivery] = []
        sms_out: Counter[str] = Counter()
        try:
            reading = robot_reading(waiting)
            for delivery in waiting:
                outcome = _prepare(delivery, sms_out=sms_out, reading=reading)
                if outcome is _WAIT:
                    later.append(delivery)
                elif isinstance(outcome, Message):
                    batch.submit(Call(delivery, outcome))
                    if delivery.kind == ChannelKind.SMS:
                        sms_out[delivery.address] += 1
        finally:
            # Even when putting a message together failed, what has been sent is recorded (else it is sent again
            # when its claim runs out); the rows not reached keep their claim, as before.
            for finished in batch.results():
                sent += sum(status == DeliveryStatus.SENT for status in _record_attempts(finished, now=now))
        waiting = later
    return sent


_WAIT = object()


def _prepare(delivery: Delivery, *, sms_out: Counter[str], reading: RobotReading) -> Message | object | str:
    """The message to send, ``_WAIT``, or the status the delivery was finished with unsent."""
    notification = delivery.notification
    if delivery.kind in PERSONAL_KINDS:
        skip = ""
        if notification.cancelled_at:
            skip = "a colleague on duty answered first"
        elif notification.acknowledged_at and (delivery.attempts > 1 or "repeat" in delivery.idempotency_key):
            skip = "already acknowledged"
        elif delivery.kind == ChannelKind.SMS:
            sent_today, out = _sms_sent_today(delivery), sms_out[delivery.address]
            if sent_today >= settings.NOTIFICATIONS_SMS_DAILY_CAP:
                return _finish(delivery, DeliveryStatus.SUPPRESSED, error="daily SMS cap for this number reached")
            if sent_today + out >= settings.NOTIFICATIONS_SMS_DAILY_CAP:
                return _WAIT
        if skip:
            return _finish(delivery, DeliveryStatus.CANCELLED, error=skip)
        message = message_for(notification)
        message.idempotency_key = delivery.idempotency_key
    else:
        message = robot_message(delivery, reading=reading)
    config = delivery.channel
    if config is not None and not config.is_active:
        return _finish(delivery, DeliveryStatus.CANCELLED, error="channel switched off")
    return message


def _record_attempts(calls: Sequence[Call], *, now: datetime | None = None) -> list[str]:
    """One attempt row per call and the outcome of each delivery, in one transaction; the statuses in order."""
    now = now or timezone.now()
    statuses: list[str] = []
    sent: list[int] = []
    unsent: list[Delivery] = []
    failed: list[Delivery] = []
    with transaction.atomic():
        DeliveryAttempt.objects.bulk_create([
            DeliveryAttempt(delivery=call.delivery, channel=call.delivery.channel, at=call.started_at or now,
                            ok=call.result.ok, http_status=call.result.http_status,
                            response=(call.result.response or "")[:4000], error=call.result.error[:1000],
                            latency_ms=call.result.latency_ms)
            for call in calls
        ])
        for call in calls:
            delivery, result = call.delivery, call.result
            if result.ok:
                statuses.append(DeliveryStatus.SENT)
                sent.append(delivery.pk)
                continue
            delivery.claimed_until, delivery.last_error = None, _describe(result)
            if result.retryable and delivery.attempts < max_attempts():
                delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, now + backoff(delivery.attempts)
            else:
                delivery.status = DeliveryStatus.FAILED
                failed.append(delivery)
            statuses.append(delivery.status)
            unsent.append(delivery)
        # Only the claimant may finish a row: a stale claim taken over by another worker is not overwritten.
        claimed = Delivery.objects.filter(status=DeliveryStatus.SENDING)
        if sent:
            claimed.filter(pk__in=sent).update(status=DeliveryStatus.SENT, sent_at=now, claimed_until=None,
                                               last_error="")
        if unsent:
            claimed.bulk_update(unsent, ["status", "claimed_until", "last_error", "next_attempt_at"])
        for delivery in failed:
            log.error("delivery %s (%s) failed for good after %s attempts: %s", delivery.pk, delivery.kind,
                      delivery.attempts, delivery.last_error)
            _fall_back(delivery)
    return statuses


def _describe(result: Result) -> str:
    parts = [result.error, f"HTTP {result.http_status}" if result.http_status else "", (result.response or "")[:300]]
    return " · ".join(p for p in parts if p)


def _finish(delivery: Delivery, status: str, *, error: str = "") -> str:
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=status, claimed_until=None, last_error=error)
    return status


def _fall_back(delivery: Delivery) -> None:
    """A personal channel failed for good: try the person's next channel in priority order."""
    notification = delivery.notification
    if delivery.kind not in PERSONAL_KINDS or notification.person is None:
        return
    preference = Preference.objects.filter(person=notification.person).first()
    sms_gateway = next((c for c in active_channels() if c.kind == ChannelKind.SMS), None)
    usable = usable_channels(notification.person, preference=preference, sms_gateway=sms_gateway)
    tried = set(Delivery.objects.filter(notification=notification).values_list("kind", flat=True))
    for kind, address in usable:
        if kind not in tried:
            Delivery.objects.get_or_create(
                idempotency_key=f"{notification.dedup_key}:{kind}:fallback",
                defaults={"notification": notification, "kind": kind, "address": address,
                          "channel": sms_gateway if kind == ChannelKind.SMS else None},
            )
            transaction.on_commit(kick_delivery)
            return


def _sms_sent_today(delivery: Delivery) -> int:
    since = timezone.now() - timedelta(days=1)
    return Delivery.objects.filter(kind=ChannelKind.SMS, address=delivery.address, status=DeliveryStatus.SENT,
                                   sent_at__gte=since).count()


# --- asking a worker to deliver -----------------------------------------------------------------------


def kick_delivery_on_commit() -> None:
    """``kick_delivery`` once per transaction, however many notifications it records."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(func is kick_delivery for _ids, func, _robust in connection.run_on_commit):
        return
    transaction.on_commit(kick_delivery)


def kick_delivery() -> None:
    """Ask a worker to deliver now; the beat schedule catches anything this misses (broker down).

    At most one kicked run waits in the queue: a flag in Redis says one is
    queued and has not started, and the run deletes it before it claims
    anything, so it also delivers the rows of every kick it absorbed. Opening
    100 incidents in a storm thus queues a few delivery runs, not 100.
    """
    if not settings.NOTIFICATIONS_KICK_ON_COMMIT:
        return
    from .tasks import deliver_pending

    client = broker_redis()
    try:
        if client is not None and not client.set(_kick_key(), "1", nx=True, px=_KICK_TTL_MS):
            return
        deliver_pending.delay()
    except Exception:  # noqa: BLE001 - the outbox rows are committed; the periodic sweep will send them
        log.warning("could not enqueue notifications.deliver_pending; the beat schedule will pick the rows up")


def delivery_run_started() -> None:
    """A delivery run starts: later kicks must queue another run, since this one may claim before they commit."""
    client = broker_redis()
    if client is not None:
        try:
            client.delete(_kick_key())
        except Exception:  # noqa: BLE001 - the flag expires by itself
            pass


def _kick_key() -> str:
    return f"{settings.FENGHUO_QUEUE_PREFIX}:notifications:kick"
