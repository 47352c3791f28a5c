"""Answers: confirming a notification was read, and following up on those nobody answered.

Confirming a notification ("I have read this", ``confirm_read``) answers the
message only; taking the incident on ("I am taking this on") is
``incidents.services.acknowledge``, which also confirms the taker's
notifications about it (``confirm_read_about``).

``follow_up`` (the ``notifications.follow_up`` task) repeats an unanswered
notification at its level's interval and then tells the role's superior.
"""

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.errors import Refused

from .delivery import kick_delivery
from .facts import bilingual
from .messages import notification_from_token
from .models import ASKS_NEEDING_ANSWER, Ask, Delivery, DeliveryStatus, LevelPolicy, Notification
from .outbox import add_personal_deliveries
from .recipients import notify_roles

if TYPE_CHECKING:
    from people.models import Person

class NotYourNotification(Refused, PermissionError):
    """Someone tried to confirm another person's notification (a PermissionError for older callers)."""


@transaction.atomic
def confirm_read(notification: Notification, *, person: "Person") -> Notification:
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


def confirm_read_by_token(token: str) -> Notification:
    notification = notification_from_token(token)
    assert notification.person is not None  # notification_from_token refuses a link to nobody
    return confirm_read(notification, person=notification.person)


def confirm_read_about(incident_id: int, *, person: "Person") -> int:
    """The person took the incident on: each of their notifications about it is read and answered.

    Taking an incident on says more than "I have read this", so nobody keeps repeating
    those messages to the taker. Returns how many were confirmed.
    """
    unanswered = list(Notification.objects.visible().filter(
        person=person, incident_id=incident_id, acknowledged_at__isnull=True))
    for notification in unanswered:
        confirm_read(notification, person=person)
    return len(unanswered)


def _withdraw_held_back(notification: Notification, now: datetime) -> None:
    """Someone on duty answered: the rest of the role, still held back, need not be told."""
    held = Notification.objects.filter(
        incident_id=notification.incident_id,  # type: ignore[misc]  # a nullable key: the plugin types its lookup without None
        event=notification.event, role_key=notification.role_key,
        visible_from__gt=now, cancelled_at__isnull=True, acknowledged_at__isnull=True,
    )
    held_ids = list(held.values_list("pk", flat=True))
    if held_ids:
        Notification.objects.filter(pk__in=held_ids).update(cancelled_at=now)
        Delivery.objects.filter(notification_id__in=held_ids, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.CANCELLED, last_error="a colleague on duty answered first")


