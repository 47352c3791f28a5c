"""Who is told: plan roles resolved to people now (the duty roster first), recorded once per event and person.

The escalation engine calls ``notify_roles``; nothing else is needed from it.
The notifications and their outbox rows are written in the caller's
transaction, and a worker is asked to deliver once that commits.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone, translation

from people.models import Person, RoleAssignment

from .delivery import kick_delivery_on_commit
from .facts import Note, render, subject_facts
from .models import ROBOT_KINDS, Ask, DutyShift, Notification, RolePolicy
from .outbox import active_channels, add_personal_deliveries, add_robot_deliveries, record_many

if TYPE_CHECKING:
    from incidents.models import Incident

# What one role is asked: (role key, ask, due time or None).
Request = tuple[str, str, datetime | None]
# Who was told, and the roles nobody holds.
Told = tuple[list[Person], list[str]]


def shifts_on_duty(*, at: datetime | None = None) -> QuerySet[DutyShift]:
    """The shifts running at ``at`` (now), by role: the roster page, and whom ``notify_roles`` tells first."""
    at = at or timezone.now()
    return (DutyShift.objects.filter(starts_at__lte=at, ends_at__gt=at, person__is_active=True)
            .select_related("person").order_by("role_key", "starts_at"))


def on_duty(role_key: str, *, at: datetime | None = None) -> list[Person]:
    """The people on duty for ``role_key`` at ``at`` (now), in shift order."""
    return _on_duty_by_role([role_key], at=at or timezone.now()).get(role_key, [])


def notify_roles(incident: "Incident", *, role_keys: Iterable[str], event: str, ask: str = Ask.FYI,
                 due_at: datetime | None = None, note: Note = "") -> Told:
    """Record one notification per person holding each role; return (who was told, roles with nobody).

    ``event`` identifies the cause (``opened``, ``level:orange``, ``deadline:42``):
    with the person it forms the deduplication key, so calling this twice for
    the same event tells nobody twice. A person in two of the roles is told once.
    When a role has people on duty now, they are told first and the rest of the
    role only if none of them acknowledges within the role's wait.
    """
    return notify_requests(incident, requests=[(role_key, ask, due_at) for role_key in role_keys], event=event,
                           note=note)


def notify_requests(incident: "Incident", *, requests: Sequence[Request], event: str, note: Note = "") -> Told:
    """``notify_roles`` for several ``(role_key, ask, due_at)`` at once, each role asked its own thing.

    A level start tells a handful of roles; this reads who holds them, who is on
    duty, the channels and what was already recorded once for all of them, so
    the cost does not grow with the number of roles. A person in two of the
    roles is told once, by the first request naming one of them.
    """
    return notify_many([(incident, requests, event)], note=note)[0]


def notify_many(items: Iterable[tuple["Incident", Sequence[Request], str]], *, note: Note = "",
                notes: Sequence[Note] | None = None) -> list[Told]:
    """``notify_requests`` for several ``(incident, requests, event)`` at once; a (told, nobody) per item.

    Opening many incidents together (an alert storm) reads roles, duty roster,
    channels and what was already recorded once for all of them, and writes
    every notification and delivery in one statement each. ``notes``, when
    given, is each item's own note in place of ``note`` (a sweep's batch of
    missed deadlines, each naming its duty).
    """
    now = timezone.now()
    unique = [(incident, list({role_key: (role_key, ask, due_at)
                              for role_key, ask, due_at in reversed(requests)}.values())[::-1], event)
             for incident, requests, event in items]
    if notes is not None and len(notes) != len(unique):
        raise ValueError(f"{len(notes)} notes for {len(unique)} items")
    role_keys = list(dict.fromkeys(role_key for _incident, requests, _event in unique for role_key, _a, _d in requests))
    channels = active_channels()
    duty_by_role = _on_duty_by_role(role_keys, at=now)
    members_by_role = _people_by_role(role_keys)
    waits = _duty_ack_waits([key for key in role_keys if duty_by_role.get(key)])
    batches: list[tuple["Incident", str, list[_Wanted]]] = []
    nobodies: list[list[str]] = []
    for incident, requests, event in unique:
        wanted: list[_Wanted] = []
        nobody: list[str] = []
        seen: set[int] = set()
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
    created_per_item = record_many(batches, note=note, channels=channels, notes=notes)
    first_of_role: dict[tuple[int | None, str, str], Notification] = {}
    for created in created_per_item:
        for notification in created:
            key = (notification.incident_id, notification.event, notification.role_key)
            first_of_role.setdefault(key, notification)
    add_robot_deliveries(first_of_role.values(), robots=[c for c in channels if c.kind in ROBOT_KINDS])
    if any(created_per_item) or any(nobodies):
        kick_delivery_on_commit()
    return [([n.person for n in created if n.person is not None], nobody)
            for created, nobody in zip(created_per_item, nobodies, strict=True)]


def notify_person_and_roles(incident: "Incident", *, person: Person | None, role_keys: Iterable[str], event: str,
                            ask: str = Ask.FYI, note: Note = "") -> Told:
    """Tell one person in their own right (a plan's proposer, say) and the holders of ``role_keys``, once each.

    The person is told at once, whatever the duty roster says: the message is
    about what they did. Their notification names no role (``role_key`` is
    empty), so no group-chat robot repeats it; the roles' robots post as for
    ``notify_roles``. The deduplication key is the one ``notify_roles`` uses
    (event and person): a person who also holds one of the roles is told once,
    and calling this again for the same event tells nobody twice. ``note`` may
    be a function, called in each reader's language.
    """
    told: list[Person] = []
    if person is not None and person.is_active:
        wanted = [_Wanted(PERSONAL, ask, None, person, timezone.now())]
        [created] = record_many([(incident, event, wanted)], note=note, channels=active_channels())
        told += [n.person for n in created if n.person is not None]
        if created:
            kick_delivery_on_commit()
    by_roles, nobody = notify_many([(incident, [(key, ask, None) for key in role_keys], event)], note=note)[0]
    return told + [p for p in by_roles if p not in told], nobody


def notify_roles_about(subject: str, *, role_keys: Iterable[str], event: str, title: Mapping[str, str], link: str,
                       ask: str = Ask.FYI, note: Note = "", person: Person | None = None) -> Told:
    """Tell the holders of ``role_keys`` about something that is not an incident (a missed inspection round).

    As ``notify_roles``: one notification per person (the duty roster's people of a role first), recorded
    in the caller's transaction with their own channels' deliveries, deduplicated by ``subject``, ``event``
    and person; a role nobody holds is recorded too. ``title`` is ``{language: text}``; ``link`` a path
    here. Group-chat robots and repeats are for incidents only. ``person`` (an overdue action's owner) is
    told first in their own right, as ``notify_person_and_roles`` does, and once even if they hold a role.
    """
    now = timezone.now()
    role_keys = list(dict.fromkeys(role_keys))
    duty_by_role = _on_duty_by_role(role_keys, at=now)
    members_by_role = _people_by_role(role_keys)
    facts = subject_facts(subject=subject, title=title, ask=ask, note=note, link=link)
    rows: list[Notification] = []
    nobody: list[str] = []
    seen: set[int] = set()
    wanted: list[tuple[str, list[Person | None]]] = []
    if person is not None and person.is_active:
        wanted.append((PERSONAL, [person]))
    for role_key in role_keys:
        duty_ids = {p.pk for p in duty_by_role.get(role_key, [])}
        people: list[Person | None] = [*duty_by_role.get(role_key, []),
                                       *(p for p in members_by_role.get(role_key, []) if p.pk not in duty_ids)]
        if not people:
            nobody.append(role_key)
            people = [None]
        wanted.append((role_key, people))
    for role_key, people in wanted:
        for reader in people:
            if reader is not None and reader.pk in seen:
                continue
            if reader is not None:
                seen.add(reader.pk)
            language = reader.language if reader and reader.language else settings.LANGUAGE_CODE
            with translation.override(language):
                text_title, body = render(facts)
            who = reader.pk if reader else f"role:{role_key}"
            rows.append(Notification(person=reader, role_key=role_key, event=event, ask=ask, title=text_title[:300],
                                     body=body, facts=facts, visible_from=now, last_told_at=now,
                                     dedup_key=f"{subject}:{event}:{who}"[:200]))
    existing = set(Notification.objects.filter(dedup_key__in=[n.dedup_key for n in rows])
                   .values_list("dedup_key", flat=True))
    rows = [n for n in rows if n.dedup_key not in existing]
    Notification.objects.bulk_create(rows)
    add_personal_deliveries(rows, channels=active_channels())
    if rows:
        kick_delivery_on_commit()
    return [n.person for n in rows if n.person is not None], nobody


# The role key of a notification that tells a person in their own right, not as a holder of a role.
PERSONAL = ""


class _Wanted(NamedTuple):
    role_key: str
    ask: str
    due_at: datetime | None
    person: Person | None
    visible_from: datetime


def _on_duty_by_role(role_keys: Iterable[str], *, at: datetime) -> dict[str, list[Person]]:
    by_role: dict[str, dict[Person, None]] = {}
    for shift in shifts_on_duty(at=at).filter(role_key__in=role_keys):
        by_role.setdefault(shift.role_key, {})[shift.person] = None  # Person hashes by pk: one entry each
    return {key: list(people) for key, people in by_role.items()}


def _people_by_role(role_keys: Iterable[str]) -> dict[str, list[Person]]:
    by_role: dict[str, list[Person]] = {}
    assignments = (RoleAssignment.objects.filter(role_key__in=role_keys, person__is_active=True)
                   .select_related("person").order_by("person_id"))
    for assignment in assignments:
        by_role.setdefault(assignment.role_key, []).append(assignment.person)
    return by_role


def _duty_ack_waits(role_keys: Sequence[str]) -> dict[str, timedelta]:
    default = timedelta(seconds=settings.NOTIFICATIONS_DUTY_ACK_WAIT_SECONDS)
    waits = dict.fromkeys(role_keys, default)
    if role_keys:
        waits.update(RolePolicy.objects.filter(role_key__in=role_keys).values_list("role_key", "ack_wait"))
    return waits
