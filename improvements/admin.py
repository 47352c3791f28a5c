"""Proposals are read in the admin, never edited there: their pages and API go through the services."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin_mixins import ReadOnlyMixin

from .models import Proposal


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "state", "reason", "incident", "proposed_by", "created_at", "decided_by", "decided_at",
                    "page_link")
    list_filter = ("state",)
    readonly_fields = ("incident", "reason", "draft", "state", "proposed_by", "created_at", "updated_at",
                       "submitted_at", "decided_by", "decided_at", "decision_note")

    @admin.display(description=_("page"))
    def page_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("proposal_detail", args=[obj.pk]), _("open"))
