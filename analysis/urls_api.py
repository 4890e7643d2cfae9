# Mounted under /api/reviews/<int:review_pk>/ by reviewapp.urls_api.
from django.urls import path
from rest_framework.routers import SimpleRouter

from analysis.apis import AnalysisVersionView, AnalysisViewSet, GradeViewSet

router = SimpleRouter()
router.register("analyses", AnalysisViewSet, basename="analysis")
router.register("grades", GradeViewSet, basename="grade")

urlpatterns = [
    path("analysis-version/", AnalysisVersionView.as_view(), name="analysis-version"),
    *router.urls,
]
