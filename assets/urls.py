"""This app's pages."""

from django.urls import path

from . import views

app_name = "assets"
urlpatterns = [path("assets/export.csv", views.export_csv, name="export_csv")]
