"""Telling people. The escalation engine calls ``notify_roles``; nothing else is needed from it.

Three parts, in the order a message travels:

1. ``notify_roles`` resolves plan roles to people *now* (the duty roster first),
   writes one ``Notification`` per person and its ``Delivery`` outbox rows in the
   caller's transaction, and asks a worker to deliver once that commits.
2. ``deliver_due`` (the ``notifications.deliver_pending`` task) claims due rows
   with ``SKIP LOCKED``, commits the claim, calls the providers outside any
   transaction, then records the attempt and marks the row sent or due again.
3. ``follow_up`` (the ``notifications.follow_up`` task) repeats what nobody
   answered and then tells the role's superior.
"""

import logging
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.broker import broker_redis
from core.errors import Refused
from incidents.states import OPEN_STATUSES
from people.models import Person, RoleAssignment

from .channels import Message, Result, adapter_for
from .models import (
    ASKS_NEEDING_ANSWER, PERSONAL_KINDS, ROBOT_KINDS, URGENT_LEVELS, Ask, ChannelConfig, ChannelKind, Delivery,
    DeliveryAttempt, DeliveryStatus, DutyShift, LevelPolicy, Notification, Preference, RolePolicy,
)

log = logging.getLogger(__name__)

DEFAULT_CHANNELS = [ChannelKind.EMAIL, ChannelKind.SMS]
# Repeat interval and repeats before the superior role is told, per level, when no LevelPolicy row says otherwise.
DEFAULT_REPEAT = {
    "red": (timedelta(minutes=5), 3),
    "orange": (timedelta(minutes=10), 3),
    "yellow": (timedelta(minutes=30), 2),
    "blue": (timedelta(hours=1), 1),
}
ACK_SALT = "notifications.ack"


class NotYourNotification(Refused, PermissionError):
    """Someone tried to acknowledge another person's notification (a PermissionError for older callers)."""


# --- who ---------------------------------------------------------------------------------


def shifts_on_duty(role_key=None, *, at=None):
    at = at or timezone.now()
    shifts = DutyShift.objects.filter(starts_at__lte=at, ends_at__gt=at, person__is_active=True)
    if role_key:
        shifts = shifts.filter(role_key=role_key)
    return shifts.select_related("person").order_by("role_key", "starts_at")


def on_duty(role_key, *, at=None):
    """The people on duty for ``role_key`` at ``at`` (now), in shift order."""
    return _on_duty_by_role([role_key], at=at or timezone.now()).get(role_key, [])


def repeat_policy(level_key):
    policy = LevelPolicy.objects.filter(level_key=level_key).first()
    if policy:
        return policy.repeat_every, policy.max_repeats
    return DEFAULT_REPEAT.get(level_key, (timedelta(minutes=30), 1))


# --- recording ---------------------------------------------------------------------------


def notify_roles(incident, role_keys, *, event, ask=Ask.FYI, due_at=None, note=""):
    """Record one notification per person holding each role; return (who was told, roles with nobody).

    ``event`` identifies the cause (``opened``, ``level:orange``, ``deadline:42``):
    with the person it forms the deduplication key, so calling this twice for
    the same event tells nobody twice. A person in two of the roles is told once.
    When a role has people on duty now, they are told first and the rest of the
    role only if none of them acknowledges within the role's wait.
    """
    return notify_requests(incident, [(role_key, ask, due_at) for role_key in role_keys], event=event, note=note)


def notify_requests(incident, requests, *, event, note=""):
    """``notify_roles`` for several ``(role_key, ask, due_at)`` at once, each role asked its own thing.

    A level start tells a handful of roles; this reads who holds them, who is on
    duty, the channels and what was already recorded once for all of them, so
    the cost does not grow with the number of roles. A person in two of the
    roles is told once, by the first request naming one of them.
    """
    return notify_many([(incident, requests, event)], note=note)[0]


