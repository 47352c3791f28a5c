"""Inspection rounds (设备巡检, plan 3.1.1): checklists per asset kind, schedules, rounds and their answers.

A schedule is a checklist × a set of assets (in walking order) × a recurrence
× the role that walks it. Beat generates its rounds ahead of time
(``inspections.generation``); each round is due at a time and is missed when
not submitted within the schedule's grace, a deadline in the escalation engine
(kind ``inspection``, subject ``round:<id>``, no incident).

A round's items are its schedule's assets × the checks of each asset's kind
(or the schedule's chosen checks), read when shown, not copied per round: a
month of two-hourly rounds over 2,000 assets would otherwise be millions of
rows. What was answered is copied into each ``Result`` (label, type, range),
so the record of a round never changes when a checklist later does.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from assets.models import AssetKind
from plan.text import BilingualMixin


class CheckType(models.TextChoices):
    OK = "ok", _("OK / not OK")
    NUMBER = "number", _("Reading")
    TEXT = "text", _("Text")
    PHOTO = "photo", _("Photo")


class ChecklistTemplate(BilingualMixin, models.Model):
    """The checks for every asset of one kind."""

    asset_kind = models.CharField(_("asset kind"), max_length=24, choices=AssetKind.choices, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)

    class Meta:
        ordering = ["asset_kind"]
        verbose_name = _("checklist template")
        verbose_name_plural = _("checklist templates")

    def __str__(self):
        return self.name


class CheckItem(models.Model):
    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="checks")
    key = models.SlugField(_("key"), max_length=64)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    type = models.CharField(_("type"), max_length=8, choices=CheckType.choices)
    label_en = models.CharField(_("label (English)"), max_length=200)
    label_zh = models.CharField(_("label (Chinese)"), max_length=200)
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    min_value = models.FloatField(_("lowest normal reading"), null=True, blank=True)
    max_value = models.FloatField(_("highest normal reading"), null=True, blank=True)
    # OK/not OK and readings must be answered before a round is submitted; text and photos may be left out.
    required = models.BooleanField(_("must be answered"), default=True)

    class Meta:
        ordering = ["template", "position", "id"]
        verbose_name = _("check")
        verbose_name_plural = _("checks")
        constraints = [
            models.UniqueConstraint(fields=["template", "key"], name="one_check_per_key_per_template"),
            models.CheckConstraint(condition=Q(min_value__isnull=True) | Q(max_value__isnull=True)
                                   | Q(min_value__lte=F("max_value")), name="check_range_is_ordered"),
        ]

    def __str__(self):
        return f"{self.template.asset_kind}:{self.key}"

    @property
    def label(self):
        return BilingualMixin.localized(self, "label")  # type: ignore[arg-type]


class Schedule(models.Model):
    name = models.CharField(_("name"), max_length=200)
    role_key = models.SlugField(_("role"), max_length=64, help_text=_("The plan role whose holders walk the round."))
    every = models.DurationField(_("every"))
    first_due_at = models.DateTimeField(_("first round due at"))
    grace = models.DurationField(_("grace"), help_text=_("A round not submitted this long after it is due is missed."))
    # Optional daily window in local time (e.g. 20:00–08:00 for "every 2 hours at night"); may wrap midnight.
    window_start = models.TimeField(_("from (local time)"), null=True, blank=True)
    window_end = models.TimeField(_("until (local time)"), null=True, blank=True)
    # Check keys to ask; empty: every check of each asset's kind.
    checks = models.JSONField(_("checks"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    # Rounds exist up to this due time (inspections.generation).
    generated_until = models.DateTimeField(null=True, blank=True, editable=False)
    assets = models.ManyToManyField("assets.Asset", through="ScheduleAsset", related_name="schedules")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("inspection schedule")
        verbose_name_plural = _("inspection schedules")
        constraints = [
            models.CheckConstraint(condition=Q(every__gt=timedelta(0)), name="schedule_every_is_positive"),
            models.CheckConstraint(condition=Q(grace__gte=timedelta(0)), name="schedule_grace_not_negative"),
            models.CheckConstraint(condition=Q(window_start__isnull=True, window_end__isnull=True)
                                   | Q(window_start__isnull=False, window_end__isnull=False),
                                   name="schedule_window_has_both_ends"),
        ]

    def __str__(self):
        return self.name


class ScheduleAsset(models.Model):
    """An asset on a schedule, at its place in the walking order."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="stops")
    asset = models.ForeignKey("assets.Asset", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["schedule", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["schedule", "asset"], name="asset_once_per_schedule")]


