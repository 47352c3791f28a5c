"""Deadlines: the plan's timers as rows. The table, not the broker, is the truth.

Whatever executes a deadline locks its row, checks it is still pending and
due, acts, and records that it acted, all in one transaction (docs/escalation.md).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    # The plan response's own duties: started when a level starts, ended with the level or the incident.
    ESCALATION = "escalation", _("Escalation")
    ON_SITE = "on_site", _("On site")
    REPORT = "report", _("Report")
    APPROVAL = "approval", _("Approval")
    # Time limits of the plan's before and after, each acted on by its own app's handler
    # (act_on_due_deadlines_with(..., kinds=...)); they outlive the incident's resolution.
    REMEDIATION = "remediation", _("Remediation action")
    INSPECTION = "inspection", _("Inspection round")
    EXTERNAL_REPORT = "external_report", _("External report")
    EXTERNAL_REMINDER = "external_reminder", _("External report reminder")
    CALLOUT_ARRIVAL = "callout_arrival", _("Call-out arrival")
    DRILL_STEP = "drill_step", _("Drill step")


# The kinds a level's response starts; a level change or the incident's end cancels these, not the others.
RESPONSE_KINDS = (Kind.ESCALATION, Kind.ON_SITE, Kind.REPORT, Kind.APPROVAL)


class State(models.TextChoices):
    PENDING = "pending", _("Pending")
    MET = "met", _("Met")
    FIRED = "fired", _("Escalated")
    MISSED = "missed", _("Missed")
    CONDITION_NOT_MET = "condition_not_met", _("Condition not met")
    CANCELLED = "cancelled", _("Cancelled")


class Deadline(models.Model):
    # None for a deadline of no incident (an inspection round).
    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT, related_name="deadlines",
                                 null=True, blank=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    # What the deadline times beyond the plan's duty of a role, e.g. "action:12", "round:7",
    # "external:pboc:initial"; empty for the plan response's own deadlines.
    subject = models.CharField(max_length=64, blank=True, default="")
    # The level whose response created it; it only ever acts while the incident is still at that level.
    level_key = models.SlugField(max_length=32)
    role_key = models.SlugField(max_length=64, blank=True)
    # Report duties: who reports to whom.
    to_role_key = models.SlugField(max_length=64, blank=True)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    # Escalation rule copied from the plan cell when the deadline started.
    target_level_key = models.SlugField(max_length=32, blank=True)
    condition_field = models.CharField(max_length=64, blank=True)
    condition_op = models.CharField(max_length=3, blank=True)
    condition_value = models.FloatField(null=True, blank=True)
    acted_at = models.DateTimeField(null=True, blank=True)
    met_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    note = models.CharField(max_length=300, blank=True)


    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # The sweeper's query: pending rows by due time.
            models.Index(fields=["due_at"], condition=Q(state="pending"), name="deadline_pending_due"),
            models.Index(fields=["incident", "state"], name="deadline_incident_state"),
            models.Index(fields=["kind", "subject"], name="deadline_kind_subject"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(due_at__gte=models.F("started_at")), name="deadline_due_after_start"),
            models.CheckConstraint(
                condition=Q(state="pending", acted_at__isnull=True) | (~Q(state="pending") & Q(acted_at__isnull=False)),
                name="deadline_acted_iff_not_pending",
            ),
            models.UniqueConstraint(
                fields=["incident", "kind", "level_key", "role_key", "to_role_key", "subject"],
                condition=Q(state="pending"),
                name="one_pending_deadline_per_duty",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.role_key or self.target_level_key} due {self.due_at:%Y-%m-%d %H:%M:%S}"

    @property
    def lateness(self):
        """How long after its due time it acted (negative when met early)."""
        if self.acted_at is None:
            return None
        return self.acted_at - self.due_at

    @property
    def missed(self):
        return self.state == State.MISSED


class Heartbeat(models.Model):
    """When beat last sent the heartbeat task ("beat") and when a worker last ran it ("worker").

    A row in the database, not a broker key, so /readyz reads it the same way on
    PostgreSQL + Redis and on the embedded SQLite + filesystem broker.
    """

    name = models.SlugField(max_length=32, primary_key=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} {self.at.isoformat()}"
