"""Recording: the ``Notification`` rows and their ``Delivery`` outbox rows, written in the caller's transaction.

Nothing here sends anything or asks a worker to; ``recipients`` decides who is
told and ``delivery`` sends what this recorded.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from .facts import Note, notification_facts, render
from .models import ChannelConfig, ChannelKind, Delivery, Notification, Preference

if TYPE_CHECKING:
    from incidents.models import Incident
    from people.models import Person

    from .recipients import _Wanted

DEFAULT_CHANNELS = [ChannelKind.EMAIL, ChannelKind.SMS]


def record_many(batches: Sequence[tuple["Incident", str, Sequence["_Wanted"]]], *, note: Note,
                channels: Sequence[ChannelConfig], notes: Sequence[Note] | None = None) -> list[list[Notification]]:
    """Write the notifications (and their personal deliveries) not yet recorded.

    ``batches``: (incident, event, wanted) each; returns the notifications created, a list per batch.
    ``notes``, when given, is each batch's own note in place of ``note`` (a sweep's missed deadlines
    each name their own duty).
    """
    keyed = [{_dedup_key(incident, event, w.person, w.role_key): w for w in wanted}
             for incident, event, wanted in batches]
    existing = set(Notification.objects.filter(dedup_key__in=[key for keys in keyed for key in keys])
                   .values_list("dedup_key", flat=True))
    per_batch: list[list[Notification]] = []
    notes = [note] * len(batches) if notes is None else notes
    for (incident, event, _wanted), keys, note in zip(batches, keyed, notes, strict=True):
        facts_of: dict[tuple[str, datetime | None], dict[str, Any]] = {}
        messages: dict[tuple[str, str, datetime | None], tuple[str, str]] = {}
        rows: list[Notification] = []
        for key, w in keys.items():
            if key in existing:
                continue
            if (w.ask, w.due_at) not in facts_of:
                facts_of[w.ask, w.due_at] = notification_facts(incident, ask=w.ask, due_at=w.due_at, note=note)
            facts = facts_of[w.ask, w.due_at]
            language = (w.person.language if w.person and w.person.language else settings.LANGUAGE_CODE)
            if (language, w.ask, w.due_at) not in messages:
                with translation.override(language):
                    messages[language, w.ask, w.due_at] = render(facts)
            title, body = messages[language, w.ask, w.due_at]
            rows.append(Notification(
                incident=incident, person=w.person, role_key=w.role_key, event=event, ask=w.ask, due_at=w.due_at,
                level_key=incident.level.key, urgent=incident.level.urgent, repeat_every=incident.level.repeat_every,
                repeat_times=incident.level.repeat_times, is_drill=incident.is_drill, title=title[:300], body=body,
                facts=facts, visible_from=w.visible_from, last_told_at=w.visible_from, dedup_key=key,
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
    add_personal_deliveries(rows, channels=channels)
    return per_batch


# The role key of a notification sent to an address outside the staff (a department party's contact, say):
# nobody "holds" it, and it is not a gap in the roster.
ADDRESS_ROLE = "@contact"


def record_for_addresses(incident: "Incident", *, event: str, addresses: Sequence[str], ask: str,
                         note: Note) -> list[Notification]:
    """One notification and one email delivery per outside address, once per event; in the caller's transaction."""
    facts = notification_facts(incident, ask=ask, due_at=None, note=note)
    with translation.override(settings.LANGUAGE_CODE):
        title, body = render(facts)
    keys = {f"incident:{incident.pk}:{event}:address:{address.lower()}": address for address in addresses if address}
    existing = set(Notification.objects.filter(dedup_key__in=keys).values_list("dedup_key", flat=True))
    rows = [Notification(
        incident=incident, person=None, role_key=ADDRESS_ROLE, event=event, ask=ask, level_key=incident.level.key,
        urgent=incident.level.urgent, repeat_every=incident.level.repeat_every, repeat_times=0,
        is_drill=incident.is_drill, title=title[:300], body=body, facts=facts, dedup_key=key,
    ) for key in keys if key not in existing]
    if not rows:
        return []
    Notification.objects.bulk_create(rows)
    Delivery.objects.bulk_create([Delivery(notification=n, kind=ChannelKind.EMAIL, address=keys[n.dedup_key],
                                           idempotency_key=f"{n.dedup_key}:email") for n in rows],
                                 ignore_conflicts=True)
    return rows


