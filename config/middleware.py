"""A database that is down answers 503 with Retry-After, never 500 (docs/reliability.md)."""

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

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
        message = _("The database is unavailable; try again shortly.")
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": message, "code": "database_unavailable"}, status=503)
        else:
            response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
