"""Monitoring integrations and the raw alerts they deliver.

An alert row is written in the request that delivered it (a 202 means it is in
PostgreSQL); a worker then opens or joins an incident for it and stamps
``processed_at``. Rows still unprocessed are the durable to-do list that the
periodic sweep works through (docs/integrations/README.md, "How delivery works").
"""

import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from people.models import hash_token
from plan.document import LEVEL_RANKS


class Kind(models.TextChoices):
    ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager")
    EVENTS = "events", _("Events API (PagerDuty v2 compatible)")
    GENERIC = "generic", _("Generic JSON")


LEVEL_KEYS = tuple(LEVEL_RANKS)  # fixed by the plan format (plan/document.py), mildest first


MAX_GROUP_BY = 10


def validate_label_names(value):
    """A grouping is a short list of distinct label names."""
    if not isinstance(value, list) or not all(isinstance(name, str) and name.strip() for name in value):
        raise ValidationError(_('a list of label names, such as ["alertname", "site"]'))
    if len(value) > MAX_GROUP_BY or len(set(value)) != len(value):
        raise ValidationError(_("at most %(n)d label names, each once") % {"n": MAX_GROUP_BY})


class Integration(models.Model):
    """One monitoring source with its own token. Only the SHA-256 of the token is stored."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    prefix = models.CharField(max_length=12, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    default_category = models.SlugField(_("default category"), max_length=32, default="system",
                                        help_text=_("Used when an alert names no category."))
    default_level = models.CharField(_("default level"), max_length=10, default="blue",
                                     choices=[(key, key) for key in LEVEL_KEYS],
                                     help_text=_("Used when an alert's labels give no level."))
    enabled = models.BooleanField(_("enabled"), default=True)
    rate_limit_per_minute = models.PositiveIntegerField(
        _("rate limit (requests per minute)"), default=6000,
        help_text=_("Requests above this in one minute are answered 429 with Retry-After."))
    # Grouping (docs/integrations/README.md): which labels make one incident, and for how long it takes alerts in.
    group_by = models.JSONField(
        _("group by labels"), default=list, blank=True, validators=[validate_label_names],
        help_text=_('Label names whose values make one incident, e.g. ["alertname", "site"]. Empty: the '
                    "source's own grouping (Alertmanager's groupKey, the events API's dedup_key)."))
    group_window = models.DurationField(
        _("grouping window"), default=timedelta(0), validators=[MinValueValidator(timedelta(0))],
        help_text=_("Alerts of a group join its open incident for this long after it opened; later ones open a "
                    "new incident. 0: for as long as the incident is open."))
    # The storm guard (alerts/storms.py): past this many new incidents in the window, new groups join one storm.
    storm_threshold = models.PositiveIntegerField(
        _("storm threshold (new incidents)"), default=20,
        help_text=_("More new incidents than this within the storm window start an alert storm: further new "
                    "alert groups join one storm incident. 0 turns the guard off."))
    storm_window = models.DurationField(_("storm window"), default=timedelta(seconds=60),
                                        validators=[MinValueValidator(timedelta(seconds=1))])
    storm_quiet = models.DurationField(
        _("storm quiet period"), default=timedelta(minutes=10), validators=[MinValueValidator(timedelta(minutes=1))],
        help_text=_("A storm with no new alert for this long ends by itself."))
    created_at = models.DateTimeField(auto_now_add=True)
    last_received_at = models.DateTimeField(_("last received"), null=True, blank=True, editable=False)
    alerts_received = models.PositiveBigIntegerField(_("alerts received"), default=0, editable=False)
    incidents_opened = models.PositiveBigIntegerField(_("incidents opened"), default=0, editable=False)
    requests_rejected = models.PositiveBigIntegerField(_("requests rejected"), default=0, editable=False)

    history = HistoricalRecords(excluded_fields=["last_received_at", "alerts_received", "incidents_opened",
                                                 "requests_rejected"])

    class Meta:
        ordering = ["name"]
        verbose_name = _("monitoring integration")
        verbose_name_plural = _("monitoring integrations")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=[k.value for k in Kind]), name="integration_kind_known"),
            models.CheckConstraint(condition=Q(default_level__in=LEVEL_KEYS), name="integration_level_known"),
        ]

    def __str__(self):
        return self.name

    def set_new_token(self):
        """Give the integration a fresh token; returns the secret, which is never stored."""
        raw = "fhi_" + secrets.token_urlsafe(32)
        self.prefix, self.token_hash = raw[:10], hash_token(raw)
        return raw


class AlertStatus(models.TextChoices):
    FIRING = "firing", _("Firing")
    RESOLVED = "resolved", _("Resolved")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged at the source")


class AlertGroup(models.Model):
    """Alerts of one group (Alertmanager ``groupKey``, events ``dedup_key``) share one incident.

    Its row is the lock that serialises the workers handling one group, so two
    of them never open two incidents for it.
    """

    # No index of its own: the unique (integration, key) index serves every lookup by integration.
    integration = models.ForeignKey(Integration, on_delete=models.PROTECT, related_name="groups", db_index=False)
    key = models.CharField(max_length=500)
    incident = models.ForeignKey("incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    # When the group opened an incident of its own: what the storm guard counts.
    opened_at = models.DateTimeField(null=True, blank=True)
    # The storm the group joined instead of opening its own incident (kept when the office splits it out).
    storm = models.ForeignKey("AlertStorm", null=True, blank=True, on_delete=models.PROTECT, related_name="groups")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["integration", "key"], name="one_group_per_key")]
        indexes = [models.Index(fields=["integration", "opened_at"], condition=Q(opened_at__isnull=False),
                                name="alert_group_opened")]

    def __str__(self):
        return f"{self.integration}: {self.key[:60]}"


class AlertStorm(models.Model):
    """Many new alert groups from one integration at once, handled as one incident (alerts/storms.py).

    At most one storm per integration is under way (``ended_at`` null); it ends
    after the integration's quiet period with no new alert.
    """

    integration = models.ForeignKey(Integration, on_delete=models.PROTECT, related_name="storms")
    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    last_alert_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    groups_joined = models.PositiveIntegerField(default=0)
    alerts_joined = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("alert storm")
        verbose_name_plural = _("alert storms")
        constraints = [models.UniqueConstraint(fields=["integration"], condition=Q(ended_at__isnull=True),
                                               name="one_storm_under_way_per_integration")]

    def __str__(self):
        return f"{self.integration} storm from {self.started_at:%Y-%m-%d %H:%M}"


class Alert(models.Model):
    """One delivery of one alert's state, exactly as received."""

    # Every index costs each stored alert of a storm, and each update when it is processed: only those that
    # queries use. (integration, delivery_key) and (integration, group_key) serve lookups by integration.
    integration = models.ForeignKey(Integration, on_delete=models.PROTECT, related_name="alerts", db_index=False)
    group_key = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=255)
    # Identifies this delivery: a repeated webhook carries the same key and is not stored twice.
    delivery_key = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=AlertStatus.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    summary = models.CharField(max_length=300)
    category_key = models.SlugField(max_length=32, db_index=False)
    level_key = models.CharField(max_length=10)
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField()
    incident = models.ForeignKey("incidents.Incident", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="alerts")
    # NULL: not yet turned into an incident change. The sweep finds these.
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            models.UniqueConstraint(fields=["integration", "delivery_key"], name="alert_delivered_once"),
        ]
        indexes = [
            models.Index(fields=["id"], condition=Q(processed_at__isnull=True), name="alert_unprocessed"),
            models.Index(fields=["integration", "group_key"], name="alert_group"),
        ]

    def __str__(self):
        return f"{self.summary} ({self.status})"


class WorkerSettings(models.Model):
    """The settings an alert worker last ran its sweep with, which the web processes must share.

    The web process hashes each alert group to a lane with ``ALERTS_LANES`` and
    nudges that lane's runner under ``FENGHUO_QUEUE_PREFIX``. A worker with
    another lane count runs the nudged lane over other groups, one with another
    prefix never sees the nudge: either way alerts wait for the periodic sweep. Only the worker knows its values and only the web process knows its
    own, so the worker writes them here and ``/readyz`` compares (a row, not a
    broker key, so it works on the embedded broker too).
    """

    worker = models.CharField(max_length=255, primary_key=True)  # the Celery node name, e.g. celery@host
    lanes = models.PositiveSmallIntegerField()
    queue_prefix = models.CharField(max_length=100)
    seen_at = models.DateTimeField()

    def __str__(self):
        return f"{self.worker}: {self.lanes} lanes, prefix {self.queue_prefix}"
