"""Every endpoint under /api/v1/; each app contributes its own routes."""

from django.urls import include, path

urlpatterns = [
    # First: the monitoring webhooks are the busiest routes, and Django tries patterns in order.
    path("", include("alerts.api_urls")),
    path("", include("incidents.api_urls")),
    path("", include("notifications.api_urls")),
    path("", include("reviews.api_urls")),
    path("", include("improvements.api_urls")),
    path("", include("external.api_urls")),
    path("", include("assets.api_urls")),
    path("", include("inspections.api_urls")),
    path("", include("evidence.api_urls")),
    path("", include("drills.api_urls")),
    path("", include("reports.api_urls")),
]
