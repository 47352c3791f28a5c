"""Request hygiene every page and API route needs around its view.

Bodies over the limit refused with 413, NUL bytes refused, a lost database as 503.
"""

import re
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

from core.http import content_length, drain_body

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# The monitoring hooks keep their own, lower body limit (alerts/api.py).
HOOKS_PREFIX = "/api/v1/alerts/"
# Adding a note may carry an attachment larger than the general limit: its page and API paths allow
# NOTE_BODY_MAX_BYTES (settings; deploy/nginx.conf has the same location).
NOTES_PATH = re.compile(r"^/(?:api/v1/)?incidents/[0-9]+/notes/$")
# An inspection photo may be up to INSPECTIONS_PHOTO_MAX_BYTES (inspections/photos.py).
PHOTOS_PATH = re.compile(r"^/(?:api/v1/)?inspections/(?:rounds/)?[0-9]+/(?:photos|submit)/$")


def body_limit(path):
    if NOTES_PATH.match(path):
        return settings.NOTE_BODY_MAX_BYTES
    if PHOTOS_PATH.match(path):
        return settings.INSPECTION_PHOTO_BODY_MAX_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class BodyLimitMiddleware:
    """A body announced as larger than DATA_UPLOAD_MAX_MEMORY_SIZE is answered 413, after draining it.

    Django itself would raise RequestDataTooBig (a 400) on the first read of such a body, and
    DRF's JSON parser reads the stream without any limit. The monitoring hooks keep their own,
    lower limit and their own response format (alerts/api.py), so they are left to themselves.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = body_limit(request.path)
        if limit is None or content_length(request) <= limit or request.path.startswith(HOOKS_PREFIX):
            return self.get_response(request)
        drain_body(request)
        if NOTES_PATH.match(request.path):
            message = _("The note with its attachment is larger than %(limit)d KiB; an attachment may be at most "
                        "%(max)d KiB.") % {"limit": limit // 1024,
                                          "max": settings.FENGHUO_NOTE_ATTACHMENT_MAX_BYTES // 1024}
        else:
            message = _("The request body is larger than %(limit)d KiB; send less at once.") % {"limit": limit // 1024}
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message, "code": "payload_too_large"}, status=413)
        return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


def _has_nul(querydict):
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in querydict.lists())


class RejectNulMiddleware:
    """A NUL byte in the path, query string or a form field is answered 400.

    PostgreSQL refuses NUL in text, so such input used to reach the database and answer 500
    (finding 7 of issue 13). No legitimate form or filter carries one. JSON bodies are the
    API's own business (the hooks already name the offending field).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or _has_nul(request.GET) or self._form_has_nul(request):
            message = _("The request contains a NUL character (%00), which no field accepts.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message, "code": "nul_character"}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _form_has_nul(request):
        if request.method != "POST" or not request.content_type.startswith(FORM_TYPES):
            return False
        try:
            # Reading body first keeps it readable for views that parse it themselves.
            request.body  # noqa: B018
            return _has_nul(request.POST)
        except Exception:  # noqa: BLE001 - a body Django cannot parse is the view's to refuse, as before
            return False


RETRY_AFTER_SECONDS = 5


class DatabaseUnavailableMiddleware:
    """Maps a lost database connection to 503: clients retry, monitoring sees an outage, not a bug.

    Django discards a broken connection at the end of the request (conn_health_checks), so the next
    request reconnects by itself once PostgreSQL is back: no process restart needed.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        return database_unavailable(request)


def database_unavailable(request):
    message = _("The database is unavailable; try again shortly.")
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message, "code": "database_unavailable"}, status=503)
    else:
        response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request):
    """handler500: a lost database met outside a view (a session or sign-in read in a middleware) is a 503 too.

    process_exception sees only a view's errors; Django turns an error raised in a middleware into this
    handler's answer, with the exception still being handled.
    """
    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        return database_unavailable(request)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Something went wrong on our side; it has been logged."),
                             "code": "server_error"}, status=500)
    return defaults.server_error(request)
