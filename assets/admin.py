"""The register in the admin: edit assets one by one, import a CSV (the same checks as importassets), export."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_mixins import HistoryAdmin
from plan.models import PlanVersion

from . import services
from .models import Asset


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"),
                           help_text=_("Header: tag,name,kind,category,core,location,owner_role (UTF-8)."))


def export_response(queryset) -> HttpResponse:
    response = HttpResponse(services.assets_csv(queryset), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="assets.csv"'
    return response


@admin.register(Asset)
class AssetAdmin(HistoryAdmin):
    list_display = ("tag", "name", "kind", "category", "core", "location", "owner_role", "vendor", "retired")
    list_filter = ("kind", "category", "core", "retired", "room")
    search_fields = ("tag", "name", "room", "rack", "vendor")
    actions = ["export_csv"]
    change_list_template = "admin/assets/asset/change_list.html"

    def get_urls(self):
        return [path("import/", self.admin_site.admin_view(self.import_view), name="assets_asset_import")] \
            + super().get_urls()

    @admin.action(description=_("Export the selected assets as CSV"))
    def export_csv(self, request, queryset):
        return export_response(queryset.order_by("tag"))

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            return redirect("admin:assets_asset_changelist")
        errors: list[str] = []
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                text = form.cleaned_data["file"].read().decode("utf-8")
            except UnicodeDecodeError:
                errors = [gettext("The file is not UTF-8 text; save the CSV as UTF-8.")]
            else:
                version = PlanVersion.objects.filter(is_active=True).first()
                known = set(version.roles.values_list("key", flat=True)) if version else None
                try:
                    result = services.assets_import(services.read_assets_csv(text, known_roles=known),
                                                    actor=request.user)  # type: ignore[arg-type]
                except services.AssetFileError as exc:
                    errors = exc.errors
                else:
                    self.message_user(request, gettext("%(created)d created, %(updated)d updated, %(unchanged)d "
                                                       "unchanged.") % result, messages.SUCCESS)
                    return redirect("admin:assets_asset_changelist")
        return TemplateResponse(request, "admin/assets/asset/import.html", {
            **self.admin_site.each_context(request), "form": form, "errors": errors, "opts": self.model._meta,
            "title": gettext("Import assets from CSV"),
        })
