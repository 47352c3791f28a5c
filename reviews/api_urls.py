"""This app's routes under /api/v1/ (the archive itself is the incident's: POST incidents/{id}/archive/)."""

from django.urls import path

from . import api

urlpatterns = [
    path("incidents/<int:pk>/review/", api.ReviewView.as_view(), name="api-review"),
    path("incidents/<int:pk>/review/submit/", api.ReviewSubmitView.as_view(), name="api-review-submit"),
    path("incidents/<int:pk>/review/approve/", api.ReviewApproveView.as_view(), name="api-review-approve"),
    path("incidents/<int:pk>/review/return/", api.ReviewReturnView.as_view(), name="api-review-return"),
    path("incidents/<int:pk>/actions/", api.IncidentActionsView.as_view(), name="api-incident-actions"),
    path("actions/", api.ActionListView.as_view(), name="api-actions"),
    path("actions/<int:pk>/", api.ActionView.as_view(), name="api-action"),
    path("actions/<int:pk>/done/", api.ActionDoneView.as_view(), name="api-action-done"),
    path("actions/<int:pk>/carry-over/", api.ActionCarryOverView.as_view(), name="api-action-carry-over"),
]
