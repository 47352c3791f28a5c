"""The post-incident review (事件总结) and the remediation actions (整改措施) of an incident or an asset.

A review is what people write; its figures (time to acknowledge, arrive,
recover, resolve; deadlines met and missed) are never stored here: they are
read from the incident's timeline and deadlines (``reviews.figures``), so they
cannot be typed over. An action's due date is a deadline in the escalation
engine (kind ``remediation``, subject ``action:<id>``). An action hangs from an
incident (found in its review) or from an asset alone (an abnormal inspection
finding that needs work but no response); the database refuses one with neither.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for approval")
    APPROVED = "approved", _("Approved")


# The parts people write, in the order the page and the documents show them.
SECTIONS = ("summary", "impact", "root_cause", "went_well", "went_wrong", "lessons")
# What a review cannot be submitted without (reviews.services.review_submit names the empty ones).
REQUIRED_SECTIONS = ("summary", "impact", "root_cause", "went_wrong", "lessons")


class Review(models.Model):
    incident = models.OneToOneField("incidents.Incident", on_delete=models.PROTECT, related_name="review")
    status = models.CharField(_("status"), max_length=12, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT)
    summary = models.TextField(_("what happened"), blank=True)
    impact = models.TextField(_("impact"), blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    went_well = models.TextField(_("what went well"), blank=True)
    went_wrong = models.TextField(_("what went wrong"), blank=True)
    lessons = models.TextField(_("lessons"), blank=True)
    drafted_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("post-incident review")
        verbose_name_plural = _("post-incident reviews")
        constraints = [
            models.CheckConstraint(condition=~Q(status="approved") | Q(approved_at__isnull=False),
                                   name="approved_review_has_approved_at"),
        ]

    def __str__(self):
        return f"review of incident #{self.incident_id}"


class ActionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", pgettext_lazy("remediation action", "Done")
    CARRIED_OVER = "carried_over", _("Carried over")


class ActionQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=ActionStatus.OPEN)

    def overdue(self, now=None):
        return self.open().filter(due_at__lt=now or timezone.now())


class Action(models.Model):
    """One remediation action: an owner, a due date, and how it ended (done with evidence, carried over why).

    It hangs from an incident, an asset, or both; only an incident's own actions gate archiving it.
    """

    incident = models.ForeignKey("incidents.Incident", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="remediation_actions", verbose_name=_("incident"))
    asset = models.ForeignKey("assets.Asset", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="remediation_actions", verbose_name=_("asset"))
    title = models.CharField(_("action"), max_length=300)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="remediation_actions",
                              verbose_name=_("owner"))
    due_at = models.DateTimeField(_("due"))
    status = models.CharField(_("status"), max_length=16, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    evidence = models.TextField(_("evidence"), blank=True)
    carry_over_reason = models.TextField(_("why carried over"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    history = HistoricalRecords()

    objects = ActionQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("remediation action")
        verbose_name_plural = _("remediation actions")
        indexes = [models.Index(fields=["status", "due_at"], name="action_status_due")]
        constraints = [
            models.CheckConstraint(condition=~Q(status="done") | ~Q(evidence=""), name="done_action_has_evidence"),
            models.CheckConstraint(condition=~Q(status="carried_over") | ~Q(carry_over_reason=""),
                                   name="carried_over_action_has_reason"),
            models.CheckConstraint(condition=Q(status="open", closed_at__isnull=True)
                                   | (~Q(status="open") & Q(closed_at__isnull=False)),
                                   name="action_closed_iff_not_open"),
            models.CheckConstraint(condition=Q(incident__isnull=False) | Q(asset__isnull=False),
                                   name="action_hangs_from_an_incident_or_an_asset"),
        ]

    def __str__(self):
        of = f"incident #{self.incident_id}" if self.incident_id else f"asset #{self.asset_id}"
        return f"action #{self.pk} of {of}: {self.title}"

    @property
    def subject(self) -> str:
        """The name of its deadline in the escalation engine."""
        return f"action:{self.pk}"

    @property
    def overdue(self) -> bool:
        return self.status == ActionStatus.OPEN and self.due_at < timezone.now()
