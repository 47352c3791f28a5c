"""This app's pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("plan/proposals/", views.proposal_list, name="proposal_list"),
    path("plan/proposals/new/", views.proposal_new, name="proposal_new"),
    path("plan/proposals/<int:pk>/", views.proposal_detail, name="proposal_detail"),
    path("plan/proposals/<int:pk>/diff/", views.proposal_diff, name="proposal_diff"),
    path("plan/proposals/<int:pk>/plan/", views.plan_text, name="proposal_plan_text"),
    path("plan/proposals/<int:pk>/cells/<slug:category>/<slug:level>/", views.cell_edit, name="proposal_cell"),
    path("plan/proposals/<int:pk>/<str:step>/", views.proposal_step, name="proposal_step"),
]
