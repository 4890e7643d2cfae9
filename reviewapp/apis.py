"""API for reviews and teams. Thin: serializers validate, services write."""

from typing import Any

from django.contrib.auth import authenticate
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from reviewapp import accounts, selectors, services
from reviewapp.common.permissions import ReviewScopedAPIMixin, review_access
from reviewapp.common.throttles import LoginThrottle
from reviewapp.models import ApiToken, Invitation, Membership, Review, Role
from reviewapp.serializers import (
    ApiTokenCreateSerializer,
    ApiTokenSerializer,
    InvitationAcceptSerializer,
    InvitationSerializer,
    InviteSerializer,
    MembershipSerializer,
    NewApiTokenSerializer,
    ObtainTokenSerializer,
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
    lookup_value_regex = "[0-9]+"  # ids are integers (and the schema types the parameter so)
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Review]:
        if self.action == "list" and self.request.query_params.get("deleted") in ("true", "1"):
            return selectors.deleted_reviews_for_lead(user=self.request.user)
        return selectors.reviews_for_user(user=self.request.user)

    def get_object(self) -> Review:
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
        review, _ = review_access(request.user, review_pk, Role.LEAD, include_deleted=True)
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

    def get_queryset(self) -> QuerySet[Membership]:
        return selectors.team(review=self.review)

    @extend_schema(
        request=InviteSerializer,
        responses={
            202: OpenApiResponse(
                InvitationSerializer,
                description="An e-mail with a signed link was sent; they join by following it.",
            )
        },
    )
    def create(self, request: Request, review_pk: int) -> Response:
        """Invite someone by username or e-mail. Nobody joins here, an existing account
        included: they join through the link sent to their address."""
        data = InviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.membership_invite(
            review=self.review, invited_by=request.user, **data.validated_data
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_202_ACCEPTED)

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


class InvitationViewSet(
    ReviewScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Invitations not yet accepted nor withdrawn (expired ones included). Invite through
    POST members/; the lead resends (a new link, the old one stops working) or revokes."""

    serializer_class = InvitationSerializer
    role_by_action = {"resend": Role.LEAD, "revoke": Role.LEAD}

    def get_queryset(self) -> QuerySet[Invitation]:
        return selectors.pending_invitations(review=self.review)

    def _invitation(self, pk: int) -> Invitation:
        return get_object_or_404(Invitation, pk=pk, review=self.review)

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, review_pk: int, pk: int) -> Response:
        invitation = services.invitation_resend(invitation=self._invitation(pk))
        return Response(InvitationSerializer(invitation).data)

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, review_pk: int, pk: int) -> Response:
        invitation = services.invitation_revoke(invitation=self._invitation(pk))
        return Response(InvitationSerializer(invitation).data)


class InvitationAcceptView(APIView):
    """Accept an invitation as the signed-in account: `token` is the last part of the link in
    the e-mail (/invitations/<token>/). The account's e-mail must be the invited address."""

    @extend_schema(request=InvitationAcceptSerializer, responses={201: MembershipSerializer})
    def post(self, request: Request) -> Response:
        data = InvitationAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.invitation_accept(
            token=data.validated_data["token"], user=request.user
        )
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)


def _new_token_payload(token: Any, plain: str) -> dict[str, Any]:
    """NewApiTokenSerializer's shape: the token's fields and, this once, the token itself."""
    return {"token": plain, **ApiTokenSerializer(token).data}


class ObtainTokenView(APIView):
    """A new named API token for a username and password (for scripts). Throttled per client
    address; repeated wrong passwords lock the username out from that address (429)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginThrottle]

    @extend_schema(
        request=ObtainTokenSerializer,
        responses={200: NewApiTokenSerializer},
        auth=[],  # drf-spectacular: no authentication needed
    )
    def post(self, request: Request) -> Response:
        data = ObtainTokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        # The Django request, so that django-axes counts the attempt and its middleware answers
        # a locked-out client with 429.
        user = authenticate(
            request=request._request, username=values["username"], password=values["password"]
        )
        if user is None:
            raise ValidationError({"detail": ["Unable to log in with those credentials."]})
        name = values["name"] or f"API token {timezone.now():%Y-%m-%d %H:%M}"
        token, plain = accounts.api_token_create(user=user, name=name, days=values["days"])
        return Response(_new_token_payload(token, plain))


_KEY = OpenApiParameter(
    "key", str, OpenApiParameter.PATH, description="The token's key, as listed."
)


@extend_schema_view(
    destroy=extend_schema(parameters=[_KEY]), rotate=extend_schema(parameters=[_KEY])
)
class ApiTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Your API tokens. Create one here from a browser session (or with your password at
    /api/auth/token/); rotate replaces a token by a new one, DELETE revokes it. `key` is the
    token's first characters, as listed."""

    serializer_class = ApiTokenSerializer
    lookup_field = "token_key"
    lookup_url_kwarg = "key"
    pagination_class = None

    def get_queryset(self) -> QuerySet[ApiToken]:
        return selectors.api_tokens(user=self.request.user)

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: NewApiTokenSerializer})
    def create(self, request: Request) -> Response:
        if isinstance(request.auth, ApiToken):
            # A leaked token must not be able to mint others that outlive its revocation.
            raise PermissionDenied("A token cannot create tokens: use your password or a session.")
        data = ApiTokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, plain = accounts.api_token_create(user=request.user, **data.validated_data)
        return Response(_new_token_payload(token, plain), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: NewApiTokenSerializer})
    @action(detail=True, methods=["post"])
    def rotate(self, request: Request, key: str) -> Response:
        token, plain = accounts.api_token_rotate(user=request.user, key=key)
        return Response(_new_token_payload(token, plain))

    def destroy(self, request: Request, key: str) -> Response:
        accounts.api_token_revoke(user=request.user, key=key)
        return Response(status=status.HTTP_204_NO_CONTENT)
