from django.urls import path

from . import action_views, views

urlpatterns = [
    path("incidents/", views.incident_list, name="incident_list"),
    path("incidents/rows/", views.incident_rows, name="incident_rows"),
    path("incidents/new/", views.incident_new, name="incident_new"),
    path("incidents/new/preview/", views.incident_new_preview, name="incident_new_preview"),
    path("incidents/mine/", views.incident_mine, name="incident_mine"),
    # /incidents/<pk>/ is routed by dashboard/urls.py, which adds the monitoring state (alerts) to this app's page.
    path("incidents/<int:pk>/act/<slug:action>/", action_views.incident_act, name="incident_act"),
    path("incidents/<int:pk>/notes/", action_views.incident_add_note, name="incident_add_note"),
    path("incidents/<int:pk>/notes/attachments/<int:aid>/", action_views.incident_note_attachment,
         name="incident_note_attachment"),
]
