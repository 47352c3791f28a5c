"""Who must be told, and whether they were.

One ``Notification`` per person per event: it is the in-app message and the
outbox row that channel deliveries hang from. Written in the same transaction
as the event that caused it, so nobody who must be told is lost in between.
Each ``Delivery`` is one message through one channel; its ``idempotency_key``
is unique, so a retried event or a retried task never creates a second one.
"""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from plan.text import BilingualMixin


class Ask(models.TextChoices):
    FYI = "fyi", _("For your information")
    ACKNOWLEDGE = "acknowledge", _("Acknowledge and respond")
    ON_SITE = "on_site", _("Be on site")
    APPROVE = "approve", _("Decide on the response plan")
    REPORT = "report", _("Report received")
    MISSED = "missed", _("A deadline was missed")
    ANNOUNCE = "announce", _("Announcement")


# These asks wait for an answer: unanswered, they are repeated and then escalated.
ASKS_NEEDING_ANSWER = (Ask.ACKNOWLEDGE, Ask.ON_SITE, Ask.APPROVE, Ask.MISSED)


class NotificationQuerySet(models.QuerySet):
    def visible(self, now=None):
        """What a person sees now: not withdrawn, and not held back for the on-duty people to answer first."""
        return self.filter(cancelled_at__isnull=True, visible_from__lte=now or timezone.now())


class Notification(models.Model):
    incident = models.ForeignKey("incidents.Incident", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="notifications")
    # Null when nobody held the role at the time: recorded so the gap shows.
    person = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="notifications")
    role_key = models.SlugField(max_length=64)
    event = models.CharField(max_length=100)
    ask = models.CharField(max_length=12, choices=Ask.choices, default=Ask.FYI)
    due_at = models.DateTimeField(null=True, blank=True)
    level_key = models.SlugField(max_length=32, blank=True)
    # What the level meant when this was sent (plan.Level, copied like the incident keeps its plan version):
    # urgent goes out on every channel at once and through quiet hours; unanswered, it is repeated this often.
    urgent = models.BooleanField(default=False)
    repeat_every = models.DurationField(default=timedelta(minutes=30))
    repeat_times = models.PositiveSmallIntegerField(default=1)
    is_drill = models.BooleanField(default=False)
    # The copy written in the recipient's language when it was created; their email and SMS send exactly this.
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    # What it says as facts (notifications/facts.py): the page, the API and robots render them in their reader's
    # language. Empty for notifications created before facts were stored: those read as their title and body.
    facts = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The on-duty people are told first; the rest of the role from this time, unless one of them answered.
    visible_from = models.DateTimeField(default=timezone.now)
    # Set when a colleague answered before this (held-back) notification became due.
    cancelled_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    # Repeats of an unanswered notification, and when the superior role was told about it.
    repeats = models.PositiveSmallIntegerField(default=0)
    last_told_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    # One notification per person per event: a retried event never tells anyone twice.
    dedup_key = models.CharField(max_length=200, unique=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["person", "acknowledged_at"], name="notification_person_unacked")]

    def __str__(self):
        return self.title

    def in_reader_language(self):
        """(title, body) in the active language, from the stored facts; the stored copy when there are none."""
        from .facts import render

        return render(self.facts) if self.facts else (self.title, self.body)

    @property
    def reader_title(self):
        return self.in_reader_language()[0]

    @property
    def reader_body(self):
        return self.in_reader_language()[1]

    @property
    def needs_answer(self):
        return self.ask in ASKS_NEEDING_ANSWER


