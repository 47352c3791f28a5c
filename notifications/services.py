"""Telling people. The escalation engine calls ``notify_roles``; nothing else is needed from it."""

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from people.models import Person

from .models import Ask, Notification


def people_in_role(role_key):
    return Person.objects.filter(is_active=True, role_assignments__role_key=role_key).order_by("id")


def notify_roles(incident, role_keys, *, event, ask=Ask.FYI, due_at=None, note=""):
    """Record one notification per person holding each role; return who was told.

    ``event`` identifies the cause (``opened``, ``level:orange``, ``deadline:42``):
    with the person it forms the deduplication key, so calling this twice for
    the same event tells nobody twice. A person in two of the roles is told once.
    """
    told, nobody = [], []
    seen = set()
    for role_key in dict.fromkeys(role_keys):
        people = list(people_in_role(role_key))
        if not people:
            nobody.append(role_key)
            _record(incident, None, role_key, event=event, ask=ask, due_at=due_at, note=note)
            continue
        for person in people:
            if person.pk in seen:
                continue
            seen.add(person.pk)
            if _record(incident, person, role_key, event=event, ask=ask, due_at=due_at, note=note):
                told.append(person)
    return told, nobody


def _record(incident, person, role_key, *, event, ask, due_at, note):
    who = person.pk if person else f"role:{role_key}"
    language = (person.language if person and person.language else "zh-hans")
    with translation.override(language):
        title, body = _message(incident, ask, due_at, note)
    _obj, created = Notification.objects.get_or_create(
        dedup_key=f"incident:{incident.pk}:{event}:{who}",
        defaults={
            "incident": incident, "person": person, "role_key": role_key, "event": event, "ask": ask,
            "due_at": due_at, "level_key": incident.level.key, "is_drill": incident.is_drill,
            "title": title, "body": body,
        },
    )
    return created


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
    body = " ".join(part for part in (request, note) if part)
    return title, body


@transaction.atomic
def acknowledge(notification, person):
    if notification.person_id != person.pk:
        raise PermissionError("not your notification")
    if notification.acknowledged_at is None:
        notification.acknowledged_at = timezone.now()
        notification.read_at = notification.read_at or notification.acknowledged_at
        notification.save(update_fields=["acknowledged_at", "read_at"])
    return notification
