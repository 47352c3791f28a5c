from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from .models import Alert, AlertGroup, Integration


@admin.register(Integration)
class IntegrationAdmin(SimpleHistoryAdmin):
    list_display = ("name", "kind", "enabled", "default_category", "default_level", "rate_limit_per_minute",
                    "last_received_at", "alerts_received", "incidents_opened", "requests_rejected")
    list_filter = ("kind", "enabled")
    search_fields = ("name",)
    readonly_fields = ("prefix", "created_at", "last_received_at", "alerts_received", "incidents_opened",
                       "requests_rejected")
    actions = ["rotate_token"]

    def save_model(self, request, obj, form, change):
        token = None if change else obj.set_new_token()
        super().save_model(request, obj, form, change)
        if token:
            self._show_token(request, obj, token)

    def _show_token(self, request, obj, token):
        messages.warning(request, _("Token for %(name)s, shown only this once: %(token)s") %
                         {"name": obj.name, "token": token})

    @admin.action(description=gettext_lazy("Issue a new token (the old one stops working)"))
    def rotate_token(self, request, queryset):
        for obj in queryset:
            token = obj.set_new_token()
            obj.save(update_fields=["prefix", "token_hash"])
            self._show_token(request, obj, token)


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("id", "integration", "summary", "status", "level_key", "category_key", "received_at",
                    "processed_at", "incident", "attempts")
    list_filter = ("integration", "status", ("processed_at", admin.EmptyFieldListFilter))
    search_fields = ("summary", "group_key", "fingerprint")
    raw_id_fields = ("incident",)
    list_select_related = ("integration", "incident")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AlertGroup)
class AlertGroupAdmin(admin.ModelAdmin):
    list_display = ("key", "integration", "incident")
    raw_id_fields = ("incident",)
    search_fields = ("key",)
