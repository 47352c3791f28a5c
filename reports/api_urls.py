"""This app's routes under /api/v1/."""

from django.urls import path

from . import api

urlpatterns = [
    path("reports/summary/", api.Summary.as_view(), name="reports-summary"),
]
