from rest_framework.routers import SimpleRouter

from extraction.apis import (
    ExtractionViewSet,
    FieldViewSet,
    FormViewSet,
    OutcomeViewSet,
    SectionViewSet,
)

# Mounted under /api/reviews/<int:review_pk>/ by reviewapp.urls_api.
router = SimpleRouter()
router.register("extraction-forms", FormViewSet, basename="extraction-form")
router.register("extraction-sections", SectionViewSet, basename="extraction-section")
router.register("extraction-fields", FieldViewSet, basename="extraction-field")
router.register("outcomes", OutcomeViewSet, basename="outcome")
router.register("extractions", ExtractionViewSet, basename="extraction")

urlpatterns = router.urls
