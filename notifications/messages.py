"""What is said: the message a channel sends, the signed acknowledgement link.

A notification's title and body come from its facts (``facts.render``): a
person's own channels send the copy written in their language when it was
created; a robot renders the facts in the channel's language.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.errors import Refused

from .channels import Message
from .facts import join_list
from .models import ROBOT_KINDS, Delivery, Notification
from .outbox import ADDRESS_ROLE

if TYPE_CHECKING:
    from incidents.models import Incident
    from plan.models import Level

ACK_SALT = "notifications.ack"


def incident_link(incident_id: int) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/incidents/{incident_id}/"


def ack_token(notification: Notification) -> str:
    return signing.TimestampSigner(salt=ACK_SALT).sign(str(notification.pk))


def ack_url(notification: Notification) -> str:
    path = reverse("notifications:ack_link", kwargs={"token": ack_token(notification)})
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def notification_from_token(token: str) -> Notification:
    """The notification a signed link names; ``Refused`` when the link is forged (400) or expired (410)."""
    try:
        pk = signing.TimestampSigner(salt=ACK_SALT).unsign(token, max_age=settings.NOTIFICATIONS_ACK_LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise Refused(_("This acknowledgement link has expired. Open Fenghuo and acknowledge there."),
                      code="expired", status_code=410) from None
    except signing.BadSignature:
        raise Refused(_("This acknowledgement link is not valid."), code="bad_link", status_code=400) from None
    notification = Notification.objects.select_related("person", "incident").filter(pk=pk).first()
    if notification is None or notification.person is None:
        raise Refused(_("This acknowledgement link is not valid."), code="bad_link", status_code=400)
    return notification


def _level(incident: "Incident", level_key: str) -> "Level":
    if incident.level.key == level_key:
        return incident.level
    return incident.plan_version.levels.filter(key=level_key).first() or incident.level


def _role_name(incident: "Incident", role_key: str) -> str:
    """The plan's name of a role in the active language (the key only if the plan no longer has it)."""
    role = incident.plan_version.roles.filter(key=role_key).first()
    return role.name if role else role_key


def message_for(notification: Notification, *, language: str | None = None, with_ack: bool = True) -> Message:
    """The message for one notification, in ``language`` (else its person's, else the site's).

    Without ``language`` (a person's own channel) it is the stored copy, written in their language; with one
    (a robot's), the facts said in that language.
    """
    person = notification.person
    rendered_here = language is not None and bool(notification.facts)
    language = language or (person.language if person and person.language else settings.LANGUAGE_CODE)
    incident = notification.incident
    if incident is None:
        return _subject_message(notification, language=language, rendered_here=rendered_here, with_ack=with_ack)
    with translation.override(language):
        level = _level(incident, notification.level_key)
        title, text = notification.in_reader_language() if rendered_here else (notification.title, notification.body)
        if notification.person is None and notification.role_key != ADDRESS_ROLE:
            text = _drill_marked(" ".join([
                _("Nobody holds this role: %(role)s.") % {"role": _role_name(incident, notification.role_key)},
                text.removeprefix(_("[DRILL] "))]), is_drill=notification.is_drill)
        return Message(
            title=title, text=text, link=incident_link(incident.pk),
            ack_url=ack_url(notification) if with_ack and person is not None and notification.needs_answer else "",
            level_key=level.key, level_name=level.name, color=level.color, urgent=notification.urgent,
            is_drill=notification.is_drill,
            link_label=_("Open the incident"), ack_label=_("I have read this"), incident_id=incident.pk,
            event=notification.event,
        )


def _subject_message(notification: Notification, *, language: str, rendered_here: bool, with_ack: bool) -> Message:
    """A notification about no incident (``recipients.notify_roles_about``): it links to its own page."""
    with translation.override(language):
        title, text = notification.in_reader_language() if rendered_here else (notification.title, notification.body)
        return Message(
            title=title, text=text, link=f"{settings.SITE_URL.rstrip('/')}{notification.facts.get('link', '/')}",
            ack_url=ack_url(notification) if with_ack and notification.person and notification.needs_answer else "",
            link_label=_("Open in Fenghuo"), ack_label=_("I have read this"), event=notification.event,
        )


