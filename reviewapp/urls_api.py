from django.urls import include, path
from rest_framework.routers import SimpleRouter

from reviewapp.apis import (
    ApiTokenViewSet,
    InvitationAcceptView,
    InvitationViewSet,
    MembershipViewSet,
    ObtainTokenView,
    ReviewViewSet,
)
from reviewapp.archive.apis import ArchiveAPI, ArchiveDownloadAPI

reviews = SimpleRouter()
reviews.register("reviews", ReviewViewSet, basename="review")

tokens = SimpleRouter()
tokens.register("auth/tokens", ApiTokenViewSet, basename="api-token")

team = SimpleRouter()
team.register("members", MembershipViewSet, basename="member")
team.register("invitations", InvitationViewSet, basename="invitation")

member_roles = MembershipViewSet.as_view({"post": "roles"})

# Each stage of the review owns its API routes, all under /api/reviews/<review_pk>/.
urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api_token"),
    path("", include(tokens.urls)),
    path("invitations/accept/", InvitationAcceptView.as_view(), name="invitation-accept"),
    path("", include(reviews.urls)),
    path("reviews/<int:review_pk>/", include(team.urls)),
    path("reviews/<int:review_pk>/archive/", ArchiveAPI.as_view(), name="review-archive"),
    path(
        "reviews/<int:review_pk>/archive/download/",
        ArchiveDownloadAPI.as_view(),
        name="review-archive-download",
    ),
    path(
        "reviews/<int:review_pk>/members/<int:pk>/roles/",
        member_roles,
        name="member-roles",
    ),
    path("reviews/<int:review_pk>/", include("screening.urls_api")),
    path("reviews/<int:review_pk>/", include("extraction.urls_api")),
    path("reviews/<int:review_pk>/", include("extraction.rob.urls_api")),
    path("reviews/<int:review_pk>/", include("analysis.urls_api")),
]
