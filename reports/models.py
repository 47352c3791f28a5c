"""What the reports app keeps: which monthly reports beat has sent, so each month goes out once, and each
resolved incident's figures (``reports.figures``), so a report reads narrow rows instead of joining the
incident's timeline, deadlines, notifications, deliveries and alerts, and those rows' sums per calendar month
(``Month*``), so a report over whole months adds up a few thousand rows instead of counting a hundred thousand."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MonthlyReport(models.Model):
    """One row per month sent; the unique month is what makes a retried or doubled beat send nothing twice."""

    month = models.CharField(_("month"), max_length=7, unique=True)  # YYYY-MM
    sent_at = models.DateTimeField(_("sent at"))
    recipients = models.JSONField(_("recipients"), default=list)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-month"]
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")

    def __str__(self):
        return self.month


# What a report filters on besides the period (``reports.filters``), as the figures tables name it.
FACT_KEYS = ("is_drill", "category_key", "level_key", "source", "affected_system", "asset")


class Facts(models.Model):
    """What a report filters on, copied from the incident so each figures table is read alone, by opened_at.

    An incident's category, level, source, system and asset do not change once it is resolved; the rare edit
    that does writes a timeline row, and ``figures_refresh`` rewrites the incident's rows.
    """

    opened_at = models.DateTimeField()
    category_key = models.CharField(max_length=64)
    level_key = models.CharField(max_length=64)
    source = models.CharField(max_length=20)
    affected_system = models.CharField(max_length=12, blank=True)
    is_drill = models.BooleanField()
    asset = models.ForeignKey("assets.Asset", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                              db_index=False)

    class Meta:
        abstract = True


class IncidentFigures(Facts):
    """One resolved incident's figures, written in the transaction that resolves it (``reports.figures``).

    Durations are seconds, NULL when there is nothing to measure (never acknowledged). Escalations are the
    level rises by cause. ``timeline_mark`` is the incident's newest timeline row when these were written: a
    newer one means something that may matter changed since (``figures_refresh``).
    """

    incident = models.OneToOneField("incidents.Incident", primary_key=True, on_delete=models.CASCADE,
                                    related_name="figures")
    mtta_s = models.FloatField(null=True)
    mttr_s = models.FloatField(null=True)
    mttr_resolved_s = models.FloatField(null=True)
    escalations_plan = models.PositiveIntegerField(default=0)
    escalations_alert = models.PositiveIntegerField(default=0)
    escalations_person = models.PositiveIntegerField(default=0)
    escalations_condition = models.PositiveIntegerField(default=0)
    timeline_mark = models.BigIntegerField(default=0)
    written_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("incident figures")
        verbose_name_plural = _("incident figures")
        indexes = [
            models.Index(fields=["opened_at"], name="figures_opened"),
            models.Index(fields=["category_key", "level_key", "opened_at"], name="figures_cell_opened"),
            models.Index(fields=["source", "opened_at"], name="figures_source_opened"),
            models.Index(fields=["asset", "opened_at"], name="figures_asset_opened"),
            models.Index(fields=["written_at"], name="figures_written"),
        ]


class DeadlineFigure(Facts):
    """One decided deadline of a resolved incident: kept or not, and for an on-site one met, the arrival."""

    # Through its incident's row: a child never outlives it, so no figure is read twice (row and live).
    figures = models.ForeignKey(IncidentFigures, on_delete=models.CASCADE, related_name="deadlines")
    kind = models.CharField(max_length=24)
    role_key = models.CharField(max_length=64, blank=True)
    cell_level_key = models.CharField(max_length=64)  # the deadline's own level: its plan cell
    kept = models.BooleanField()
    arrival_s = models.FloatField(null=True)

    class Meta:
        indexes = [models.Index(fields=["opened_at"], name="deadline_figure_opened"),
                   models.Index(fields=["asset", "opened_at"], name="deadline_figure_asset"),
                   # The arrivals' medians read this alone (PostgreSQL: an index-only scan), not a third of the table.
                   models.Index(fields=["opened_at"], name="deadline_figure_arrivals",
                                condition=models.Q(arrival_s__isnull=False),
                                include=[*FACT_KEYS, "kind", "role_key", "arrival_s"])]


class DeliveryFigure(Facts):
    """One delivery of a resolved incident's notification that went out or failed, and its read confirmation."""

    # Through its incident's row: a child never outlives it, so no figure is read twice (row and live).
    figures = models.ForeignKey(IncidentFigures, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=12)
    delivered = models.BooleanField()
    ack_s = models.FloatField(null=True)

    class Meta:
        indexes = [models.Index(fields=["opened_at"], name="delivery_figure_opened"),
                   models.Index(fields=["asset", "opened_at"], name="delivery_figure_asset"),
                   # The read confirmations' medians read this alone (PostgreSQL: an index-only scan).
                   models.Index(fields=["opened_at"], name="delivery_figure_acks",
                                condition=models.Q(delivered=True, ack_s__isnull=False),
                                include=[*FACT_KEYS, "channel", "ack_s"])]


class SourceFigure(Facts):
    """How many alerts one monitoring integration raised for a resolved incident."""

    # Through its incident's row: a child never outlives it, so no figure is read twice (row and live).
    figures = models.ForeignKey(IncidentFigures, on_delete=models.CASCADE, related_name="sources")
    source_name = models.CharField(max_length=200)
    alerts = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["opened_at"], name="source_figure_opened"),
                   models.Index(fields=["asset", "opened_at"], name="source_figure_asset")]


class MonthFacts(models.Model):
    """The keys a report filters on, for the counts of one calendar month (the office's time zone, TIME_ZONE).

    ``month`` is the month's first day. ``asset_key`` is the asset's id, 0 for none: a plain number, so the
    counts of every asset and of none group and filter alike on both databases.
    """

    month = models.DateField()
    category_key = models.CharField(max_length=64)
    level_key = models.CharField(max_length=64)
    source = models.CharField(max_length=20)
    affected_system = models.CharField(max_length=12, blank=True)
    is_drill = models.BooleanField()
    asset_key = models.PositiveBigIntegerField(default=0)

    class Meta:
        abstract = True
        indexes = [models.Index(fields=["month"], name="%(class)s_month")]


class MonthIncidents(MonthFacts):
    """How many resolved incidents opened in the month with these keys, and their level rises by cause: the
    sums of their ``IncidentFigures``, rewritten with them (``reports.figures.months_write``)."""

    incidents = models.PositiveIntegerField()
    escalations_plan = models.PositiveIntegerField()
    escalations_alert = models.PositiveIntegerField()
    escalations_person = models.PositiveIntegerField()
    escalations_condition = models.PositiveIntegerField()


class MonthDeadlines(MonthFacts):
    """Decided deadlines of those incidents by kind, role and plan cell, and how many were kept."""

    kind = models.CharField(max_length=24)
    role_key = models.CharField(max_length=64, blank=True)
    cell_level_key = models.CharField(max_length=64)
    decided = models.PositiveIntegerField()
    kept = models.PositiveIntegerField()


class MonthDeliveries(MonthFacts):
    """Deliveries of those incidents' notifications by channel that went out or failed, and how many went out."""

    channel = models.CharField(max_length=12)
    total = models.PositiveIntegerField()
    delivered = models.PositiveIntegerField()


class MonthSources(MonthFacts):
    """Alerts each monitoring integration raised for those incidents, and for how many of them."""

    source_name = models.CharField(max_length=200)
    alerts = models.PositiveIntegerField()
    incidents = models.PositiveIntegerField()
