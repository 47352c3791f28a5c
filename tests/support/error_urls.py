"""The site's URLs plus views that fail on purpose, for the error page tests (tests/test_error_pages.py)."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from config import urls


def boom(request):
    raise RuntimeError("a bug: this view always fails")


def forbidden(request):
    raise PermissionDenied("a page this person may not see")


def unreadable(request):
    raise SuspiciousOperation("a request Django cannot trust")


urlpatterns = [
    path("test-errors/500/", boom),
    path("test-errors/403/", forbidden),
    path("test-errors/400/", unreadable),
    path("api/test-errors/403/", forbidden),
    *urls.urlpatterns,
]
handler400 = urls.handler400
handler403 = urls.handler403
handler404 = urls.handler404
handler500 = urls.handler500
