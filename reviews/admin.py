"""Reviews and remediation actions in the admin: read and audit. Changes go through the review page or the API
(the services), which refuse an archived incident; here nothing is added, changed or deleted."""

from django.contrib import admin

from core.admin_mixins import HistoryAdmin, ReadOnlyMixin

from .models import Action, Review


@admin.register(Review)
class ReviewAdmin(ReadOnlyMixin, HistoryAdmin):
    list_display = ("incident", "status", "drafted_at", "submitted_by", "approved_by", "approved_at")
    list_filter = ("status",)
    list_select_related = ("incident", "submitted_by", "approved_by")


@admin.register(Action)
class ActionAdmin(ReadOnlyMixin, HistoryAdmin):
    list_display = ("id", "incident", "asset", "title", "owner", "due_at", "status", "closed_at")
    list_filter = ("status",)
    list_select_related = ("incident", "asset", "owner")
    search_fields = ("title",)
