"""Checklists and schedules are kept in the admin; rounds and answers are shown, written only by the services."""

from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_mixins import ReadOnlyInline, ReadOnlyMixin

from . import services
from .models import CheckItem, ChecklistTemplate, Result, Round, Schedule, ScheduleAsset


class CheckItemInline(admin.TabularInline):
    model = CheckItem
    extra = 1
    fields = ("position", "key", "type", "label_zh", "label_en", "unit", "min_value", "max_value", "required")


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(admin.ModelAdmin):
    list_display = ("asset_kind", "name_zh", "name_en")
    inlines = [CheckItemInline]


class ScheduleAssetInline(admin.TabularInline):
    model = ScheduleAsset
    extra = 1
    autocomplete_fields = ["asset"]


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ("name", "role_key", "every", "first_due_at", "grace", "window_start", "window_end", "active",
                    "generated_until")
    list_filter = ("active", "role_key")
    inlines = [ScheduleAssetInline]
    readonly_fields = ("generated_until",)
    actions = ["stop"]

    @admin.action(description=_("Stop: withdraw the rounds not yet due"))
    def stop(self, request, queryset):
        withdrawn = sum(services.schedule_stop(schedule, actor=request.user) for schedule in queryset)
        self.message_user(request, gettext("%(n)d future round(s) withdrawn.") % {"n": withdrawn})


class ResultInline(ReadOnlyInline, admin.TabularInline):
    model = Result
    fields = ("asset", "check_key", "ok", "value", "out_of_range", "text", "note", "photo", "answered_by",
              "answered_at", "incident", "remediation_action")
    readonly_fields = fields


@admin.register(Round)
class RoundAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("schedule", "due_at", "role_key", "status", "submitted_at", "submitted_by", "missed_at")
    list_filter = ("status", "role_key", "schedule")
    date_hierarchy = "due_at"
    list_select_related = ("schedule", "submitted_by")
    inlines = [ResultInline]

    def has_delete_permission(self, request, obj=None):
        return False
