"""API for the reference library. Thin: serializers validate, services write."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from reviewapp.apis import domain_error
from reviewapp.common.permissions import ReviewScopedAPIMixin
from reviewapp.errors import DomainError
from reviewapp.models import Role
from screening import selectors, services
from screening.models import DedupAction, ImportBatch, Record
from screening.serializers import (
    DedupActionSerializer,
    ImportBatchSerializer,
    ImportUploadSerializer,
    MergeSerializer,
    RecordSerializer,
)


class ImportViewSet(
    ReviewScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Uploads of search results. An upload is imported by a worker; poll it for progress."""

    serializer_class = ImportBatchSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return ImportBatch.objects.filter(review=self.review)

    @extend_schema(request=ImportUploadSerializer, responses={202: ImportBatchSerializer})
    def create(self, request: Request, review_pk: int) -> Response:
        data = ImportUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            batch = services.import_create(
                review=self.review,
                created_by=request.user,
                upload=data.validated_data["file"],
                source_database=data.validated_data["source_database"],
                search_date=data.validated_data.get("search_date"),
                search_string=data.validated_data.get("search_string", ""),
            )
        except DomainError as exc:
            raise domain_error(exc) from exc
        batch.refresh_from_db()
        return Response(ImportBatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)


LIBRARY_FILTERS = [
    OpenApiParameter("q", OpenApiTypes.STR, description="Full-text search"),
    OpenApiParameter("source", OpenApiTypes.INT, description="Import id"),
    OpenApiParameter("year", OpenApiTypes.INT),
    OpenApiParameter("status", OpenApiTypes.STR, enum=list(selectors.DUPLICATE_STATUSES)),
]


class RecordViewSet(
    ReviewScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The review's records, with their duplicate status; reviewers fix duplicate groups."""

    serializer_class = RecordSerializer
    write_role = Role.REVIEWER

    def get_queryset(self):  # type: ignore[no-untyped-def]
        params = self.request.query_params
        return selectors.library_records(
            review=self.review,
            query=params.get("q", ""),
            source=params.get("source", ""),
            year=params.get("year", ""),
            status=params.get("status", ""),
        )

    @extend_schema(parameters=LIBRARY_FILTERS)
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    def _record(self, pk: int) -> Record:
        return get_object_or_404(Record, pk=pk, review=self.review)

    @extend_schema(request=None, responses={201: DedupActionSerializer})
    @action(detail=True, methods=["post"])
    def split(self, request: Request, review_pk: int, pk: int) -> Response:
        try:
            done = services.dedup_split(record=self._record(pk), user=request.user)
        except DomainError as exc:
            raise domain_error(exc) from exc
        return Response(DedupActionSerializer(done).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MergeSerializer, responses={201: DedupActionSerializer})
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, review_pk: int, pk: int) -> Response:
        data = MergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            done = services.dedup_merge(
                record=self._record(pk),
                other=self._record(data.validated_data["other"]),
                user=request.user,
            )
        except DomainError as exc:
            raise domain_error(exc) from exc
        return Response(DedupActionSerializer(done).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={201: DedupActionSerializer})
    @action(detail=True, methods=["post"], url_path="make-primary")
    def make_primary(self, request: Request, review_pk: int, pk: int) -> Response:
        try:
            done = services.dedup_make_primary(record=self._record(pk), user=request.user)
        except DomainError as exc:
            raise domain_error(exc) from exc
        return Response(DedupActionSerializer(done).data, status=status.HTTP_201_CREATED)


class DedupActionViewSet(
    ReviewScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Splits, merges and primary changes, newest first; the newest can be undone."""

    serializer_class = DedupActionSerializer
    write_role = Role.REVIEWER

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.dedup_actions(review=self.review)

    @extend_schema(request=None, responses=DedupActionSerializer)
    @action(detail=True, methods=["post"])
    def undo(self, request: Request, review_pk: int, pk: int) -> Response:
        done = get_object_or_404(DedupAction, pk=pk, review=self.review)
        try:
            services.dedup_undo(action=done, user=request.user)
        except DomainError as exc:
            raise domain_error(exc) from exc
        done.refresh_from_db()
        return Response(DedupActionSerializer(done).data)
