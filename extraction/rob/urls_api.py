from rest_framework.routers import SimpleRouter

from extraction.rob.apis import RobAssessmentViewSet, RobToolViewSet

# Mounted under /api/reviews/<int:review_pk>/ by reviewapp.urls_api.
router = SimpleRouter()
router.register("rob/tools", RobToolViewSet, basename="rob-tool")
router.register("rob/assessments", RobAssessmentViewSet, basename="rob-assessment")

urlpatterns = router.urls
