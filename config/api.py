"""API-wide error handling: every error is JSON a person can act on, never a 500 for bad input.

Two shapes, both in the schema (core/schema.py): field errors, ``{"field": ["message", ...]}``, and
every other refusal, ``{"detail": "message", "code": "stable_code"}``.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import Refused


def exception_handler(exc, context):
    if isinstance(exc, Refused):
        return Response({"detail": str(exc.message), "code": exc.code}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response({"non_field_errors": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        if not isinstance(response.data, dict):  # raised with a bare message or list, outside a serializer
            response.data = {"non_field_errors": response.data}
    elif isinstance(exc, exceptions.APIException) and isinstance(exc.detail, str):
        response.data = {"detail": str(exc.detail), "code": exc.detail.code or exc.default_code}
        if isinstance(exc, exceptions.Throttled) and "Retry-After" not in response:
            # DRF leaves it out when it cannot tell; a second is a safe lower bound (the next 429 says more).
            response["Retry-After"] = "1"
    return response


def _outside_views(status_code, code, message, default_view):
    def view(request, exception=None, **kwargs):
        """Django's own refusals (no route matched, a request it cannot read) in the API's error shape under /api/."""
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": str(message), "code": code}, status=status_code)
        return default_view(request, exception, **kwargs)
    return view


page_not_found = _outside_views(404, "not_found", exceptions.NotFound.default_detail, defaults.page_not_found)
bad_request = _outside_views(400, "bad_request", _("The request could not be read."), defaults.bad_request)
permission_denied = _outside_views(403, "permission_denied", exceptions.PermissionDenied.default_detail,
                                   defaults.permission_denied)