def notify_many(items, *, note=""):
    """``notify_requests`` for several ``(incident, requests, event)`` at once; a (told, nobody) per item.

    Opening many incidents together (an alert storm) reads roles, duty roster,
    channels and what was already recorded once for all of them, and writes
    every notification and delivery in one statement each.
    """
    now = timezone.now()
    items = [(incident, list({role_key: (role_key, ask, due_at)
                              for role_key, ask, due_at in reversed(requests)}.values())[::-1], event)
             for incident, requests, event in items]
    role_keys = list(dict.fromkeys(role_key for _incident, requests, _event in items for role_key, _a, _d in requests))
    channels = _active_channels()
    duty_by_role = _on_duty_by_role(role_keys, at=now)
    members_by_role = _people_by_role(role_keys)
    waits = _duty_ack_waits([key for key in role_keys if duty_by_role.get(key)])
    batches, nobodies = [], []
    for incident, requests, event in items:
        wanted, nobody, seen = [], [], set()
        for role_key, ask, due_at in requests:
            duty = duty_by_role.get(role_key, [])
            duty_ids = {p.pk for p in duty}
            people = duty + [p for p in members_by_role.get(role_key, []) if p.pk not in duty_ids]
            if not people:
                nobody.append(role_key)
                wanted.append(_Wanted(role_key, ask, due_at, None, now))
                continue
            held_until = now + waits[role_key] if duty else now
            for person in people:
                if person.pk in seen:
                    continue
                seen.add(person.pk)
                wanted.append(_Wanted(role_key, ask, due_at, person,
                                      now if person.pk in duty_ids or not duty else held_until))
        batches.append((incident, event, wanted))
        nobodies.append(nobody)
    created_per_item = _record_many(batches, note=note, channels=channels)
    first_of_role = {}
    for created in created_per_item:
        for notification in created:
            key = (notification.incident_id, notification.event, notification.role_key)
            first_of_role.setdefault(key, notification)
    _add_robot_deliveries(first_of_role.values(), [c for c in channels if c.kind in ROBOT_KINDS])
    if any(created_per_item) or any(nobodies):
        _kick_delivery_on_commit()
    return [([n.person for n in created if n.person is not None], nobody)
            for created, nobody in zip(created_per_item, nobodies, strict=True)]


class _Wanted(NamedTuple):
    role_key: str
    ask: str
    due_at: object
    person: object
    visible_from: object


def _on_duty_by_role(role_keys, *, at):
    by_role = {}
    for shift in shifts_on_duty(at=at).filter(role_key__in=role_keys):
        by_role.setdefault(shift.role_key, {})[shift.person] = None  # Person hashes by pk: one entry each
    return {key: list(people) for key, people in by_role.items()}


def _people_by_role(role_keys):
    by_role = {}
    assignments = (RoleAssignment.objects.filter(role_key__in=role_keys, person__is_active=True)
                   .select_related("person").order_by("person_id"))
    for assignment in assignments:
        by_role.setdefault(assignment.role_key, []).append(assignment.person)
    return by_role


def _duty_ack_waits(role_keys):
    default = timedelta(seconds=getattr(settings, "NOTIFICATIONS_DUTY_ACK_WAIT_SECONDS", 300))
    waits = dict.fromkeys(role_keys, default)
    if role_keys:
        waits.update(RolePolicy.objects.filter(role_key__in=role_keys).values_list("role_key", "ack_wait"))
    return waits


def _record_many(batches, *, note, channels):
    """Write the notifications (and their personal deliveries) not yet recorded.

    ``batches``: (incident, event, wanted) each; returns the notifications created, a list per batch.
    """
    keyed = [{_dedup_key(incident, event, w.person, w.role_key): w for w in wanted}
             for incident, event, wanted in batches]
    existing = set(Notification.objects.filter(dedup_key__in=[key for keys in keyed for key in keys])
                   .values_list("dedup_key", flat=True))
    per_batch = []
    for (incident, event, _wanted), keys in zip(batches, keyed, strict=True):
        messages, rows = {}, []
        for key, w in keys.items():
            if key in existing:
                continue
            language = (w.person.language if w.person and w.person.language else settings.LANGUAGE_CODE)
            if (language, w.ask, w.due_at) not in messages:
                with translation.override(language):
                    messages[language, w.ask, w.due_at] = _message(incident, w.ask, w.due_at, note)
            title, body = messages[language, w.ask, w.due_at]
            rows.append(Notification(
                incident=incident, person=w.person, role_key=w.role_key, event=event, ask=w.ask, due_at=w.due_at,
                level_key=incident.level.key, is_drill=incident.is_drill, title=title[:300], body=body,
                visible_from=w.visible_from, last_told_at=w.visible_from, dedup_key=key,
            ))
        per_batch.append(rows)
    rows = [row for batch in per_batch for row in batch]
    if not rows:
        return per_batch
    try:
        # A savepoint: a concurrent caller recording the same event must not abort our caller's transaction.
        with transaction.atomic():
            Notification.objects.bulk_create(rows)
    except IntegrityError:
        per_batch = [[n for n in batch if not Notification.objects.filter(dedup_key=n.dedup_key).exists()]
                     for batch in per_batch]
        for n in (n for batch in per_batch for n in batch):
            n.pk = None
            n.save()
        rows = [row for batch in per_batch for row in batch]
    _add_personal_deliveries(rows, channels=channels)
    return per_batch


