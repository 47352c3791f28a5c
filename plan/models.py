"""The emergency plan as versioned data.

A plan version is immutable once loaded: incidents keep pointing at the version
they opened under, so a plan change can never silently move a running deadline.
Only ``PlanVersion.is_active`` ever changes, and exactly one version is active.

The one exception is a *draft* (``is_draft``): the plan a change proposal
(improvements app) carries. Its rows are replaced as the proposal is edited; it
has no number and no incident ever points at it. Approving the proposal makes it
a version like any other (numbered, active, never changed again).
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .text import BilingualMixin


class PlanVersionQuerySet(models.QuerySet):
    def active(self):
        return self.get(is_active=True)


class VersionOrigin(models.TextChoices):
    """Where a version came from; shown in the reader's language beside who and why."""

    SHELL = "shell", _("loaded from the shell")
    PROPOSAL = "proposal", _("a plan change proposal")
    CODE = "code", _("loaded by Fenghuo")


class PlanVersion(BilingualMixin, models.Model):
    # Empty only while the version is a draft: a number is given when it becomes active.
    number = models.PositiveIntegerField(_("version"), unique=True, null=True, blank=True)
    name_en = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200)
    is_active = models.BooleanField(_("active"), default=False)
    loaded_at = models.DateTimeField(_("loaded at"), auto_now_add=True)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("loaded by"),
    )
    source = models.CharField(_("source file"), max_length=500, blank=True)
    source_sha256 = models.CharField(max_length=64, blank=True)
    # Who proposed the version, who approved it, when and why (issue 16). A file loaded from the shell is
    # proposed and approved by the operator who ran loadplan (``operator`` names the shell account).
    is_draft = models.BooleanField(_("draft"), default=False)
    origin = models.CharField(_("origin"), max_length=16, choices=VersionOrigin.choices, default=VersionOrigin.CODE)
    operator = models.CharField(_("shell account"), max_length=150, blank=True)
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("based on"),
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("proposed by"),
    )
    proposed_at = models.DateTimeField(_("proposed at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    reason = models.TextField(_("why"), blank=True)
    history = HistoricalRecords()

    objects = PlanVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="one_active_plan_version"),
            # A draft is never active and has no number; every other version has one.
            models.CheckConstraint(
                condition=Q(is_draft=True, is_active=False, number__isnull=True) | Q(is_draft=False, number__isnull=False),
                name="draft_has_no_number_and_is_not_active",
            ),
        ]

    def __str__(self):
        if self.number is None:
            return f"{_('draft')} {self.name}"
        return f"v{self.number} {self.name}"


class Role(BilingualMixin, models.Model):
    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="roles")
    key = models.SlugField(max_length=64)
    position = models.PositiveIntegerField()
    name_en = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200)
    duties_en = models.TextField(blank=True)
    duties_zh = models.TextField(blank=True)
    reports_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="subordinates")
    # The plan file's ``authority`` list (plan/document.py AUTHORITIES): what the role may do beyond its cells.
    authority = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["version", "position"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="unique_role_key_per_version")]

    def __str__(self):
        return self.name


class Level(BilingualMixin, models.Model):
    """A warning level. Rank 1 (red) is the most severe, rank 4 (blue) the mildest."""

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="levels")
    key = models.SlugField(max_length=32)
    rank = models.PositiveSmallIntegerField()
    color = models.CharField(max_length=7)
    name_en = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200)
    # What the level means beyond its rank (plan/document.py LEVEL_DEFAULTS gives the values a plan omits).
    announced = models.BooleanField(default=False, help_text=_("Announced to the business departments."))
    urgent = models.BooleanField(default=False, help_text=_("Sent on every channel at once, through quiet hours."))
    repeat_every = models.DurationField(default=timedelta(minutes=30))
    repeat_times = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["version", "-rank"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="unique_level_key_per_version"),
            models.UniqueConstraint(fields=["version", "rank"], name="unique_level_rank_per_version"),
        ]

    def __str__(self):
        return self.name

    def is_more_severe_than(self, other):
        return self.rank < other.rank


class Category(BilingualMixin, models.Model):
    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="categories")
    key = models.SlugField(max_length=32)
    position = models.PositiveIntegerField()
    name_en = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200)

    class Meta:
        ordering = ["version", "position"]
        verbose_name_plural = _("categories")
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="unique_category_key_per_version")]

    def __str__(self):
        return self.name


class ConditionOperator(models.TextChoices):
    GT = "gt", ">"
    GTE = "gte", "≥"
    LT = "lt", "<"
    LTE = "lte", "≤"


# How long an approver has to decide on a response plan when the plan file does not say (interfaces.md).
DEFAULT_APPROVAL_WITHIN = timedelta(minutes=30)


