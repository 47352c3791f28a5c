"""This app's routes under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import CoverageView, RoundViewSet, ScheduleViewSet

router = SimpleRouter()
router.register("inspection-schedules", ScheduleViewSet, basename="inspection-schedule")
router.register("inspections", RoundViewSet, basename="inspection")

# Before the router's routes: "coverage" is not a round id.
urlpatterns = [path("inspections/coverage/", CoverageView.as_view(), name="inspection-coverage")] + router.urls