def _dedup_key(incident: "Incident", event: str, person: "Person | None", role_key: str) -> str:
    who = person.pk if person else f"role:{role_key}"
    return f"incident:{incident.pk}:{event}:{who}"


def active_channels() -> list[ChannelConfig]:
    return list(ChannelConfig.objects.filter(is_active=True))


def add_personal_deliveries(notifications: Sequence[Notification], *, suffix: str = "",
                            channels: Sequence[ChannelConfig] | None = None) -> list[Delivery]:
    """Outbox rows for each person's own channels (email, SMS), in the same transaction as the notifications."""
    people = [n.person for n in notifications if n.person is not None]
    if not people:
        return []
    preferences = {p.person_id: p for p in Preference.objects.filter(person__in=people)}
    channels = active_channels() if channels is None else channels
    sms_gateway = next((c for c in channels if c.kind == ChannelKind.SMS), None)
    rows: list[Delivery] = []
    for n in notifications:
        if n.person is None:
            continue
        preference = preferences.get(n.person.pk)
        usable = usable_channels(n.person, preference=preference, sms_gateway=sms_gateway)
        # Urgent levels go out on every channel at once; otherwise the first usable one, the next only if it fails.
        chosen = usable if n.urgent else usable[:1]
        start = _after_quiet_hours(preference, n.visible_from, urgent=n.urgent)
        for kind, address in chosen:
            rows.append(Delivery(
                notification=n, kind=kind, address=address, next_attempt_at=start,
                channel=sms_gateway if kind == ChannelKind.SMS else None,
                idempotency_key=f"{n.dedup_key}:{kind}{suffix}",
            ))
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return rows


def usable_channels(person: "Person", *, preference: Preference | None,
                    sms_gateway: ChannelConfig | None) -> list[tuple[str, str]]:
    """The person's channels in their order of preference, leaving out those they have no address for."""
    order = (preference.channels if preference and preference.channels else DEFAULT_CHANNELS)
    usable: list[tuple[str, str]] = []
    for kind in order:
        if kind == ChannelKind.EMAIL and person.email:
            usable.append((ChannelKind.EMAIL, person.email))
        elif kind == ChannelKind.SMS and person.phone and sms_gateway is not None:
            usable.append((ChannelKind.SMS, person.phone))
    return usable


def in_quiet_hours(preference: Preference | None, *, at: datetime) -> bool:
    if preference is None or preference.quiet_start is None or preference.quiet_end is None:
        return False
    local = timezone.localtime(at).time()
    start, end = preference.quiet_start, preference.quiet_end
    return start <= local < end if start < end else (local >= start or local < end)


def _after_quiet_hours(preference: Preference | None, at: datetime, *, urgent: bool) -> datetime:
    """When a non-urgent message may go out: ``at``, or the end of the person's quiet hours."""
    if urgent or not in_quiet_hours(preference, at=at):
        return at
    assert preference is not None and preference.quiet_end is not None  # in quiet hours, so both are set
    local = timezone.localtime(at)
    end = local.replace(hour=preference.quiet_end.hour, minute=preference.quiet_end.minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end


def add_robot_deliveries(notifications: Iterable[Notification], *, robots: Sequence[ChannelConfig]) -> None:
    """One robot message per role told (the first notification of each role carries it)."""
    rows = [
        Delivery(notification=n, kind=config.kind, channel=config, next_attempt_at=n.visible_from,
                 idempotency_key=f"robot:{config.pk}:{n.dedup_key.rsplit(':', 1)[0]}:{n.role_key}")
        for n in notifications for config in robots if config.role_key in ("", n.role_key)
    ]
    if rows:
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