class RoundStatus(models.TextChoices):
    DUE = "due", _("Due")
    DONE = "done", pgettext_lazy("inspection", "Done")
    MISSED = "missed", _("Missed")


class Round(models.Model):
    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, related_name="rounds")
    due_at = models.DateTimeField(_("due at"))
    role_key = models.SlugField(_("role"), max_length=64)
    # Missed when not submitted by this time (due_at + the schedule's grace): the engine deadline's due time.
    miss_at = models.DateTimeField()
    status = models.CharField(_("status"), max_length=8, choices=RoundStatus.choices, default=RoundStatus.DUE)
    started_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("submitted by"))
    # Kept when a missed round is still walked later: the miss stays on the record.
    missed_at = models.DateTimeField(_("missed at"), null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("inspection round")
        verbose_name_plural = _("inspection rounds")
        indexes = [
            models.Index(fields=["role_key", "due_at"], name="round_role_due"),
            models.Index(fields=["status", "due_at"], name="round_status_due"),
            models.Index(fields=["due_at"], name="round_due"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "due_at"], name="one_round_per_schedule_due_time"),
            models.CheckConstraint(condition=Q(miss_at__gte=F("due_at")), name="round_missed_after_due"),
            models.CheckConstraint(condition=~Q(status="done") | Q(submitted_at__isnull=False),
                                   name="done_round_was_submitted"),
            models.CheckConstraint(condition=~Q(status="missed") | Q(missed_at__isnull=False),
                                   name="missed_round_has_missed_at"),
        ]

    def __str__(self):
        return f"{self.schedule} @ {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def subject(self) -> str:
        """The engine deadline's subject (escalation.models.Deadline.subject)."""
        return f"round:{self.pk}"

    @property
    def late(self) -> bool:
        return self.submitted_at is not None and self.submitted_at > self.due_at


def photo_path(result: "Result", filename: str) -> str:
    # Named by Fenghuo, never by the client (as incidents/notes.py names attachments).
    import uuid

    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"inspections/{result.round_id}/{uuid.uuid4().hex}.{extension}"


class Result(models.Model):
    """One answer: a check of one asset on one round, saved as it is given."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="results")
    asset = models.ForeignKey("assets.Asset", on_delete=models.PROTECT, related_name="inspection_results")
    check_key = models.SlugField(max_length=64)
    # The check as it was asked (CheckItem), so the record does not move when the checklist changes.
    check_type = models.CharField(max_length=8, choices=CheckType.choices)
    label_en = models.CharField(max_length=200)
    label_zh = models.CharField(max_length=200)
    unit = models.CharField(max_length=16, blank=True)
    min_value = models.FloatField(null=True, blank=True)
    max_value = models.FloatField(null=True, blank=True)
    ok = models.BooleanField(null=True)
    value = models.FloatField(null=True, blank=True)
    text = models.TextField(blank=True)
    note = models.TextField(blank=True)
    photo = models.FileField(upload_to=photo_path, blank=True, max_length=200)
    out_of_range = models.BooleanField(default=False)
    answered_at = models.DateTimeField()
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # What was done about an abnormal finding: a fault logged, or a remediation action on the asset
    # (reviews.Action with no incident; its due date is an engine deadline).
    incident = models.ForeignKey("incidents.Incident", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="inspection_findings")
    remediation_action = models.ForeignKey("reviews.Action", null=True, blank=True, on_delete=models.PROTECT,
                                           related_name="inspection_findings")

    class Meta:
        ordering = ["round", "id"]
        indexes = [models.Index(fields=["asset", "answered_at"], name="result_asset_answered")]
        constraints = [models.UniqueConstraint(fields=["round", "asset", "check_key"], name="one_answer_per_check")]

    def __str__(self):
        return f"{self.round_id} {self.asset_id} {self.check_key}"

    @property
    def label(self):
        return BilingualMixin.localized(self, "label")  # type: ignore[arg-type]

    @property
    def abnormal(self) -> bool:
        return self.ok is False or self.out_of_range
