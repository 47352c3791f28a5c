from django.urls import path

from . import api, storm_api

urlpatterns = [
    path("alerts/alertmanager", api.AlertmanagerWebhook.as_view(), name="alerts-alertmanager"),
    path("alerts/events", api.EventsApi.as_view(), name="alerts-events"),
    path("alerts/generic", api.GenericWebhook.as_view(), name="alerts-generic"),
    path("alerts/storms/<int:pk>/", storm_api.StormDetail.as_view(), name="alerts-storm"),
    path("alerts/storms/<int:pk>/groups/<int:group_id>/split/", storm_api.StormGroupSplit.as_view(),
         name="alerts-storm-split"),
]