def mark_read(person: "Person", *, now: datetime | None = None, notification_id: int | None = None) -> int:
    """Mark the person's visible unread notifications read (only ``notification_id`` when given); return how many."""
    unread = Notification.objects.visible(now).filter(person=person, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return (unread
            .update(read_at=now or timezone.now()))


def unread_count(person: "Person") -> int:
    return Notification.objects.visible().filter(person=person, read_at__isnull=True).count()


def bell_state(person: "Person") -> dict[str, int | None]:
    """What the bell shows, and a fingerprint of it, in one query.

    The newest id sees a new notification, the count of visible ones a held-back one
    shown or one withdrawn, the newest read and answer times a read elsewhere (another
    tab, the API, a signed link). Visibility is counted as of now, so a notification
    that stops being held back changes it without any row changing.
    """
    return Notification.objects.visible().filter(person=person).aggregate(
        unread=Count("id", filter=Q(read_at__isnull=True)), shown=Count("id"), newest=Max("id"),
        last_read=Max("read_at"), last_answered=Max("acknowledged_at"))


def notifications_for(person: "Person") -> QuerySet[Notification]:
    return (Notification.objects.visible().filter(person=person)
            .select_related("incident").order_by("-created_at", "-id"))


# --- repeating and escalating ----------------------------------------------------------------------


def repeat_policy(notification: Notification, overrides: Mapping[str, tuple[timedelta, int]]) -> tuple[timedelta, int]:
    """How often to repeat it and how many times: an admin LevelPolicy for its level, else what its level said."""
    return overrides.get(notification.level_key) or (notification.repeat_every, notification.repeat_times)


def level_overrides() -> dict[str, tuple[timedelta, int]]:
    return {p.level_key: (p.repeat_every, p.max_repeats) for p in LevelPolicy.objects.all()}


def follow_up(*, now: datetime | None = None) -> tuple[int, int]:
    """Repeat unanswered notifications at their level's interval; past the maximum, tell the superior role.

    Returns (repeated, escalated) counts. Safe to run concurrently: each
    notification is locked (SKIP LOCKED) and re-checked before acting.
    """
    now = now or timezone.now()
    repeated = escalated = 0
    # Only while the incident is open: resolving it is what sets resolved_at (and nothing reopens one).
    candidates = (
        Notification.objects.visible(now)
        .filter(ask__in=ASKS_NEEDING_ANSWER, acknowledged_at__isnull=True, escalated_at__isnull=True,
                person__isnull=False, incident__resolved_at__isnull=True)
        .only("pk", "level_key", "repeat_every", "repeat_times", "last_told_at", "visible_from")
    )
    overrides = level_overrides()
    for candidate in candidates:
        every, _max = repeat_policy(candidate, overrides)
        if (candidate.last_told_at or candidate.visible_from) + every > now:
            continue
        outcome = _follow_up_one(candidate.pk, now, overrides)
        repeated += outcome == "repeated"
        escalated += outcome == "escalated"
    return repeated, escalated


@transaction.atomic
def _follow_up_one(pk: int, now: datetime, overrides: Mapping[str, tuple[timedelta, int]]) -> str | None:
    n = (Notification.objects.select_for_update(skip_locked=True, of=("self",))
         .select_related("incident__plan_version", "incident__level", "incident__category", "person")
         .filter(pk=pk, acknowledged_at__isnull=True, escalated_at__isnull=True).first())
    if n is None:
        return None
    every, max_repeats = repeat_policy(n, overrides)
    if (n.last_told_at or n.visible_from) + every > now:
        return None
    answered = Notification.objects.filter(incident_id=n.incident_id,  # type: ignore[misc]  # a nullable key: the plugin types its lookup without None
                                           event=n.event, role_key=n.role_key,
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
        add_personal_deliveries([n], suffix=f":repeat{n.repeats}")
        transaction.on_commit(kick_delivery)
        return "repeated"
    incident = n.incident
    assert incident is not None  # every notification recorded (outbox.record_many) is about an incident
    role = incident.plan_version.roles.select_related("reports_to").filter(key=n.role_key).first()
    superiors = [role.reports_to.key] if role and role.reports_to else []
    n.escalated_at = now
    n.save(update_fields=["escalated_at"])
    if role is not None and superiors:
        unanswered = Notification.objects.filter(incident_id=n.incident_id,  # type: ignore[misc]  # a nullable key: the plugin types its lookup without None
                                                 event=n.event, role_key=n.role_key,
                                                 acknowledged_at__isnull=True)
        # Facts, not a sentence: each superior reads it in their own language (notifications/facts.py).
        note = {"msgid": gettext_noop("Nobody in %(role)s acknowledged: %(names)s."),
                "params": {"role": bilingual(role), "names": {"list": sorted(str(u.person) for u in unanswered
                                                                              if u.person)}}}
        notify_roles(incident, role_keys=superiors, event=unanswered_event(n.event, n.role_key), ask=Ask.MISSED,
                     note=note)
    return "escalated"


def unanswered_event(event: str, role_key: str) -> str:
    """The event that tells the superiors nobody in ``role_key`` answered ``event``.

    Each rung up the reporting chain nests the one below, so a long chain outgrows the column: past it, a
    digest of the same text, as unique and as repeatable (the outbox's dedup keys are made from it). Without
    this one long chain made every follow-up pass fail (found by tests/test_multinode_beats.py).
    """
    text = f"unanswered:{event}:{role_key}"
    limit = Notification._meta.get_field("event").max_length or len(text)
    if len(text) <= limit:
        return text
    return f"unanswered:{hashlib.sha256(text.encode()).hexdigest()}"
