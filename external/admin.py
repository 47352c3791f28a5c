"""The directory is maintained here as well as on its pages; reports and call-outs are read here, written by the services."""

from django.contrib import admin

from core.admin_mixins import HistoryAdmin, ReadOnlyMixin

from .models import CallOut, Contact, ExternalReport, Party


class ContactInline(admin.TabularInline):
    model = Contact
    fields = ("name", "role", "phone", "mobile", "email", "position")
    extra = 1


@admin.register(Party)
class PartyAdmin(HistoryAdmin):
    list_display = ("key", "name_zh", "name_en", "kind", "arrival_within", "support_hours", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("key", "name_zh", "name_en", "contacts__name")
    inlines = [ContactInline]
    filter_horizontal = ("assets",)


@admin.register(ExternalReport)
class ExternalReportAdmin(ReadOnlyMixin, HistoryAdmin):
    list_display = ("incident", "party_key", "stage", "due_at", "sent_at", "channel", "reference")
    list_filter = ("party_key", "stage", "channel")


@admin.register(CallOut)
class CallOutAdmin(ReadOnlyMixin, HistoryAdmin):
    list_display = ("incident", "party", "ticket", "called_at", "promised_by", "arrived_at", "departed_at")
    list_filter = ("party",)
    list_select_related = ("party",)
