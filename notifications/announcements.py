"""Announcements of the warning level to the business departments (plan 4.1.3, 4.2.3, 4.3.3).

``announce_level`` is what the engine calls when a level starts;
``announcement_create`` records one the office wrote by hand (who may, and
when, is the incidents layer's rule: ``incidents.services.announce``). Both
record the announcement and tell the roles the plan has hear announcements in one
transaction, so nobody who must be told is lost in between.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from plan.services import roles_with

from .delivery import kick_delivery_on_commit
from .models import Announcement, Ask
from .outbox import record_for_addresses
from .recipients import notify_roles

if TYPE_CHECKING:
    from incidents.models import Incident
    from people.models import Person

# Email addresses outside the staff that also hear every announcement (the external app's department parties'
# contacts), registered at start-up by the apps that keep them: this layer knows no directory.
_extra_audiences: list[Callable[["Announcement"], Sequence[str]]] = []


def also_tell(addresses_of: Callable[["Announcement"], Sequence[str]]) -> None:
    """Register ``addresses_of(announcement) -> [email, ...]``: those addresses get every announcement by email."""
    if addresses_of not in _extra_audiences:
        _extra_audiences.append(addresses_of)


# The Chinese text names the plan's colour in Chinese, never the level's key (橙色预警, not "orange").
COLOURS_ZH = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}


def _automatic_texts(incident: "Incident") -> tuple[str, str]:
    level, category = incident.level, incident.category
    colour_zh = COLOURS_ZH.get(level.key, level.key)
    drill_en, drill_zh = ("[DRILL] ", "【演练】") if incident.is_drill else ("", "")
    text_en = (f"{drill_en}The emergency office announces a {level.name_en} warning ({level.key}) for a "
               f"{category.name_en} fault: #{incident.pk} {incident.title}. Follow the office's instructions.")
    text_zh = (f"{drill_zh}应急办公室发布{level.name_zh}（{colour_zh}）：{category.name_zh}故障 "
               f"#{incident.pk} {incident.title}。请按应急办公室的要求处置。")
    return text_en, text_zh


def announce_level(incident: "Incident", *, at: datetime) -> Announcement | None:
    """Announce the incident's current level if the plan announces it (orange and red); at most once per level.

    Called inside the transaction that opened the incident or raised its level
    (incidents.levels.start_level_responses). Returns the announcement this
    call made, or None when the level is not announced or already was.
    """
    level_key = incident.level.key
    if not incident.level.announced:
        return None  # before any transaction: most incidents are blue or yellow, and this costs them nothing
    text_en, text_zh = _automatic_texts(incident)
    with transaction.atomic():
        announcement, created = Announcement.objects.get_or_create(
            incident=incident, level_key=level_key, created_by=None,
            defaults={"text_en": text_en, "text_zh": text_zh, "created_at": at},
        )
        if created:
            _tell(announcement)
    return announcement if created else None


@transaction.atomic
def announcement_create(*, incident: "Incident", author: "Person", text_en: str = "", text_zh: str = "") -> Announcement:
    """Record the office's own announcement and tell the audience; either language may be left empty."""
    text_en, text_zh = (text_en or "").strip(), (text_zh or "").strip()
    if not (text_en or text_zh):
        raise ValidationError({"text_zh": [_("write the announcement in Chinese, English or both")]})
    announcement = Announcement.objects.create(incident=incident, level_key=incident.level.key, text_en=text_en,
                                               text_zh=text_zh, created_at=timezone.now(), created_by=author)
    _tell(announcement)
    return announcement


def _tell(announcement: Announcement) -> None:
    # Both texts: each reader reads the one in their language (else the other; notifications/facts.py).
    note = {"text": {"zh-hans": announcement.text_zh, "en": announcement.text_en}}
    audience = sorted(roles_with("hear_announcements", announcement.incident.plan_version_id))
    notify_roles(announcement.incident, role_keys=audience, event=f"announcement:{announcement.pk}", ask=Ask.ANNOUNCE,
                 note=note)
    addresses = [address for addresses_of in _extra_audiences for address in addresses_of(announcement)]
    if addresses and record_for_addresses(announcement.incident, event=f"announcement:{announcement.pk}",
                                          addresses=addresses, ask=Ask.ANNOUNCE, note=note):
        kick_delivery_on_commit()
