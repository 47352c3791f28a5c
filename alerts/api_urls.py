from django.urls import path

from . import api

urlpatterns = [
    path("alerts/alertmanager", api.AlertmanagerWebhook.as_view(), name="alerts-alertmanager"),
    path("alerts/events", api.EventsApi.as_view(), name="alerts-events"),
    path("alerts/generic", api.GenericWebhook.as_view(), name="alerts-generic"),
]
