from django.urls import include, path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import SimpleRouter

from reviewapp.apis import MembershipViewSet, ReviewViewSet
from screening.apis import DedupActionViewSet, ImportViewSet, RecordViewSet

reviews = SimpleRouter()
reviews.register("reviews", ReviewViewSet, basename="review")

scoped = SimpleRouter()
scoped.register("members", MembershipViewSet, basename="member")
scoped.register("imports", ImportViewSet, basename="import")
scoped.register("records", RecordViewSet, basename="record")
scoped.register("dedup-actions", DedupActionViewSet, basename="dedup-action")

member_roles = MembershipViewSet.as_view({"post": "roles"})

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api_token"),
    path("", include(reviews.urls)),
    path("reviews/<int:review_pk>/", include(scoped.urls)),
    path(
        "reviews/<int:review_pk>/members/<int:pk>/roles/",
        member_roles,
        name="member-roles",
    ),
]
