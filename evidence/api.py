"""GET /api/v1/incidents/{id}/export?format=pdf|docx: the evidence pack as a file, in the caller's language.

``format`` is the pack's file format here, not DRF's renderer override: the
view's content negotiation ignores it, so a bad value is a 400 naming
``format`` rather than DRF's 404 for an unknown renderer. Refusals stay JSON.
"""

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.generics import get_object_or_404
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from incidents.models import Incident

from .formats import FORMATS


class JsonForRefusals(DefaultContentNegotiation):
    """The file is an HttpResponse of its own type; anything DRF renders (a refusal) is JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return JSONRenderer(), JSONRenderer.media_type


class IncidentExport(APIView):
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonForRefusals

    @extend_schema(
        summary="The incident's evidence pack",
        description="A PDF or Word document in the caller's language: the incident's facts, the review, the full "
                    "timeline, deadlines met and missed, response plans and decisions, notifications sent and "
                    "confirmed, and the timeline hash chain's final hash. `X-Content-SHA256` carries the file's "
                    "SHA-256; `X-Evidence-Content-Digest` the content digest printed on its last page "
                    "(docs/evidence.md). 400 names `format` when it is missing or not pdf or docx.",
        parameters=[OpenApiParameter("format", str, enum=list(FORMATS), required=True)],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The evidence pack."),
            (200, FORMATS["docx"]): OpenApiResponse(OpenApiTypes.BINARY, description="The evidence pack."),
        },
    )
    def get(self, request, pk):
        file_format = request.query_params.get("format", "")
        if file_format not in FORMATS:
            raise exceptions.ValidationError({"format": [
                _("choose pdf or docx, e.g. ?format=pdf") if not file_format else
                _("%(given)s is not a format of the evidence pack; choose pdf or docx") % {"given": file_format}]})
        incident = get_object_or_404(Incident.objects.all(), pk=pk)
        from . import pack  # the renderers load on the first export, not at start-up

        exported = pack.export(incident, file_format=file_format, generated_by=request.user.display_name)
        response = HttpResponse(exported.data, content_type=exported.content_type)
        response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
        response["X-Content-SHA256"] = exported.sha256
        response["X-Evidence-Content-Digest"] = exported.content_digest
        response["Cache-Control"] = "no-store"
        return response
