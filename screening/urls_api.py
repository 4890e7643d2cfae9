from django.urls import path
from rest_framework.routers import SimpleRouter

from screening.apis import (
    AgreementView,
    ConflictViewSet,
    DecisionViewSet,
    DedupActionViewSet,
    FullTextViewSet,
    ImportViewSet,
    NextRecordView,
    PrismaView,
    RecordViewSet,
    StageSettingsView,
)

# Mounted under /api/reviews/<int:review_pk>/ by reviewapp.urls_api.
router = SimpleRouter()
router.register("imports", ImportViewSet, basename="import")
router.register("records", RecordViewSet, basename="record")
router.register("dedup-actions", DedupActionViewSet, basename="dedup-action")
router.register("screening/decisions", DecisionViewSet, basename="screening-decision")
router.register("screening/conflicts", ConflictViewSet, basename="screening-conflict")
router.register("screening/full-texts", FullTextViewSet, basename="screening-fulltext")

urlpatterns = [
    *router.urls,
    path("screening/stages/<str:stage>/next/", NextRecordView.as_view(), name="screening-next"),
    path(
        "screening/stages/<str:stage>/settings/",
        StageSettingsView.as_view(),
        name="screening-settings",
    ),
    path("screening/agreement/", AgreementView.as_view(), name="screening-agreement"),
    path("screening/prisma/", PrismaView.as_view(), name="screening-prisma"),
]
