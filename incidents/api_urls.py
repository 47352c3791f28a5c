from rest_framework.routers import SimpleRouter

from .api import IncidentViewSet, ResponsePlanViewSet

router = SimpleRouter()
router.register("incidents", IncidentViewSet, basename="incident")
router.register("plans", ResponsePlanViewSet, basename="response-plan")

urlpatterns = router.urls
