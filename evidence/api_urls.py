"""This app's routes under /api/v1/."""

from django.urls import path

from .api import IncidentExport

urlpatterns = [
    # As the spec writes it: no trailing slash (it names a file, not a collection).
    path("incidents/<int:pk>/export", IncidentExport.as_view(), name="evidence-export"),
]