def _drill_marked(text: str, *, is_drill: bool) -> str:
    """A drill's message body starts with its mark in the active language, however it was put together."""
    mark = _("[DRILL] ")
    return text if not is_drill or text.startswith(mark.strip()) else f"{mark}{text}"


@dataclass
class RobotReading:
    """What the robot messages of a batch of deliveries read, read once for the batch (two queries)."""

    merged: dict[int, list[Delivery]]  # delivery id → the deliveries coalesced into it, in id order
    told: dict[tuple[int | None, str, str], list[Notification]]  # (incident, event, role) → the people's notifications


def robot_reading(deliveries: Sequence[Delivery]) -> RobotReading:
    robots = [d for d in deliveries if d.kind in ROBOT_KINDS]
    merged: dict[int, list[Delivery]] = {}
    told: dict[tuple[int | None, str, str], list[Notification]] = {}
    if not robots:
        return RobotReading(merged, told)
    for row in (Delivery.objects.filter(coalesced_into_id__in=[d.pk for d in robots])
                .select_related("notification").order_by("id")):
        assert row.coalesced_into_id is not None
        merged.setdefault(row.coalesced_into_id, []).append(row)
    keys = {(n.incident_id, n.event, n.role_key)
            for n in [d.notification for d in robots] + [r.notification for rows in merged.values() for r in rows]}
    # One query for every (incident, event, role) of the batch; the rows of other combinations are dropped here.
    for n in (Notification.objects.filter(incident_id__in={k[0] for k in keys}, event__in={k[1] for k in keys},
                                          role_key__in={k[2] for k in keys}, person__isnull=False)
              .select_related("person")):
        key = (n.incident_id, n.event, n.role_key)
        if key in keys:
            told.setdefault(key, []).append(n)
    return RobotReading(merged, told)


def robot_message(delivery: Delivery, *, reading: RobotReading | None = None) -> Message:
    """A group-chat message: who in the role was told, or several of an incident's updates merged into one.

    ``reading``: what ``robot_reading`` read for this delivery's batch (else it is read for this one alone).
    """
    config = delivery.channel
    assert config is not None  # a robot delivery is always for its channel (outbox.add_robot_deliveries)
    reading = reading or robot_reading([delivery])
    merged = [delivery, *reading.merged.get(delivery.pk, [])]
    notifications = [d.notification for d in merged]
    with translation.override(config.language):
        first = message_for(notifications[0], language=config.language, with_ack=False)
        lines: list[str] = []
        mentions: list[str] = []
        for n in notifications:
            told = reading.told.get((n.incident_id, n.event, n.role_key), [])
            names = join_list(sorted(str(t.person) for t in told))
            mentions += [t.person.phone for t in told
                         if t.person is not None and t.person.phone and t.visible_from <= timezone.now()]
            if names:
                who = _("Told: %(names)s") % {"names": names}
            else:
                assert n.incident is not None  # every notification recorded (outbox.record_many) is about an incident
                who = _("Nobody holds role %(role)s!") % {"role": _role_name(n.incident, n.role_key)}
            title, body = n.in_reader_language()
            if len(notifications) > 1:
                lines.append(f"- {title}: {body} ({who})")
            else:
                lines.append(f"{body}\n\n{who}")
        if len(notifications) > 1:
            drill = _("[DRILL] ") if first.is_drill else ""
            first.title = _("%(drill)s#%(id)s: %(count)s updates") % {
                "drill": drill, "id": first.incident_id, "count": len(notifications)}
        first.text = _drill_marked("\n".join(lines), is_drill=first.is_drill)
        first.mentions = sorted(set(mentions))
        first.idempotency_key = delivery.idempotency_key
        return first
