from django.urls import include, path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import SimpleRouter

from reviewapp.apis import MembershipViewSet, ReviewViewSet
from reviewapp.archive.apis import ArchiveAPI, ArchiveDownloadAPI

reviews = SimpleRouter()
reviews.register("reviews", ReviewViewSet, basename="review")

team = SimpleRouter()
team.register("members", MembershipViewSet, basename="member")

member_roles = MembershipViewSet.as_view({"post": "roles"})

# Each stage of the review owns its API routes, all under /api/reviews/<review_pk>/.
urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api_token"),
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
