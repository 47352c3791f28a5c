from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/items/", views.notification_items, name="items"),
    path("notifications/bell/", views.bell, name="bell"),
    path("notifications/read/", views.mark_all_read, name="mark_all_read"),
    # The paths keep their "ack" (links already sent out carry them); the views say what they do.
    path("notifications/<int:pk>/ack/", views.confirm_read, name="confirm_read"),
    path("notifications/ack/<str:token>/", views.confirm_read_link, name="ack_link"),
    path("notifications/roster/", views.roster, name="roster"),
]
