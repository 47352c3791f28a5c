"""Incidents, their append-only timeline, and proposed response plans.

An incident runs under the plan version it was opened with (``plan_version``)
until it is closed: a newly loaded plan applies to incidents opened after it,
so a plan change never silently moves a running deadline (docs/incident-states.md).
"""

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .states import OPEN_STATUSES, Status


class AffectedSystem(models.TextChoices):
    UNKNOWN = "", _("Not stated")
    PERIPHERAL = "peripheral", _("Peripheral system")
    CORE = "core", _("Core system")


class Source(models.TextChoices):
    MANUAL = "manual", _("Logged by a person")
    API = "api", _("API")
    ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager")
    EVENTS = "events", _("Events API")
    GENERIC = "generic", _("Generic JSON")


class IncidentQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def with_plan(self):
        return self.select_related("category", "level", "plan_version", "reporter", "asset")


class Incident(models.Model):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    plan_version = models.ForeignKey("plan.PlanVersion", on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey("plan.Category", on_delete=models.PROTECT, related_name="+", verbose_name=_("category"))
    level = models.ForeignKey("plan.Level", on_delete=models.PROTECT, related_name="+", verbose_name=_("level"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.REPORTED)
    affected_branches = models.PositiveIntegerField(_("affected branches"), null=True, blank=True)
    total_branches = models.PositiveIntegerField(_("the area's branches"), null=True, blank=True)
    affected_system = models.CharField(
        _("affected system"), max_length=12, choices=AffectedSystem.choices, blank=True, default=""
    )
    host_fault = models.BooleanField(_("host fault"), default=False,
                                     help_text=_("Equipment: a host fault starts the host emergency procedure (plan 4.2.3)."))
    is_drill = models.BooleanField(_("drill"), default=False)
    # The device at fault, when known (an inspection finding names it; a person may): assets sits below.
    asset = models.ForeignKey("assets.Asset", null=True, blank=True, on_delete=models.PROTECT, related_name="incidents",
                              verbose_name=_("asset"))
    # Plan seconds per real second: a drill may run the plan's clock faster (drills app); every duration the plan
    # gives this incident's deadlines is divided by it (escalation.services). Real incidents keep 1.
    clock = models.FloatField(_("clock"), default=1.0)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="reported_incidents", verbose_name=_("reporter"))
    discovered_at = models.DateTimeField(_("discovered at"), default=timezone.now)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    # When the current level began: every deadline of the level counts from here.
    level_since = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    # When service came back (mark_recovered): the plan's stability watch (plan 4.2.2) counts from here.
    recovered_at = models.DateTimeField(_("recovered at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    resolution_summary = models.TextField(_("resolution summary"), blank=True)
    history = HistoricalRecords(excluded_fields=["level_since"])

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        indexes = [
            models.Index(fields=["status", "-opened_at"], name="incident_status_opened"),
            models.Index(fields=["-opened_at"], name="incident_opened"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(affected_branches__isnull=True) | Q(total_branches__isnull=True)
                | Q(affected_branches__lte=models.F("total_branches")),
                name="affected_branches_within_total",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["resolved", "reviewed", "archived"]) | Q(resolved_at__isnull=False),
                name="closed_incident_has_resolved_at",
            ),
            models.CheckConstraint(condition=Q(clock__gt=0) & (Q(clock=1) | Q(is_drill=True)),
                                   name="only_a_drill_runs_a_faster_clock"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    @property
    def affected_branch_ratio(self):
        if self.affected_branches is None or not self.total_branches:
            return None
        return self.affected_branches / self.total_branches

    def condition_values(self):
        """The numbers a plan escalation condition may test (plan.conditions)."""
        return {
            "affected_branch_ratio": self.affected_branch_ratio,
            "affected_branches": self.affected_branches,
            "total_branches": self.total_branches,
        }


class TimelineKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    LEVEL_CHANGED = "level_changed", _("Level changed")
    NOTIFIED = "notified", _("Notified")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CHECKED_IN = "checked_in", _("Checked in on site")
    DEADLINE_MET = "deadline_met", _("Deadline met")
    DEADLINE_MISSED = "deadline_missed", _("Deadline missed")
    CONDITION_NOT_MET = "condition_not_met", _("Escalation condition not met")
    PLAN_PROPOSED = "plan_proposed", _("Response plan proposed")
    PLAN_APPROVED = "plan_approved", _("Response plan approved")
    PLAN_REJECTED = "plan_rejected", _("Response plan rejected")
    IMPLEMENTING = "implementing", _("Implementing")
    RECOVERED = "recovered", _("Recovered")
    RESOLVED = "resolved", _("Resolved")
    # The post-incident review (reviews app): drafted on resolution, submitted, returned, approved (REVIEWED).
    REVIEW_DRAFTED = "review_drafted", _("Review drafted")
    REVIEW_SUBMITTED = "review_submitted", _("Review submitted for approval")
    REVIEW_RETURNED = "review_returned", _("Review returned for changes")
    REVIEWED = "reviewed", _("Review approved")
    # Remediation actions (reviews app).
    ACTION_ADDED = "action_added", _("Remediation action added")
    ACTION_DONE = "action_done", _("Remediation action done")
    ACTION_CARRIED_OVER = "action_carried_over", _("Remediation action carried over")
    ACTION_OVERDUE = "action_overdue", _("Remediation action overdue")
    ARCHIVED = "archived", _("Archived")
    UPDATED = "updated", _("Details updated")
    REPORTED_TO = "reported_to", _("Reported up")
    ALERT = "alert", _("Monitoring alert")
    NOTE = "note", _("Note")
    ANNOUNCED = "announced", _("Level announced to the business departments")
    STABILITY_CONFIRMED = "stability_confirmed", _("Stability confirmed")
    # A deadline that ended because the incident did (resolved, archived) or its level changed.
    DEADLINE_CANCELLED = "deadline_cancelled", _("Deadline cancelled")
    # A proposal to change the emergency plan, prompted by this incident (improvements app, issue 16).
    PLAN_CHANGE_PROPOSED = "plan_change_proposed", _("Plan change proposed")
    PLAN_CHANGE_APPROVED = "plan_change_approved", _("Plan change approved")
    PLAN_CHANGE_REJECTED = "plan_change_rejected", _("Plan change rejected")
    # Outside parties (the external app): a report sent to one, a reminder that one is due, call-outs.
    EXTERNAL_REPORT_SENT = "external_report_sent", _("Report sent to an outside party")
    EXTERNAL_REPORT_REMINDED = "external_report_reminded", _("Reminder: a report to an outside party is due")
    CALLOUT = "callout", _("Carrier or vendor called out")
    CALLOUT_ARRIVED = "callout_arrived", _("Called-out party arrived")
    CALLOUT_DEPARTED = "callout_departed", _("Called-out party left")


class TimelineEntryQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        if not any(not entry.hash for entry in objs):
            return super().bulk_create(objs, *args, **kwargs)
        with transaction.atomic(savepoint=False):
            _seal(objs)
            return super().bulk_create(objs, *args, **kwargs)

    def update(self, **kwargs):
        raise PermissionError("timeline entries are append-only")

    def delete(self):
        raise PermissionError("timeline entries are append-only")


def _seal(entries):
    """Chain entries written around ``incidents.timeline`` (a test's builder, a one-off script) as it does."""
    from . import chain

    chain.lock(entry.incident_id for entry in entries)
    chain.seal(entries)


class TimelineEntry(models.Model):
    """One thing that happened. Append-only: written in the same transaction as the change."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="timeline")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=32, choices=TimelineKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Who acted when no person did: "Fenghuo", an integration's name.
    actor_label = models.CharField(max_length=100, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # A deadline acts at most once: its timeline row is unique (escalation docs).
    deadline = models.OneToOneField("escalation.Deadline", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="timeline_entry")
    # The hash chain (incidents/chain.py): SHA-256 hex of this entry's content and of prev_hash, the
    # hash of the incident's entry written before it ("" for its first).
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    objects = TimelineEntryQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("timeline entries are append-only")
        if self.hash:
            super().save(*args, **kwargs)
            return
        with transaction.atomic(savepoint=False):
            _seal([self])
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("timeline entries are append-only")

    @property
    def actor_name(self):
        """Who acted, in the active language ("System" when Fenghuo itself did: incidents.timeline_text)."""
        if self.actor_id:
            return str(self.actor)
        return self.actor_label if self.actor_label not in ("", "Fenghuo") else str(_("System"))


class PlanStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ResponsePlan(models.Model):
    """A proposed technical response plan; the cell's approval role decides on it."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="response_plans")
    text = models.TextField(_("response plan"))
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    approver_role_key = models.SlugField(max_length=64, blank=True)
    status = models.CharField(max_length=12, choices=PlanStatus.choices, default=PlanStatus.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-proposed_at"]
        constraints = [
            models.UniqueConstraint(fields=["incident"], condition=Q(status="pending"),
                                    name="one_pending_plan_per_incident"),
        ]

    def __str__(self):
        return f"plan #{self.pk} for incident #{self.incident_id}"


def _note_attachment_path(attachment, filename):
    from .notes import storage_name

    return storage_name(attachment, filename)


class NoteAttachment(models.Model):
    """A screenshot or log excerpt attached to a note (incidents/notes.py checks it); its note is ``entry``.

    The file is stored under Fenghuo's own name; ``original_name`` is what the person called it (cleaned).
    """

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="note_attachments")
    # Set in the note's own transaction, right after its timeline entry is written.
    entry = models.OneToOneField(TimelineEntry, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="attachment")
    file = models.FileField(upload_to=_note_attachment_path, max_length=200)
    original_name = models.CharField(max_length=150)
    content_type = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("note attachment")
        verbose_name_plural = _("note attachments")

    def __str__(self):
        return f"{self.original_name} (incident #{self.incident_id})"

    @property
    def is_image(self):
        return self.content_type.startswith("image/")
