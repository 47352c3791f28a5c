"""Outside parties and what the office owes or asks of them during an incident.

* ``Party`` and ``Contact``: the directory (regulator, line carriers, vendors, business departments), with
  contract and SLA and what each covers. A plan party's ``key`` (plan/models.py ``Party``) names one of these.
* ``ExternalReport``: one stage (initial, written, final) of a reporting duty toward a party, as the plan's
  cell owed it, and the report when it was sent. Its deadline is an engine row (kind ``external_report``).
* ``CallOut``: a carrier or vendor called to the site, with its promised arrival (kind ``callout_arrival``).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from plan.models import PartyKind
from plan.text import BilingualMixin


class Party(BilingualMixin, models.Model):
    key = models.SlugField(_("key"), max_length=64, unique=True,
                           help_text=_("The plan names a party by this key (e.g. pboc)."))
    kind = models.CharField(_("kind"), max_length=12, choices=PartyKind.choices)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    contract = models.CharField(_("contract"), max_length=200, blank=True,
                                help_text=_("Contract number or title, and its term."))
    arrival_within = models.DurationField(_("arrives within (SLA)"), null=True, blank=True,
                                          help_text=_("How soon the contract says they are on site once called."))
    support_hours = models.CharField(_("support hours"), max_length=100, blank=True,
                                     help_text=_("For example 7×24, or weekdays 9:00–18:00."))
    # Fault categories (plan category keys) this party covers: the call-out form suggests it for them.
    categories = models.JSONField(_("categories covered"), default=list, blank=True)
    # The assets it maintains or supports (the asset register): the call-out form suggests it first for an
    # incident on one of them, and the asset's page names it.
    assets = models.ManyToManyField("assets.Asset", blank=True, related_name="parties",
                                    verbose_name=_("assets covered"))
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "key"]
        verbose_name = _("party")
        verbose_name_plural = _("parties")

    def __str__(self):
        return self.name


class Contact(models.Model):
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("party"))
    name = models.CharField(_("name"), max_length=100)
    role = models.CharField(_("role"), max_length=100, blank=True, help_text=_("Their job, e.g. duty engineer."))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    position = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["party", "position", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [models.UniqueConstraint(fields=["party", "name"], name="contact_name_once_per_party")]

    def __str__(self):
        return f"{self.name} ({self.party.key})"

    @property
    def phones(self) -> str:
        return " / ".join(p for p in (self.phone, self.mobile) if p)

    @property
    def reachable(self) -> bool:
        return bool(self.phone or self.mobile or self.email)


class Stage(models.TextChoices):
    INITIAL = "initial", _("Initial notice")
    WRITTEN = "written", _("Written report")
    FINAL = "final", _("Final report")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    FAX = "fax", _("Fax")
    EMAIL = "email", _("Email")
    ONLINE = "online", _("Online reporting system")


# The report's sections, in the order such reports have them (the form, the document and ``facts``).
REPORT_FIELDS = ("occurred_at", "affected", "level", "cause", "measures", "expected_recovery", "contact")


class ExternalReport(models.Model):
    """One stage of a reporting duty to a party for one incident: owed by the plan, and what was sent."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT, related_name="external_reports")
    party_key = models.SlugField(max_length=64)
    stage = models.CharField(max_length=10, choices=Stage.choices)
    # The level whose cell owed it (empty: filed without a duty), and how long that cell allows.
    level_key = models.SlugField(max_length=32, blank=True)
    within = models.DurationField(null=True, blank=True)
    # Empty until the clock starts: a final report's clock starts at resolution.
    due_at = models.DateTimeField(null=True, blank=True)
    deadline = models.OneToOneField("escalation.Deadline", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    confirmed = models.BooleanField(default=True, help_text=_("False while the plan's figure awaits confirmation."))
    # The report's sections (REPORT_FIELDS), as last edited; the document and the text are built from them.
    facts = models.JSONField(default=dict, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["incident", "party_key", "created_at", "id"]
        verbose_name = _("external report")
        verbose_name_plural = _("external reports")
        constraints = [
            models.UniqueConstraint(fields=["incident", "party_key", "stage"], name="one_report_per_stage"),
            models.CheckConstraint(condition=Q(sent_at__isnull=True) | ~Q(channel=""), name="sent_report_has_channel"),
        ]

    def __str__(self):
        return f"#{self.incident_id} {self.party_key} {self.stage}"

    @property
    def subject(self) -> str:
        return f"external:{self.party_key}:{self.stage}"

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None

    @property
    def missed(self) -> bool:
        """Not sent in time (sent late, or due and still not sent)."""
        if self.due_at is None:
            return False
        return (self.sent_at or timezone.now()) > self.due_at


class CallOut(models.Model):
    """A carrier or vendor called out for an incident: who, when, the ticket, and when they came and went."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT, related_name="callouts")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="callouts")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    called_at = models.DateTimeField(default=timezone.now)
    called_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    ticket = models.CharField(max_length=100, blank=True)
    promised_by = models.DateTimeField()
    deadline = models.OneToOneField("escalation.Deadline", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    arrived_at = models.DateTimeField(null=True, blank=True)
    departed_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["incident", "called_at", "id"]
        verbose_name = _("call-out")
        verbose_name_plural = _("call-outs")
        constraints = [
            models.CheckConstraint(condition=Q(promised_by__gte=models.F("called_at")), name="callout_promise_after_call"),
            models.CheckConstraint(condition=Q(departed_at__isnull=True) | Q(arrived_at__isnull=False),
                                   name="callout_departs_after_arriving"),
        ]

    def __str__(self):
        return f"#{self.incident_id} {self.party.key} {self.ticket}"

    @property
    def subject(self) -> str:
        return f"callout:{self.pk}"

    @property
    def late(self) -> bool:
        return (self.arrived_at or timezone.now()) > self.promised_by
