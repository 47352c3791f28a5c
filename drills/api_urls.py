"""This app's routes under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import DrillViewSet, ReadinessView, TrainingViewSet

router = SimpleRouter()
router.register("drills", DrillViewSet, basename="drill")
router.register("trainings", TrainingViewSet, basename="training")

urlpatterns = [path("readiness/", ReadinessView.as_view(), name="readiness-api"), *router.urls]
