"""This app's routes under /api/v1/."""

from rest_framework.routers import SimpleRouter

from .api import ProposalViewSet

router = SimpleRouter()
router.register("plan-proposals", ProposalViewSet, basename="plan-proposal")

urlpatterns = router.urls
