"""API for the review archive: prepare one (a worker builds it), poll it, download it."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from reviewapp.archive import selectors, services
from reviewapp.archive.views import archive_file_response
from reviewapp.common.permissions import ReviewScopedAPIMixin
from reviewapp.models import Role


class ArchiveStatusSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False)
    status = serializers.ChoiceField(choices=["none", "queued", "running", "ready", "failed"])
    percent = serializers.IntegerField()
    stage = serializers.CharField(allow_blank=True)
    size = serializers.IntegerField(help_text="Bytes of the zip, once ready.")
    rows = serializers.IntegerField()
    sha256 = serializers.CharField(required=False, allow_blank=True)
    error = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField(required=False)
    finished_at = serializers.DateTimeField(required=False, allow_null=True)
    download_url = serializers.CharField(required=False)


def _status(request: Request, review: Any) -> dict[str, Any]:
    data = selectors.archive_status(review=review)
    if data["status"] == "ready":
        data["download_url"] = request.build_absolute_uri(
            f"/api/reviews/{review.pk}/archive/download/"
        )
    return dict(ArchiveStatusSerializer(data).data)


class ArchiveAPI(ReviewScopedAPIMixin, APIView):
    """The review's archive (docs/archive.md). Leads only: it holds the team's e-mails."""

    read_role = Role.LEAD
    write_role = Role.LEAD

    @extend_schema(responses=ArchiveStatusSerializer)
    def get(self, request: Request, review_pk: int) -> Response:
        return Response(_status(request, self.review))

    @extend_schema(
        request=None,
        responses={202: OpenApiResponse(ArchiveStatusSerializer, description="Being prepared")},
    )
    def post(self, request: Request, review_pk: int) -> Response:
        services.archive_request(review=self.review, requested_by=request.user)
        return Response(_status(request, self.review), status=status.HTTP_202_ACCEPTED)


class ArchiveDownloadAPI(ReviewScopedAPIMixin, APIView):
    read_role = Role.LEAD

    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY),
            409: OpenApiResponse(description="No archive is ready: POST .../archive/ first"),
        }
    )
    def get(self, request: Request, review_pk: int) -> Any:
        response = archive_file_response(self.review)
        if response is None:
            return Response(
                {"detail": "No archive is ready: POST to the archive endpoint to prepare one."},
                status=status.HTTP_409_CONFLICT,
            )
        return response
