"""A proposal to change the emergency plan (plan section 5, 改进预案), usually prompted by an incident's review.

It carries a draft plan version (``plan.PlanVersion`` with ``is_draft``), edited
until it is submitted; approving it makes the draft the active version, rejecting
it keeps both for the record.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ProposalState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


DECIDED = (ProposalState.APPROVED, ProposalState.REJECTED)


class Proposal(models.Model):
    incident = models.ForeignKey("incidents.Incident", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="plan_proposals", verbose_name=_("incident"))
    reason = models.TextField(_("why"))
    draft = models.OneToOneField("plan.PlanVersion", on_delete=models.PROTECT, related_name="proposal",
                                 verbose_name=_("draft plan version"))
    state = models.CharField(_("state"), max_length=16, choices=ProposalState.choices, default=ProposalState.DRAFT)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("proposed by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("plan change proposal")
        verbose_name_plural = _("plan change proposals")
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=[s.value for s in DECIDED], decided_at__isnull=False)
                | Q(state__in=[ProposalState.DRAFT.value, ProposalState.SUBMITTED.value], decided_at__isnull=True),
                name="a_decided_proposal_has_its_decision_time",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.reason[:60]}"

    @property
    def is_decided(self) -> bool:
        return self.state in DECIDED
