"""This app's pages: the review of one incident, its actions, the open actions list, the archive confirmation."""

from django.urls import path

from . import views

urlpatterns = [
    path("incidents/<int:pk>/review/", views.review_page, name="review_page"),
    path("incidents/<int:pk>/review/save/", views.review_save, name="review_save"),
    path("incidents/<int:pk>/review/<str:decision>/", views.review_decide, name="review_decide"),
    path("incidents/<int:pk>/actions/new/", views.action_add, name="action_add"),
    path("incidents/<int:pk>/archive/", views.archive_confirm, name="incident_archive"),
    path("actions/", views.actions_page, name="actions_page"),
    path("actions/<int:pk>/done/", views.action_done, name="action_done"),
    path("actions/<int:pk>/carry-over/", views.action_carry_over, name="action_carry_over"),
]
