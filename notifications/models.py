"""Who must be told, and whether they were.

One ``Notification`` per person per event: it is the in-app message and the
outbox row that channel deliveries hang from. Written in the same transaction
as the event that caused it, so nobody who must be told is lost in between.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Ask(models.TextChoices):
    FYI = "fyi", _("For your information")
    ACKNOWLEDGE = "acknowledge", _("Acknowledge and respond")
    ON_SITE = "on_site", _("Be on site")
    APPROVE = "approve", _("Decide on the response plan")
    REPORT = "report", _("Report received")
    MISSED = "missed", _("A deadline was missed")
    ANNOUNCE = "announce", _("Announcement")


class Notification(models.Model):
    incident = models.ForeignKey("incidents.Incident", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="notifications")
    # Null when nobody held the role at the time: recorded so the gap shows.
    person = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="notifications")
    role_key = models.SlugField(max_length=64)
    event = models.CharField(max_length=100)
    ask = models.CharField(max_length=12, choices=Ask.choices, default=Ask.FYI)
    due_at = models.DateTimeField(null=True, blank=True)
    level_key = models.SlugField(max_length=32, blank=True)
    is_drill = models.BooleanField(default=False)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    # One notification per person per event: a retried event never tells anyone twice.
    dedup_key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["person", "acknowledged_at"], name="notification_person_unacked")]

    def __str__(self):
        return self.title
