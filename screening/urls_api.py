from django.urls import path
from rest_framework.routers import SimpleRouter

from screening.apis import (
    AgreementView,
    ConflictViewSet,
    DecisionViewSet,
    DedupActionViewSet,
    FullTextViewSet,
    ImportViewSet,
    LeaseView,
    NextRecordView,
    PossibleDuplicateViewSet,
    PrismaView,
    RankingRetrainView,
    RankingView,
    RecordViewSet,
    StageSettingsView,
    StopSampleView,
)

# Mounted under /api/reviews/<int:review_pk>/ by reviewapp.urls_api.
router = SimpleRouter()
router.register("imports", ImportViewSet, basename="import")
router.register("records", RecordViewSet, basename="record")
router.register("dedup-actions", DedupActionViewSet, basename="dedup-action")
router.register("possible-duplicates", PossibleDuplicateViewSet, basename="possible-duplicate")
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
    path("screening/stages/<str:stage>/lease/", LeaseView.as_view(), name="screening-lease"),
    path("screening/stages/<str:stage>/ranking/", RankingView.as_view(), name="screening-ranking"),
    path(
        "screening/stages/<str:stage>/ranking/retrain/",
        RankingRetrainView.as_view(),
        name="screening-ranking-retrain",
    ),
    path(
        "screening/stages/<str:stage>/stop-sample/",
        StopSampleView.as_view(),
        name="screening-stop-sample",
    ),
    path("screening/agreement/", AgreementView.as_view(), name="screening-agreement"),
    path("screening/prisma/", PrismaView.as_view(), name="screening-prisma"),
]
