from django.urls import path

from . import views

app_name = "alerts"

urlpatterns = [
    path("alerts/storms/<int:pk>/", views.storm_detail, name="storm"),
    path("alerts/storms/<int:pk>/groups/<int:group_id>/split/", views.storm_group_split, name="storm_split"),
]
