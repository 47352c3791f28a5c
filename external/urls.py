"""This app's pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("external/parties/", views.party_list, name="external_parties"),
    path("external/parties/new/", views.party_new, name="external_party_new"),
    path("external/parties/<slug:key>/", views.party_detail, name="external_party"),
    path("incidents/<int:pk>/external/", views.incident_external, name="external_incident"),
    path("incidents/<int:pk>/external/<slug:party_key>/<slug:stage>/", views.report_form, name="external_report"),
    path("external/callouts/<int:pk>/<slug:what>/", views.callout_moved, name="external_callout_moved"),
]