def _dedup_key(incident, event, person, role_key):
    who = person.pk if person else f"role:{role_key}"
    return f"incident:{incident.pk}:{event}:{who}"


def _message(incident, ask, due_at, note):
    drill = _("[DRILL] ") if incident.is_drill else ""
    level = incident.level.name
    title = f"{drill}{level} · {incident.category.name} · #{incident.pk} {incident.title}"
    if ask == Ask.ON_SITE and due_at:
        request = _("Be on site by %(time)s.") % {"time": timezone.localtime(due_at).strftime("%H:%M")}
    elif ask == Ask.APPROVE:
        request = _("Approve or reject the response plan.")
    elif ask == Ask.MISSED:
        request = _("A deadline was missed.")
    elif ask == Ask.ACKNOWLEDGE:
        request = _("Acknowledge and respond.")
    elif ask == Ask.ANNOUNCE:
        request = _("Announcement of the warning level.")
    else:
        request = _("For your information.")
    drill_note = _("This is a drill.") if incident.is_drill else ""
    body = " ".join(part for part in (request, note, drill_note) if part)
    return title, body


def _active_channels():
    return list(ChannelConfig.objects.filter(is_active=True))


def _add_personal_deliveries(notifications, *, suffix="", channels=None):
    """Outbox rows for each person's own channels (email, SMS), in the same transaction as the notifications."""
    people = [n.person for n in notifications if n.person is not None]
    if not people:
        return []
    preferences = {p.person_id: p for p in Preference.objects.filter(person__in=people)}
    channels = _active_channels() if channels is None else channels
    sms_gateway = next((c for c in channels if c.kind == ChannelKind.SMS), None)
    rows = []
    for n in notifications:
        if n.person is None:
            continue
        preference = preferences.get(n.person_id)
        usable = _usable_channels(n.person, preference, sms_gateway)
        # Urgent levels go out on every channel at once; otherwise the first usable one, the next only if it fails.
        chosen = usable if n.level_key in URGENT_LEVELS else usable[:1]
        start = _after_quiet_hours(preference, n.visible_from, n.level_key)
        for kind, address in chosen:
            rows.append(Delivery(
                notification=n, kind=kind, address=address, next_attempt_at=start,
                channel=sms_gateway if kind == ChannelKind.SMS else None,
                idempotency_key=f"{n.dedup_key}:{kind}{suffix}",
            ))
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return rows


def _usable_channels(person, preference, sms_gateway):
    order = (preference.channels if preference and preference.channels else DEFAULT_CHANNELS)
    usable = []
    for kind in order:
        if kind == ChannelKind.EMAIL and person.email:
            usable.append((ChannelKind.EMAIL, person.email))
        elif kind == ChannelKind.SMS and person.phone and sms_gateway is not None:
            usable.append((ChannelKind.SMS, person.phone))
    return usable


def in_quiet_hours(preference, at):
    if preference is None or preference.quiet_start is None or preference.quiet_end is None:
        return False
    local = timezone.localtime(at).time()
    start, end = preference.quiet_start, preference.quiet_end
    return start <= local < end if start < end else (local >= start or local < end)


def _after_quiet_hours(preference, at, level_key):
    """When a non-urgent message may go out: ``at``, or the end of the person's quiet hours."""
    if level_key in URGENT_LEVELS or not in_quiet_hours(preference, at):
        return at
    local = timezone.localtime(at)
    end = local.replace(hour=preference.quiet_end.hour, minute=preference.quiet_end.minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end


def _add_robot_deliveries(notifications, robots):
    """One robot message per role told (the first notification of each role carries it)."""
    rows = [
        Delivery(notification=n, kind=config.kind, channel=config, next_attempt_at=n.visible_from,
                 idempotency_key=f"robot:{config.pk}:{n.dedup_key.rsplit(':', 1)[0]}:{n.role_key}")
        for n in notifications for config in robots if config.role_key in ("", n.role_key)
    ]
    if rows:
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)


