"""Announcements: the office tells the business departments the warning level (plan 4.1.3, 4.2.3)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from plan.text import BilingualMixin


class Announcement(BilingualMixin, models.Model):
    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT, related_name="announcements",
                                 verbose_name=_("incident"))
    level_key = models.SlugField(_("level"), max_length=32)
    text_en = models.TextField(_("text (English)"), blank=True)
    text_zh = models.TextField(_("text (Chinese)"), blank=True)
    created_at = models.DateTimeField(_("announced at"), default=timezone.now, db_index=True)
    # Null: Fenghuo announced it itself when the level started.
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("announced by"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        constraints = [
            # A level is announced automatically once per incident, however often the caller retries.
            models.UniqueConstraint(fields=["incident", "level_key"], condition=Q(created_by__isnull=True),
                                    name="one_automatic_announcement_per_level"),
            models.CheckConstraint(condition=~Q(text_en="") | ~Q(text_zh=""), name="announcement_has_text"),
        ]

    def __str__(self):
        return f"{self.level_key} announcement for incident #{self.incident_id}"

    @property
    def text(self):
        return self.localized("text")
