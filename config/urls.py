from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from . import api_docs, health

urlpatterns = [
    path("", RedirectView.as_view(url="/dashboard/", permanent=False)),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin, a raw API answer).
    path("favicon.ico", RedirectView.as_view(url=static("fenghuo/favicon.svg"), permanent=False)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("people.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", api_docs.swagger_ui, name="swagger-ui"),
    path("api/redoc/", api_docs.redoc, name="redoc"),
    path("api/v1/", include("config.api_urls")),
    path("", include("incidents.urls")),
    path("", include("escalation.urls")),
    path("", include("notifications.urls")),
    path("", include("dashboard.urls")),
    path("", include("alerts.urls")),
    path("", include("reviews.urls")),
    path("", include("improvements.urls")),
    path("", include("external.urls")),
    path("", include("assets.urls")),
    path("", include("inspections.urls")),
    path("", include("evidence.urls")),
    path("", include("drills.urls")),
    path("", include("reports.urls")),
]

# Under /api/ a URL no route matches, or a request Django cannot read, is answered in JSON like every API refusal.
handler404 = "config.api.page_not_found"
handler400 = "config.api.bad_request"
handler403 = "config.api.permission_denied"
handler500 = "config.middleware.server_error"
