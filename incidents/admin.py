"""Incidents in the admin: read and audit. Changes go through the incident page or the API (the services)."""

from django.contrib import admin

from core.admin_mixins import HistoryAdmin, ReadOnlyInline, ReadOnlyMixin

from .models import Incident, ResponsePlan, TimelineEntry


class TimelineInline(ReadOnlyInline, admin.TabularInline):
    model = TimelineEntry
    fields = ("at", "kind", "actor", "actor_label", "detail")
    readonly_fields = fields


@admin.register(Incident)
class IncidentAdmin(ReadOnlyMixin, HistoryAdmin):
    list_display = ("id", "title", "category", "level", "status", "is_drill", "opened_at", "resolved_at")
    list_filter = ("status", "is_drill", "category__key", "level__key")
    search_fields = ("title", "description")
    list_select_related = ("category", "level")
    inlines = [TimelineInline]


@admin.register(ResponsePlan)
class ResponsePlanAdmin(ReadOnlyMixin, HistoryAdmin):
    list_display = ("id", "incident", "status", "approver_role_key", "proposed_by", "decided_by", "decided_at")
    list_filter = ("status",)


@admin.register(TimelineEntry)
class TimelineEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("at", "incident", "kind", "actor", "actor_label")
    list_filter = ("kind",)
    list_select_related = ("incident", "actor")
