"""Plan versions are read and compared here, never edited: a new version is loaded from a file."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin_mixins import HistoryAdmin, ReadOnlyMixin

from .models import PlanVersion
from .services import activate_version, cells, diff_versions, export_version


@admin.register(PlanVersion)
class PlanVersionAdmin(ReadOnlyMixin, HistoryAdmin):
    list_display = ("number", "name_zh", "name_en", "is_active", "is_draft", "loaded_at", "proposed_by", "approved_by",
                    "approved_at", "read_link")
    list_filter = ("is_active", "is_draft", "origin")
    readonly_fields = ("number", "name_en", "name_zh", "is_active", "is_draft", "loaded_at", "loaded_by", "source",
                       "source_sha256", "origin", "operator", "based_on", "proposed_by", "proposed_at", "approved_by",
                       "approved_at", "reason")
    change_form_template = "admin/plan/planversion/change_form.html"
    actions = ["compare_two"]

    def has_activate_permission(self, request):
        """Making a version active changes every response from then on: it takes the right to change versions."""
        return request.user.has_perm("plan.change_planversion")

    @admin.display(description=_("read"))
    def read_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:plan_planversion_read", args=[obj.pk]), _("read"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_activate": self.has_activate_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path("<int:pk>/read/", self.admin_site.admin_view(self.read_view), name="plan_planversion_read"),
            path("compare/<int:old>/<int:new>/", self.admin_site.admin_view(self.compare_view),
                 name="plan_planversion_compare"),
            path("<int:pk>/activate/", self.admin_site.admin_view(self.activate_view),
                 name="plan_planversion_activate"),
        ] + super().get_urls()

    def read_view(self, request, pk):
        version = get_object_or_404(PlanVersion, pk=pk)
        by_category = {}
        for cell in cells(version).order_by("category__position", "-level__rank"):
            by_category.setdefault(cell.category, []).append(cell)
        context = {
            **self.admin_site.each_context(request), "title": str(version), "version": version,
            "roles": version.roles.select_related("reports_to"), "by_category": by_category,
            "export": export_version(version), "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/plan/planversion/read.html", context)

    def compare_view(self, request, old, new):
        older = get_object_or_404(PlanVersion, number=old)
        newer = get_object_or_404(PlanVersion, number=new)
        context = {
            **self.admin_site.each_context(request), "title": _("Compare plan versions"), "old": older,
            "new": newer, "diff": diff_versions(older, new=newer), "opts": self.model._meta,
            "versions": PlanVersion.objects.all(),
        }
        return TemplateResponse(request, "admin/plan/planversion/compare.html", context)

    def activate_view(self, request, pk):
        version = get_object_or_404(PlanVersion, pk=pk)
        if not self.has_activate_permission(request):
            raise PermissionDenied
        if request.method == "POST" and version.is_draft:
            messages.error(request, _("A draft becomes active only when its proposal is approved."))
        elif request.method == "POST":
            activate_version(version, by=request.user)
            messages.success(request, _("Plan version %(n)s is now active.") % {"n": version.number})
        return redirect("admin:plan_planversion_change", pk)

    @admin.action(description=_("Compare the two selected versions"))
    def compare_two(self, request, queryset):
        chosen = list(queryset.order_by("number"))
        if len(chosen) != 2:
            self.message_user(request, _("Select exactly two versions to compare."), messages.ERROR)
            return None
        return redirect("admin:plan_planversion_compare", chosen[0].number, chosen[1].number)
