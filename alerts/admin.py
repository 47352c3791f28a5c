from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.admin_mixins import HistoryAdmin, ReadOnlyMixin

from .integrations import (STORM_FIELDS, integration_create, integration_creation_errors, integration_disable,
                           integration_rotate_token)
from .models import Alert, AlertGroup, Integration


class IntegrationForm(forms.ModelForm):
    """A new integration is checked by the same rules as integration_create (a category of the active plan...)."""

    class Meta:
        model = Integration
        fields = "__all__"

    def clean_group_by(self):
        return self.cleaned_data.get("group_by") or []  # left empty: the source's own grouping

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            errors = integration_creation_errors(name=cleaned.get("name", ""),
                                                 default_category=cleaned.get("default_category", ""),
                                                 default_level=cleaned.get("default_level", ""))
            for field, messages_ in errors.items():
                self.add_error(field if field in self.fields else None, messages_)
        return cleaned


@admin.register(Integration)
class IntegrationAdmin(HistoryAdmin):
    """Name and settings are edited here; the token only changes through "Issue a new token".

    An integration that has sent alerts is never deleted (its alerts are the
    record of what monitoring said, and the database protects them): it is
    disabled instead.
    """

    list_display = ("name", "kind", "enabled", "default_category", "default_level", "rate_limit_per_minute",
                    "storm_threshold", "last_received_at", "alerts_received", "incidents_opened", "requests_rejected")
    list_filter = ("kind", "enabled")
    search_fields = ("name",)
    readonly_fields = ("prefix", "created_at", "last_received_at", "alerts_received", "incidents_opened",
                       "requests_rejected")
    actions = ["rotate_token", "disable"]
    form = IntegrationForm

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.alerts.exists() or obj.groups.exists()):
            return False
        return super().has_delete_permission(request, obj)

    def has_change_history_permission(self, request, obj=None):
        # A revert would write an old token hash back and revive a token rotated away.
        return False

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # Created through the service, as every other integration is; the admin then shows the saved row.
        created, token = integration_create(name=obj.name, kind=obj.kind, default_category=obj.default_category,
                                            default_level=obj.default_level,
                                            rate_limit_per_minute=obj.rate_limit_per_minute,
                                            group_by=obj.group_by, group_window=obj.group_window,
                                            storm={field: getattr(obj, field) for field in STORM_FIELDS})
        obj.pk, obj.prefix, obj.token_hash = created.pk, created.prefix, created.token_hash
        obj._state.adding = False
        if obj.enabled != created.enabled:
            Integration.objects.filter(pk=created.pk).update(enabled=obj.enabled)
        self._show_token(request, obj, token)

    def _show_token(self, request, obj, token):
        messages.warning(request, _("Token for %(name)s, shown only this once: %(token)s") %
                         {"name": obj.name, "token": token})

    @admin.action(description=gettext_lazy("Issue a new token (the old one stops working)"),
                  permissions=["change"])
    def rotate_token(self, request, queryset):
        for obj in queryset:
            obj, token = integration_rotate_token(integration=obj, by=request.user)
            self.log_change(request, obj, _("Issued a new token; the old one stopped working."))
            self._show_token(request, obj, token)

    @admin.action(description=gettext_lazy("Disable (refuse their alerts from now on)"), permissions=["change"])
    def disable(self, request, queryset):
        for obj in queryset.filter(enabled=True):
            obj = integration_disable(integration=obj, by=request.user)
            self.log_change(request, obj, _("Disabled."))
            self.message_user(request, _("%(name)s is disabled: its deliveries are refused with 403.")
                              % {"name": obj.name}, messages.SUCCESS)


@admin.register(Alert)
class AlertAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "integration", "summary", "status", "level_key", "category_key", "received_at",
                    "processed_at", "incident", "attempts")
    list_filter = ("integration", "status", ("processed_at", admin.EmptyFieldListFilter))
    search_fields = ("summary", "group_key", "fingerprint")
    list_select_related = ("integration", "incident")


@admin.register(AlertGroup)
class AlertGroupAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("key", "integration", "incident")
    search_fields = ("key",)