class ChannelKind(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS (HTTP gateway)")
    WEBHOOK = "webhook", _("Generic webhook")
    DINGTALK = "dingtalk", _("DingTalk robot")
    WECOM = "wecom", _("WeCom robot")
    FEISHU = "feishu", _("Feishu robot")


# Channels that reach one person at their own address; the others post to a group chat or a system.
PERSONAL_KINDS = (ChannelKind.EMAIL, ChannelKind.SMS)
ROBOT_KINDS = (ChannelKind.DINGTALK, ChannelKind.WECOM, ChannelKind.FEISHU, ChannelKind.WEBHOOK)
# Messages per minute a vendor accepts per robot before throttling it (docs: channels.md).
# A generic webhook or SMS gateway has no such limit unless the operator sets one.
DEFAULT_PER_MINUTE = {ChannelKind.DINGTALK: 20, ChannelKind.WECOM: 20, ChannelKind.FEISHU: 100}


class ChannelConfig(models.Model):
    """A configured destination: a group-chat robot, a webhook, or the SMS gateway.

    Robots and webhooks with a ``role_key`` receive that role's notifications;
    with no role they receive every role's. The SMS gateway has no role: it
    sends to each person's phone. Email needs no row (Django's mail settings).
    """

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=[c for c in ChannelKind.choices if c[0] != "email"])
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("secret"), max_length=200, blank=True,
                              help_text=_("DingTalk/Feishu signing secret, webhook HMAC key, WeCom key or SMS "
                                          "gateway token."))
    role_key = models.SlugField(_("role"), max_length=64, blank=True,
                                help_text=_("Plan role whose notifications this channel receives; empty: all roles."))
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    per_minute = models.PositiveIntegerField(_("messages per minute"), null=True, blank=True,
                                             help_text=_("Empty: the vendor's limit (20 for DingTalk and WeCom)."))
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords(excluded_fields=["secret"])

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")

    def __str__(self):
        return f"{self.get_kind_display()}: {self.name}"

    @property
    def limit_per_minute(self):
        return self.per_minute or DEFAULT_PER_MINUTE.get(self.kind)

    def clean(self):
        errors = {}
        parts = urlsplit(self.url or "")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            errors["url"] = [_("Enter a full http:// or https:// address with a host name.")]
        query = parse_qs(parts.query)
        if self.kind == ChannelKind.DINGTALK:
            if "access_token" not in query:
                errors.setdefault("url", []).append(_("A DingTalk robot URL ends with ?access_token=…"))
            if not self.secret:
                errors["secret"] = [_("DingTalk robots must use signing (加签): paste the SEC… secret.")]
            elif not self.secret.startswith("SEC"):
                errors["secret"] = [_("A DingTalk signing secret starts with SEC.")]
        elif self.kind == ChannelKind.FEISHU and not self.secret:
            errors["secret"] = [_("Feishu bots must use signature verification: paste the secret.")]
        elif self.kind == ChannelKind.WECOM and "key" not in query and not self.secret:
            errors["secret"] = [_("A WeCom robot needs its key, in the URL (?key=…) or here.")]
        elif self.kind in (ChannelKind.WEBHOOK, ChannelKind.SMS) and len(self.secret or "") < 16:
            errors["secret"] = [_("Use a secret of at least 16 characters; receivers verify the signature with it.")]
        if self.kind == ChannelKind.SMS and self.role_key:
            errors["role_key"] = [_("The SMS gateway sends to each person's phone: leave the role empty.")]
        if errors:
            raise ValidationError(errors)


