"""Admin: channels (refused when misconfigured), the duty roster and policies are edited here; notifications,
deliveries and their attempts are what happened, and are only read."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin_mixins import HistoryAdmin, ReadOnlyInline, ReadOnlyMixin

from .models import (
    ChannelConfig,
    Delivery,
    DeliveryAttempt,
    DutyShift,
    LevelPolicy,
    Notification,
    Preference,
    RolePolicy,
)


class ChannelConfigForm(forms.ModelForm):
    """Secrets are never shown back; leaving the field empty keeps the stored one."""

    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    secret = forms.CharField(label=_("secret"), required=False, widget=forms.PasswordInput(render_value=False),
                             help_text=ChannelConfig._meta.get_field("secret").help_text)

    class Meta:
        model = ChannelConfig
        fields = ["name", "kind", "url", "secret", "role_key", "language", "per_minute", "is_active"]

    def clean_secret(self):
        secret = self.cleaned_data.get("secret", "")
        if not secret and self.instance.pk:
            return self.instance.secret
        return secret


@admin.register(ChannelConfig)
class ChannelConfigAdmin(HistoryAdmin):
    form = ChannelConfigForm
    list_display = ["name", "kind", "role_key", "is_active", "per_minute"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "role_key"]


@admin.register(DutyShift)
class DutyShiftAdmin(HistoryAdmin):
    list_display = ["role_key", "person", "starts_at", "ends_at"]
    list_filter = ["role_key"]
    date_hierarchy = "starts_at"
    autocomplete_fields = ["person"]
    search_fields = ["role_key", "person__username", "person__full_name"]


admin.site.register(RolePolicy, HistoryAdmin, list_display=["role_key", "ack_wait"])
admin.site.register(LevelPolicy, HistoryAdmin, list_display=["level_key", "repeat_every", "max_repeats"])


@admin.register(Preference)
class PreferenceAdmin(HistoryAdmin):
    list_display = ["person", "channels", "quiet_start", "quiet_end"]
    autocomplete_fields = ["person"]


class DeliveryAttemptInline(ReadOnlyInline, admin.TabularInline):
    model = DeliveryAttempt
    fields = readonly_fields = ["at", "ok", "http_status", "error", "response", "latency_ms"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "kind", "channel", "address", "status", "attempts", "next_attempt_at", "sent_at",
                    "last_error"]
    list_filter = ["status", "kind"]
    search_fields = ["idempotency_key", "address"]
    inlines = [DeliveryAttemptInline]


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["at", "delivery", "channel", "ok", "http_status", "error", "provider_answer", "latency_ms"]
    list_filter = ["ok", "channel"]

    @admin.display(description=_("provider's answer"))
    def provider_answer(self, obj):
        return obj.response[:200]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "person", "role_key", "ask", "level_key", "is_drill", "title", "acknowledged_at"]
    list_filter = ["ask", "level_key", "is_drill"]
    search_fields = ["title", "dedup_key", "person__username"]