def _kick_delivery_on_commit():
    """``kick_delivery`` once per transaction, however many notifications it records."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(func is kick_delivery for _ids, func, _robust in connection.run_on_commit):
        return
    transaction.on_commit(kick_delivery)


def kick_delivery():
    """Ask a worker to deliver now; the beat schedule catches anything this misses (broker down).

    At most one kicked run waits in the queue: a flag in Redis says one is
    queued and has not started, and the run deletes it before it claims
    anything, so it also delivers the rows of every kick it absorbed. Opening
    100 incidents in a storm thus queues a few delivery runs, not 100.
    """
    if not getattr(settings, "NOTIFICATIONS_KICK_ON_COMMIT", True):
        return
    from .tasks import deliver_pending

    client = broker_redis()
    try:
        if client is not None and not client.set(_kick_key(), "1", nx=True, px=_KICK_TTL_MS):
            return
        deliver_pending.delay()
    except Exception:  # noqa: BLE001 - the outbox rows are committed; the periodic sweep will send them
        log.warning("could not enqueue notifications.deliver_pending; the beat schedule will pick the rows up")


def delivery_run_started():
    """A delivery run starts: later kicks must queue another run, since this one may claim before they commit."""
    client = broker_redis()
    if client is not None:
        try:
            client.delete(_kick_key())
        except Exception:  # noqa: BLE001 - the flag expires by itself
            pass


# A lost run (broker restarted) stops absorbing kicks after this; the beat schedule delivers meanwhile.
_KICK_TTL_MS = 10_000


def _kick_key():
    return f"{settings.FENGHUO_QUEUE_PREFIX}:notifications:kick"


# --- messages --------------------------------------------------------------------------------


def incident_link(incident_id):
    return f"{settings.SITE_URL.rstrip('/')}/incidents/{incident_id}/"


def ack_token(notification):
    return signing.TimestampSigner(salt=ACK_SALT).sign(str(notification.pk))


def ack_url(notification):
    path = reverse("notifications:ack_link", kwargs={"token": ack_token(notification)})
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def notification_from_token(token):
    """The notification a signed link names; ValidationError when forged or expired."""
    max_age = getattr(settings, "NOTIFICATIONS_ACK_LINK_MAX_AGE", 7 * 24 * 3600)
    try:
        pk = signing.TimestampSigner(salt=ACK_SALT).unsign(token, max_age=max_age)
    except signing.SignatureExpired:
        raise Refused(_("This acknowledgement link has expired. Open Fenghuo and acknowledge there."),
                      code="expired", status_code=410) from None
    except signing.BadSignature:
        raise Refused(_("This acknowledgement link is not valid."), code="bad_link", status_code=400) from None
    notification = Notification.objects.select_related("person", "incident").filter(pk=pk).first()
    if notification is None or notification.person is None:
        raise Refused(_("This acknowledgement link is not valid."), code="bad_link", status_code=400)
    return notification


def _level(incident, level_key):
    if incident.level.key == level_key:
        return incident.level
    return incident.plan_version.levels.filter(key=level_key).first() or incident.level


def message_for(notification, *, language=None, with_ack=True):
    """The message for one notification, in ``language`` (else its person's, else the site's)."""
    person = notification.person
    language = language or (person.language if person and person.language else settings.LANGUAGE_CODE)
    incident = notification.incident
    with translation.override(language):
        level = _level(incident, notification.level_key)
        text = notification.body
        if notification.person is None:
            text = " ".join([_("Nobody holds this role: %(role)s.") % {"role": notification.role_key}, text])
        return Message(
            title=notification.title, text=text, link=incident_link(incident.pk),
            ack_url=ack_url(notification) if with_ack and person is not None and notification.needs_answer else "",
            level_key=level.key, level_name=level.name, color=level.color, is_drill=notification.is_drill,
            link_label=_("Open the incident"), ack_label=_("Acknowledge"), incident_id=incident.pk,
            event=notification.event,
        )


def robot_message(delivery):
    """A group-chat message: who in the role was told, or several of an incident's updates merged into one."""
    config = delivery.channel
    merged = [delivery, *Delivery.objects.filter(coalesced_into=delivery).select_related("notification").order_by("id")]
    notifications = [d.notification for d in merged]
    with translation.override(config.language):
        first = message_for(notifications[0], language=config.language, with_ack=False)
        lines, mentions = [], []
        for n in notifications:
            told = list(Notification.objects.filter(incident_id=n.incident_id, event=n.event, role_key=n.role_key,
                                                    person__isnull=False).select_related("person"))
            names = "、".join(sorted(str(t.person) for t in told))
            mentions += [t.person.phone for t in told if t.person.phone and t.visible_from <= timezone.now()]
            who = _("Told: %(names)s") % {"names": names} if names else _("Nobody holds role %(role)s!") % {
                "role": n.role_key}
            if len(notifications) > 1:
                lines.append(f"- {n.title}: {n.body} ({who})")
            else:
                lines.append(f"{n.body}\n\n{who}")
        if len(notifications) > 1:
            drill = _("[DRILL] ") if first.is_drill else ""
            first.title = _("%(drill)s#%(id)s: %(count)s updates") % {
                "drill": drill, "id": first.incident_id, "count": len(notifications)}
        first.text = "\n".join(lines)
        first.mentions = sorted(set(mentions))
        first.idempotency_key = delivery.idempotency_key
        return first


