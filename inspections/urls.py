"""This app's pages."""

from django.urls import path

from . import views

app_name = "inspections"
urlpatterns = [
    path("inspections/", views.today, name="today"),
    path("inspections/rounds/<int:pk>/", views.walk, name="round"),
    path("inspections/rounds/<int:pk>/submit/", views.submit, name="submit"),
    path("inspections/findings/<int:pk>/", views.finding, name="finding"),
    path("inspections/photos/<int:pk>/", views.photo, name="photo"),
    path("inspections/coverage/", views.coverage, name="coverage"),
    path("inspections/assets/<str:tag>/", views.asset_history, name="asset"),
]
