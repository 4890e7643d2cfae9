"""API for reviews and teams. Thin: serializers validate, services write."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from reviewapp import selectors, services
from reviewapp.common.permissions import ReviewScopedAPIMixin, review_access
from reviewapp.models import Invitation, Membership, Review, Role
from reviewapp.serializers import (
    InvitationSentSerializer,
    InviteSerializer,
    MembershipSerializer,
    ReviewSerializer,
    RolesSerializer,
)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "deleted",
                bool,
                description="true: the deleted reviews you lead, restorable until purge_after.",
            )
        ]
    ),
    destroy=extend_schema(
        description="Delete the review (leads only). It can be restored for "
        "REVIEW_RETENTION_DAYS days, then it is purged."
    ),
)
class ReviewViewSet(viewsets.ModelViewSet):
    """Reviews the user belongs to. Anyone signed in can create one and becomes its lead."""

    serializer_class = ReviewSerializer
    lookup_url_kwarg = "review_pk"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if self.action == "list" and self.request.query_params.get("deleted") in ("true", "1"):
            return selectors.deleted_reviews_for_lead(user=self.request.user)
        return selectors.reviews_for_user(user=self.request.user)

    def get_object(self):  # type: ignore[no-untyped-def]
        role = {"partial_update": Role.LEAD, "destroy": Role.LEAD}.get(self.action, Role.VIEWER)
        review, _ = review_access(self.request.user, self.kwargs["review_pk"], role)
        return review

    def perform_create(self, serializer: ReviewSerializer) -> None:
        serializer.instance = services.review_create(
            created_by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer: ReviewSerializer) -> None:
        serializer.instance = services.review_update(
            review=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: Review) -> None:
        services.review_delete(review=instance, deleted_by=self.request.user)

    @extend_schema(request=None, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, review_pk: int) -> Response:
        """Bring back a deleted review (leads only, until it is purged)."""
        review, _ = review_access(request.user, review_pk, Role.LEAD, deleted=True)
        return Response(ReviewSerializer(services.review_restore(review=review)).data)


class MembershipViewSet(
    ReviewScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The review's team. Leads invite, change roles and remove; the last lead stays."""

    serializer_class = MembershipSerializer
    role_by_action = {"create": Role.LEAD, "roles": Role.LEAD, "destroy": Role.LEAD}

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.team(review=self.review)

    @extend_schema(
        request=InviteSerializer,
        responses={
            201: MembershipSerializer,
            202: OpenApiResponse(InvitationSentSerializer, description="E-mail invitation sent"),
        },
    )
    def create(self, request: Request, review_pk: int) -> Response:
        data = InviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        added = services.membership_invite(
            review=self.review, invited_by=request.user, **data.validated_data
        )
        if isinstance(added, Invitation):
            return Response({"invited": added.email}, status=status.HTTP_202_ACCEPTED)
        return Response(MembershipSerializer(added).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RolesSerializer, responses=MembershipSerializer)
    def roles(self, request: Request, review_pk: int, pk: int) -> Response:
        membership = get_object_or_404(Membership, pk=pk, review=self.review)
        data = RolesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.membership_set_roles(
            membership=membership, roles=data.validated_data["roles"]
        )
        return Response(MembershipSerializer(membership).data)

    def perform_destroy(self, instance: Membership) -> None:
        services.membership_remove(membership=instance)
