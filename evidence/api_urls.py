"""This app's routes under /api/v1/."""

from django.urls import path, re_path

from .api import IncidentExport

urlpatterns = [
    # As the spec writes it, without a trailing slash; with one too.
    re_path(r"^incidents/(?P<pk>[0-9]{1,18})/export/?$", IncidentExport.as_view(), name="evidence-export"),
]
