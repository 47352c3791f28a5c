"""Announcements of the warning level to the business departments (plan 4.1.3, 4.2.3, 4.3.3).

``announce_level`` is what the engine calls when a level starts;
``announcement_create`` records one the office wrote by hand (who may, and
when, is the incidents layer's rule: ``incidents.services.announce``). Both
record the announcement and tell the roles the plan has hear announcements in one
transaction, so nobody who must be told is lost in between.
"""

from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from plan.services import roles_with

from .models import Announcement, Ask
from .recipients import notify_roles

if TYPE_CHECKING:
    from incidents.models import Incident
    from people.models import Person

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
