"""This app's pages."""

from django.urls import path

from . import views

app_name = "drills"

urlpatterns = [
    path("drills/", views.drill_list, name="list"),
    path("drills/<int:pk>/", views.drill_detail, name="detail"),
    path("drills/<int:pk>/scorecard.pdf", views.drill_scorecard_pdf, name="scorecard_pdf"),
    path("drills/<int:pk>/<slug:what>/", views.drill_act, name="act"),
    path("trainings/", views.training_list, name="trainings"),
    path("trainings/<int:pk>/", views.training_detail, name="training"),
    path("trainings/<int:pk>/material/", views.training_material, name="training_material"),
    path("readiness/", views.readiness_page, name="readiness"),
    path("readiness.csv", views.readiness_csv, name="readiness_csv"),
]
