"""The register's CSV export (the admin links it; the API lists it as JSON)."""

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from people.access import reader_required

from .selectors import assets_list
from .services import assets_csv


@reader_required
@require_GET
def export_csv(request):
    response = HttpResponse(assets_csv(assets_list()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="assets.csv"'
    return response