class RolePolicy(models.Model):
    """How long the on-duty people of a role have to answer before the rest of the role is told."""

    role_key = models.SlugField(_("role"), max_length=64, unique=True)
    ack_wait = models.DurationField(_("wait for the on-duty people"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("role notification policy")
        verbose_name_plural = _("role notification policies")

    def __str__(self):
        return f"{self.role_key}: {self.ack_wait}"


class LevelPolicy(models.Model):
    """How often an unanswered notification of a level is repeated, and how many times before escalating."""

    level_key = models.SlugField(_("level"), max_length=32, unique=True)
    repeat_every = models.DurationField(_("repeat every"))
    max_repeats = models.PositiveSmallIntegerField(_("repeats before telling the superior role"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("level notification policy")
        verbose_name_plural = _("level notification policies")

    def __str__(self):
        return f"{self.level_key}: {self.repeat_every} × {self.max_repeats}"


class Preference(models.Model):
    """A person's channels in priority order, and quiet hours that orange and red override."""

    person = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="notification_preference")
    channels = models.JSONField(_("channels in priority order"), default=list, blank=True,
                                help_text=_('For example ["sms", "email"]. Empty: email, then SMS.'))
    quiet_start = models.TimeField(_("quiet hours start"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours end"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self):
        return str(self.person)

    def clean(self):
        unknown = [c for c in self.channels or [] if c not in PERSONAL_KINDS]
        if unknown:
            raise ValidationError({"channels": [_("Unknown personal channels: %(names)s (use email, sms).")
                                                % {"names": ", ".join(map(str, unknown))}]})
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValidationError({"quiet_end": [_("Give both the start and the end of the quiet hours.")]})


class DutyShift(models.Model):
    """One shift of the duty roster (值班表): who answers first for a role between two times."""

    role_key = models.SlugField(_("role"), max_length=64)
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="duty_shifts",
                               verbose_name=_("person"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    handover_note = models.TextField(_("handover note"), blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["starts_at", "role_key"]
        verbose_name = _("duty shift")
        verbose_name_plural = _("duty roster")
        indexes = [models.Index(fields=["role_key", "starts_at", "ends_at"], name="shift_role_time")]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="shift_ends_after_start")]

    def __str__(self):
        return f"{self.role_key}: {self.person} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": [_("A shift ends after it starts.")]})


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    COALESCED = "coalesced", _("Sent within another message")
    CANCELLED = "cancelled", _("Cancelled")
    SUPPRESSED = "suppressed", _("Suppressed")


class Delivery(models.Model):
    """The outbox: one message through one channel, written with its notification."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=12, choices=ChannelKind.choices)
    channel = models.ForeignKey(ChannelConfig, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="deliveries")
    # The person's email or phone for personal channels; empty for robots.
    address = models.CharField(max_length=254, blank=True)
    idempotency_key = models.CharField(max_length=250, unique=True)
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A claim older than this belongs to a worker that died: the row may be claimed again.
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    coalesced_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self):
        return f"{self.kind} #{self.pk} ({self.status})"


class DeliveryAttempt(models.Model):
    """Every call to a provider, with its answer: errors come as HTTP 200 with a code in the body."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    channel = models.ForeignKey(ChannelConfig, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    ok = models.BooleanField(default=False)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.TextField(blank=True)
    error = models.TextField(blank=True)
    latency_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        indexes = [models.Index(fields=["channel", "at"], name="attempt_channel_at")]

    def __str__(self):
        return f"{'ok' if self.ok else 'error'} {self.http_status or ''} {self.at:%H:%M:%S}"


# --- announcements: the office tells the business departments the warning level (plan 4.1.3, 4.2.3) ---


class Announcement(BilingualMixin, models.Model):
    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT, related_name="announcements",
                                 verbose_name=_("incident"))
    level_key = models.SlugField(_("level"), max_length=32)
    text_en = models.TextField(_("text (English)"), blank=True)
    text_zh = models.TextField(_("text (Chinese)"), blank=True)
    created_at = models.DateTimeField(_("announced at"), default=timezone.now, db_index=True)
    # Null: Fenghuo announced it itself when the level started.
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("announced by"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        constraints = [
            # A level is announced automatically once per incident, however often the caller retries.
            models.UniqueConstraint(fields=["incident", "level_key"], condition=Q(created_by__isnull=True),
                                    name="one_automatic_announcement_per_level"),
            models.CheckConstraint(condition=~Q(text_en="") | ~Q(text_zh=""), name="announcement_has_text"),
        ]

    def __str__(self):
        return f"{self.level_key} announcement for incident #{self.incident_id}"

    @property
    def text(self):
        return self.localized("text")