# --- delivering --------------------------------------------------------------------------------


def max_attempts():
    return int(getattr(settings, "NOTIFICATIONS_MAX_ATTEMPTS", 5))


def backoff(attempt):
    """Wait before attempt ``attempt + 1``: 10 s, 30 s, 90 s, … capped at an hour."""
    base = float(getattr(settings, "NOTIFICATIONS_RETRY_BASE_SECONDS", 10))
    return timedelta(seconds=min(base * 3 ** (attempt - 1), 3600))


CLAIM_LEASE = timedelta(minutes=2)


def claim_due(*, now=None, limit=50):
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


def _apply_robot_limits(rows, now):
    claimed = []
    by_channel = {}
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
            by_incident = {}
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


def _claimed(ids):
    return (Delivery.objects.select_related("notification__person", "notification__incident__level",
                                            "notification__incident__plan_version", "channel")
            .filter(pk__in=ids, status=DeliveryStatus.SENDING).order_by("next_attempt_at", "id"))


def deliver_one(delivery_id, *, now=None):
    """Send one claimed delivery (no transaction held during the call) and record the outcome."""
    delivery = _claimed([delivery_id]).first()
    if delivery is None:
        return None
    return _deliver(delivery, now=now)


def _deliver(delivery, *, now=None):
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


def _record_attempt(delivery, result, *, started_at, now=None):
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


def _describe(result):
    parts = [result.error, f"HTTP {result.http_status}" if result.http_status else "", (result.response or "")[:300]]
    return " · ".join(p for p in parts if p)


def _finish(delivery, status, *, error=""):
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=status, claimed_until=None, last_error=error)
    return status


def _fall_back(delivery):
    """A personal channel failed for good: try the person's next channel in priority order."""
    notification = delivery.notification
    if delivery.kind not in PERSONAL_KINDS or notification.person is None:
        return
    preference = Preference.objects.filter(person=notification.person).first()
    sms_gateway = next((c for c in _active_channels() if c.kind == ChannelKind.SMS), None)
    usable = _usable_channels(notification.person, preference, sms_gateway)
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


def _sms_over_daily_cap(delivery):
    cap = int(getattr(settings, "NOTIFICATIONS_SMS_DAILY_CAP", 40))
    since = timezone.now() - timedelta(days=1)
    sent = Delivery.objects.filter(kind=ChannelKind.SMS, address=delivery.address, status=DeliveryStatus.SENT,
                                   sent_at__gte=since).count()
    return sent >= cap


def deliver_due(*, now=None, limit=50, rounds=20):
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


# --- acknowledging -----------------------------------------------------------------------------


@transaction.atomic
def acknowledge(notification, person):
    if notification.person_id != person.pk:
        raise NotYourNotification(_("This notification was sent to someone else."), code="forbidden",
                                  status_code=403)
    notification = Notification.objects.select_for_update().get(pk=notification.pk)
    if notification.acknowledged_at is None:
        now = timezone.now()
        notification.acknowledged_at = now
        notification.read_at = notification.read_at or now
        notification.save(update_fields=["acknowledged_at", "read_at"])
        _withdraw_held_back(notification, now)
    return notification


