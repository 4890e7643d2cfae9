from rest_framework.routers import SimpleRouter

from screening.apis import DedupActionViewSet, ImportViewSet, RecordViewSet

# Mounted under /api/reviews/<int:review_pk>/ by reviewapp.urls_api.
router = SimpleRouter()
router.register("imports", ImportViewSet, basename="import")
router.register("records", RecordViewSet, basename="record")
router.register("dedup-actions", DedupActionViewSet, basename="dedup-action")

urlpatterns = router.urls
