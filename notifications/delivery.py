"""Sending what the outbox holds: claim due rows, call the channel outside any transaction, record the attempt.

``deliver_due`` is the ``notifications.deliver_pending`` task body. A claim
commits before any provider is called, so a slow provider holds no lock, and
a worker that dies mid-send leaves a claim that expires and is taken over.
"""

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from core.broker import broker_redis

from .channels import Result, adapter_for
from .messages import message_for, robot_message
from .models import (
    PERSONAL_KINDS, ROBOT_KINDS, ChannelConfig, ChannelKind, Delivery, DeliveryAttempt, DeliveryStatus, Preference,
)
from .outbox import active_channels, usable_channels

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
    """Deliver everything due (the ``notifications.deliver_pending`` task body). Returns how many were sent."""
    sent = 0
    for _round in range(rounds):
        ids = claim_due(now=now, limit=limit)
        if not ids:
            break
        for delivery in _claimed(ids):
            if _deliver(delivery, now=now) == DeliveryStatus.SENT:
                sent += 1
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
        recent = DeliveryAttempt.objects.filter(channel_id=channel_id, at__gt=window_start)
        room = max(config.limit_per_minute - recent.count(), 0)
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


def _deliver(delivery: Delivery, *, now: datetime | None = None) -> str:
    notification = delivery.notification
    if delivery.kind in PERSONAL_KINDS:
        skip = ""
        if notification.cancelled_at:
            skip = "a colleague on duty answered first"
        elif notification.acknowledged_at and (delivery.attempts > 1 or "repeat" in delivery.idempotency_key):
            skip = "already acknowledged"
        elif delivery.kind == ChannelKind.SMS and _sms_over_daily_cap(delivery):
            return _finish(delivery, DeliveryStatus.SUPPRESSED, error="daily SMS cap for this number reached")
        if skip:
            return _finish(delivery, DeliveryStatus.CANCELLED, error=skip)
        message = message_for(notification)
        message.idempotency_key = delivery.idempotency_key
    else:
        message = robot_message(delivery)
    config = delivery.channel
    if config is not None and not config.is_active:
        return _finish(delivery, DeliveryStatus.CANCELLED, error="channel switched off")
    started_at = now or timezone.now()
    try:
        result = adapter_for(delivery.kind).send(message, address=delivery.address, config=config)
    except Exception as exc:  # noqa: BLE001 - an adapter bug must fail the delivery visibly, never drop it
        log.exception("channel %s raised while sending delivery %s", delivery.kind, delivery.pk)
        result = Result(ok=False, error=f"{type(exc).__name__}: {exc}")
    return _record_attempt(delivery, result, started_at=started_at, now=now)


def _record_attempt(delivery: Delivery, result: Result, *, started_at: datetime, now: datetime | None = None) -> str:
    now = now or timezone.now()
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery, channel=delivery.channel, at=started_at, ok=result.ok, http_status=result.http_status,
            response=(result.response or "")[:4000], error=result.error[:1000], latency_ms=result.latency_ms,
        )
        if result.ok:
            status = DeliveryStatus.SENT
            fields = {"status": status, "sent_at": now, "claimed_until": None, "last_error": ""}
        elif result.retryable and delivery.attempts < max_attempts():
            status = DeliveryStatus.PENDING
            fields = {"status": status, "claimed_until": None, "last_error": _describe(result),
                      "next_attempt_at": now + backoff(delivery.attempts)}
        else:
            status = DeliveryStatus.FAILED
            fields = {"status": status, "claimed_until": None, "last_error": _describe(result)}
        # Only the claimant may finish the row: a stale claim taken over by another worker is not overwritten.
        Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(**fields)
        if status == DeliveryStatus.FAILED:
            log.error("delivery %s (%s) failed for good after %s attempts: %s", delivery.pk, delivery.kind,
                      delivery.attempts, fields["last_error"])
            _fall_back(delivery)
    return status


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


def _sms_over_daily_cap(delivery: Delivery) -> bool:
    since = timezone.now() - timedelta(days=1)
    sent = Delivery.objects.filter(kind=ChannelKind.SMS, address=delivery.address, status=DeliveryStatus.SENT,
                                   sent_at__gte=since).count()
    return sent >= settings.NOTIFICATIONS_SMS_DAILY_CAP


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