class Cell(BilingualMixin, models.Model):
    """One cell of the plan: what happens for a category at a level."""

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="responses")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="responses")
    level = models.ForeignKey(Level, on_delete=models.CASCADE, related_name="responses")
    criteria_en = models.TextField()
    criteria_zh = models.TextField()
    approval_by = models.ForeignKey(Role, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The plan file's approval.within; empty when the file leaves it out (DEFAULT_APPROVAL_WITHIN applies).
    approval_within = models.DurationField(null=True, blank=True)
    escalate_to = models.ForeignKey(Level, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    escalate_after = models.DurationField(null=True, blank=True)
    escalate_when_field = models.CharField(max_length=64, blank=True)
    escalate_when_op = models.CharField(max_length=3, choices=ConditionOperator.choices, blank=True)
    escalate_when_value = models.FloatField(null=True, blank=True)
    # The plan file's stability {by, watch} (plan 4.2.2): after recovery, this role watches the system this
    # long and confirms it stable before the incident may be resolved. Both empty when the cell has none.
    stability_by = models.ForeignKey(Role, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    stability_watch = models.DurationField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["category", "level"], name="one_response_per_cell"),
            models.CheckConstraint(
                condition=Q(escalate_to__isnull=True, escalate_after__isnull=True)
                | Q(escalate_to__isnull=False, escalate_after__isnull=False),
                name="escalation_has_target_and_deadline",
            ),
            models.CheckConstraint(
                condition=Q(stability_by__isnull=True, stability_watch__isnull=True)
                | Q(stability_by__isnull=False, stability_watch__isnull=False),
                name="stability_has_role_and_watch",
            ),
        ]

    def __str__(self):
        return f"{self.category} / {self.level}"

    @property
    def approval_deadline(self):
        """How long the approver has to decide on a response plan: the file's approval.within, else 30 min."""
        return self.approval_within or DEFAULT_APPROVAL_WITHIN

    @property
    def criteria(self):
        return self.localized("criteria")

    @property
    def escalation_condition(self):
        if not self.escalate_when_field:
            return None
        return {"field": self.escalate_when_field, self.escalate_when_op: self.escalate_when_value}


class ResponseNotify(models.Model):
    response = models.ForeignKey(Cell, on_delete=models.CASCADE, related_name="notify")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["response", "position"]
        constraints = [models.UniqueConstraint(fields=["response", "role"], name="notify_role_once_per_cell")]


class ReportDuty(models.Model):
    response = models.ForeignKey(Cell, on_delete=models.CASCADE, related_name="reports")
    from_role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="+")
    to_role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["response", "position"]


class OnSiteDuty(models.Model):
    response = models.ForeignKey(Cell, on_delete=models.CASCADE, related_name="on_site")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="+")
    within = models.DurationField()
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["response", "position"]
        constraints = [models.UniqueConstraint(fields=["response", "role"], name="on_site_role_once_per_cell")]


class Step(BilingualMixin, models.Model):
    response = models.ForeignKey(Cell, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    text_en = models.TextField()
    text_zh = models.TextField()

    class Meta:
        ordering = ["response", "position"]

    @property
    def text(self):
        return self.localized("text")


class PartyKind(models.TextChoices):
    REGULATOR = "regulator", _("Regulator")
    CARRIER = "carrier", _("Line carrier")
    VENDOR = "vendor", _("Vendor")
    DEPARTMENT = "department", _("Business department")


class Party(BilingualMixin, models.Model):
    """An outside organisation the plan names (top-level ``parties``); the directory (external app) matches its key."""

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="parties")
    key = models.SlugField(max_length=64)
    kind = models.CharField(max_length=12, choices=PartyKind.choices)
    position = models.PositiveIntegerField()
    name_en = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200)

    class Meta:
        ordering = ["version", "position"]
        verbose_name_plural = _("parties")
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="unique_party_key_per_version")]

    def __str__(self):
        return self.name


class ExternalDuty(models.Model):
    """A cell's reporting duty to an outside party: each stage due within its duration, or not owed (empty).

    ``initial`` and ``written`` count from the incident reaching the cell's level, ``final`` from its resolution.
    ``confirmed`` is false while the figures await the compliance officer's confirmation (the plan file says so).
    """

    response = models.ForeignKey(Cell, on_delete=models.CASCADE, related_name="external")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="duties")
    initial = models.DurationField(null=True, blank=True)
    written = models.DurationField(null=True, blank=True)
    final = models.DurationField(null=True, blank=True)
    confirmed = models.BooleanField(default=True)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["response", "position"]
        constraints = [
            models.UniqueConstraint(fields=["response", "party"], name="external_party_once_per_cell"),
            models.CheckConstraint(
                condition=Q(initial__isnull=False) | Q(written__isnull=False) | Q(final__isnull=False),
                name="external_duty_has_a_stage",
            ),
        ]

    def stages(self) -> dict[str, timedelta]:
        """The stages owed, in order: ``{"initial": 30m, ...}``."""
        return {stage: within for stage in ("initial", "written", "final")
                if (within := getattr(self, stage)) is not None}
