"""Drills scored against the plan, training sessions and who attended them (plan 1.2.2, 5).

A drill is its scenario (category, level, scripted injections, participants)
and its run: starting it opens a drill incident through the incident services,
so the plan's cell applies in full; ending it closes that incident and freezes
the scorecard. Training sessions record who attended; readiness is read from
both (``drills.selectors``).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DrillStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    RUNNING = "running", _("Running")
    ENDED = "ended", _("Ended")


class Drill(models.Model):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    # Plan keys, as the incident will be logged with: read against the plan active when the drill starts.
    category_key = models.SlugField(_("category"), max_length=32)
    level_key = models.SlugField(_("starting level"), max_length=32)
    starts_at = models.DateTimeField(_("starts at"))
    # Plan seconds per real second (1: real time; 60: an hour of the plan in a minute).
    clock = models.FloatField(_("clock"), default=1.0)
    # Scripted injections, in plan time from the start: [{"after": seconds, "action": "escalate", "level": "orange"},
    # {"after": seconds, "action": "recover"}] (drills/injections.py checks them).
    injections = models.JSONField(_("injections"), default=list, blank=True)
    participant_roles = models.JSONField(_("participant roles"), default=list, blank=True)
    participants = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+",
                                          verbose_name=_("named participants"))
    status = models.CharField(_("status"), max_length=12, choices=DrillStatus.choices, default=DrillStatus.SCHEDULED)
    incident = models.OneToOneField("incidents.Incident", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="drill_run")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    # What the office saw, typed during or after the drill; part of the scorecard.
    observations = models.TextField(_("observations"), blank=True)
    # Frozen when the drill ends (drills/scorecard.py), so a later plan or people change never rewrites it.
    scorecard = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("drill")
        verbose_name_plural = _("drills")
        constraints = [
            models.CheckConstraint(condition=Q(clock__gt=0), name="drill_clock_positive"),
            models.CheckConstraint(condition=Q(status="scheduled") | Q(started_at__isnull=False, incident__isnull=False),
                                   name="drill_started_has_incident"),
            models.CheckConstraint(condition=~Q(status="ended") | Q(ended_at__isnull=False), name="drill_ended_has_time"),
        ]

    def __str__(self):
        return f"drill #{self.pk} {self.title}"


class Participation(models.Model):
    """A person took part in a drill: named, holding a participant role when it started, or told by it."""

    drill = models.ForeignKey(Drill, on_delete=models.CASCADE, related_name="participations")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="drill_participations")
    # The role they took part in, empty when named in person.
    role_key = models.SlugField(max_length=64, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["drill", "person"]
        constraints = [models.UniqueConstraint(fields=["drill", "person"], name="one_participation_per_drill")]

    def __str__(self):
        return f"{self.person} in drill #{self.drill_id}"


class TrainingKind(models.TextChoices):
    TRAINING = "training", _("Training")
    AWARENESS = "awareness", _("Awareness session")
    DEBRIEF = "debrief", _("Drill debrief")


def _material_path(session, filename):
    return f"trainings/{timezone.now():%Y/%m}/{filename}"


class TrainingSession(models.Model):
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=TrainingKind.choices, default=TrainingKind.TRAINING)
    held_at = models.DateTimeField(_("held at"))
    topic = models.TextField(_("topic"), blank=True)
    trainer = models.CharField(_("trainer"), max_length=150, blank=True)
    material = models.FileField(_("materials"), upload_to=_material_path, max_length=200, blank=True)
    # A debrief looks back on one drill.
    drill = models.ForeignKey(Drill, null=True, blank=True, on_delete=models.SET_NULL, related_name="debriefs",
                              verbose_name=_("drill"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-held_at", "-id"]
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")

    def __str__(self):
        return self.title


class Attendance(models.Model):
    """A person attended a session: confirmed by themselves, or recorded by the office (``recorded_by``)."""

    session = models.ForeignKey(TrainingSession, on_delete=models.CASCADE, related_name="attendances")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_attendances")
    confirmed_by_self = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["session", "person"]
        constraints = [models.UniqueConstraint(fields=["session", "person"], name="one_attendance_per_session")]

    def __str__(self):
        return f"{self.person} at {self.session}"