def acknowledge_by_token(token):
    notification = notification_from_token(token)
    return acknowledge(notification, notification.person)


def _withdraw_held_back(notification, now):
    """Someone on duty answered: the rest of the role, still held back, need not be told."""
    held = Notification.objects.filter(
        incident_id=notification.incident_id, event=notification.event, role_key=notification.role_key,
        visible_from__gt=now, cancelled_at__isnull=True, acknowledged_at__isnull=True,
    )
    held_ids = list(held.values_list("pk", flat=True))
    if held_ids:
        Notification.objects.filter(pk__in=held_ids).update(cancelled_at=now)
        Delivery.objects.filter(notification_id__in=held_ids, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.CANCELLED, last_error="a colleague on duty answered first")


def mark_read(person, *, now=None, notification_id=None):
    """Mark the person's visible unread notifications read (only ``notification_id`` when given); return how many."""
    unread = Notification.objects.visible(now).filter(person=person, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return (unread
            .update(read_at=now or timezone.now()))


# --- repeating and escalating ----------------------------------------------------------------------


def follow_up(*, now=None):
    """Repeat unanswered notifications at their level's interval; past the maximum, tell the superior role.

    Returns (repeated, escalated) counts. Safe to run concurrently: each
    notification is locked (SKIP LOCKED) and re-checked before acting.
    """
    now = now or timezone.now()
    repeated = escalated = 0
    candidates = (
        Notification.objects.visible(now)
        .filter(ask__in=ASKS_NEEDING_ANSWER, acknowledged_at__isnull=True, escalated_at__isnull=True,
                person__isnull=False, incident__status__in=OPEN_STATUSES)
        .values_list("pk", "level_key", "last_told_at", "visible_from")
    )
    for pk, level_key, last_told_at, visible_from in candidates:
        every, _max = repeat_policy(level_key)
        if (last_told_at or visible_from) + every > now:
            continue
        outcome = _follow_up_one(pk, now)
        repeated += outcome == "repeated"
        escalated += outcome == "escalated"
    return repeated, escalated


@transaction.atomic
def _follow_up_one(pk, now):
    n = (Notification.objects.select_for_update(skip_locked=True, of=("self",))
         .select_related("incident__plan_version", "incident__level", "incident__category", "person")
         .filter(pk=pk, acknowledged_at__isnull=True, escalated_at__isnull=True).first())
    if n is None:
        return None
    every, max_repeats = repeat_policy(n.level_key)
    if (n.last_told_at or n.visible_from) + every > now:
        return None
    answered = Notification.objects.filter(incident_id=n.incident_id, event=n.event, role_key=n.role_key,
                                           acknowledged_at__isnull=False).exists()
    if answered:
        # A colleague answered for the role: nobody else needs nagging.
        n.escalated_at = now
        n.save(update_fields=["escalated_at"])
        return None
    if n.repeats < max_repeats:
        n.repeats += 1
        n.last_told_at = now
        n.save(update_fields=["repeats", "last_told_at"])
        _add_personal_deliveries([n], suffix=f":repeat{n.repeats}")
        transaction.on_commit(kick_delivery)
        return "repeated"
    role = n.incident.plan_version.roles.select_related("reports_to").filter(key=n.role_key).first()
    superiors = [role.reports_to.key] if role and role.reports_to else []
    n.escalated_at = now
    n.save(update_fields=["escalated_at"])
    if superiors:
        unanswered = Notification.objects.filter(incident_id=n.incident_id, event=n.event, role_key=n.role_key,
                                                 acknowledged_at__isnull=True)
        with translation.override(settings.LANGUAGE_CODE):
            note = _("Nobody in %(role)s acknowledged: %(names)s.") % {
                "role": role.name, "names": "、".join(sorted(str(u.person) for u in unanswered if u.person))}
        notify_roles(n.incident, superiors, event=f"unanswered:{n.event}:{n.role_key}", ask=Ask.MISSED, note=note)
    return "escalated"


# --- reads ------------------------------------------------------------------------------------------


def unread_count(person):
    return Notification.objects.visible().filter(person=person, read_at__isnull=True).count()


def notifications_for(person):
    return (Notification.objects.visible().filter(person=person)
            .select_related("incident").order_by("-created_at", "-id"))


