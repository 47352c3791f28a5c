"""This app's routes under /api/v1/."""

from django.urls import path

from . import api

urlpatterns = [
    path("parties/", api.parties, name="parties"),
    path("incidents/<int:pk>/external-reports/", api.external_reports, name="external-reports"),
    path("incidents/<int:pk>/callouts/", api.callouts, name="callouts"),
    path("callouts/<int:pk>/arrived/", api.callout_arrived, name="callout-arrived"),
    path("callouts/<int:pk>/departed/", api.callout_departed, name="callout-departed"),
]
