"""Every endpoint under /api/v1/; each app contributes its own routes."""

from django.urls import include, path

urlpatterns = [
    path("", include("incidents.api_urls")),
    path("", include("notifications.api_urls")),
    path("", include("alerts.api_urls")),
]
