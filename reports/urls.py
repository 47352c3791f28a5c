"""This app's pages."""

from django.urls import path

from . import metrics, views

app_name = "reports"

urlpatterns = [
    path("metrics", metrics.metrics, name="metrics"),
    path("reports/", views.reports_page, name="page"),
    path("reports/<slug:key>.csv", views.chart_csv, name="csv"),
]
