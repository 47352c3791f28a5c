from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/read/", views.mark_all_read, name="mark_all_read"),
    path("notifications/<int:pk>/ack/", views.acknowledge, name="acknowledge"),
    path("notifications/ack/<str:token>/", views.acknowledge_link, name="ack_link"),
    path("notifications/roster/", views.roster, name="roster"),
]
