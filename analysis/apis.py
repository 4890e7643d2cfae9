"""API for analyses, their live results and figures. Thin: serializers validate, services write."""

import json
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analysis import plots, selectors, services
from analysis.models import Analysis, GradeRating
from analysis.serializers import (
    AnalysisResultVersionSerializer,
    AnalysisSerializer,
    AnalysisWriteSerializer,
    GradeSerializer,
    LiveResultSerializer,
    VersionSerializer,
)
from extraction.models import Outcome
from reviewapp.common.permissions import ReviewScopedAPIMixin
from reviewapp.errors import DomainError
from reviewapp.models import Role


class AnalysisViewSet(
    ReviewScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Analyses of the review's outcomes. Leads define and change them; each change queues a
    recomputation, so `status` is "updating" until the new result lands."""

    serializer_class = AnalysisSerializer
    write_role = Role.LEAD

    def get_queryset(self) -> QuerySet[Analysis]:
        return selectors.analyses(review=self.review)

    def _changes(self, request: Request) -> dict[str, Any]:
        data = AnalysisWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    @extend_schema(request=AnalysisWriteSerializer, responses={201: AnalysisSerializer})
    def create(self, request: Request, review_pk: int) -> Response:
        changes = self._changes(request)
        changes.pop("version", None)
        outcome = Outcome.objects.filter(
            review=self.review, pk=changes.pop("outcome", None)
        ).first()
        if outcome is None:
            raise DomainError("Choose one of this review's outcomes.", field="outcome")
        analysis = services.analysis_create(
            review=self.review, outcome=outcome, created_by=request.user, **changes
        )
        analysis.refresh_from_db()
        return Response(AnalysisSerializer(analysis).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AnalysisWriteSerializer, responses=AnalysisSerializer)
    def partial_update(self, request: Request, review_pk: int, pk: int) -> Response:
        analysis = self.get_object()
        changes = self._changes(request)
        changes.pop("outcome", None)
        version = changes.pop("version", None)
        analysis = services.analysis_update(analysis=analysis, version=version, **changes)
        return Response(AnalysisSerializer(analysis).data)

    def perform_destroy(self, instance: Analysis) -> None:
        services.analysis_delete(analysis=instance)

    @extend_schema(responses=LiveResultSerializer)
    @action(detail=True, methods=["get"])
    def result(self, request: Request, review_pk: int, pk: int) -> Response:
        """The current result, with `status`: "updating" means a newer change is being computed
        and this result reflects the inputs before it."""
        analysis = self.get_object()
        return Response(
            LiveResultSerializer(
                {
                    "status": analysis.status,
                    "error": analysis.error,
                    "result": analysis.current_result,
                }
            ).data
        )

    @extend_schema(responses=AnalysisResultVersionSerializer(many=True))
    # A plain list, not a page: the schema said paginated (found by schemathesis).
    @action(detail=True, methods=["get"], pagination_class=None)
    def versions(self, request: Request, review_pk: int, pk: int) -> Response:
        analysis = self.get_object()
        return Response(
            AnalysisResultVersionSerializer(selectors.results(analysis=analysis), many=True).data
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("name", OpenApiTypes.STR, enum=list(plots.FIGURES)),
            OpenApiParameter("sort", OpenApiTypes.STR, enum=list(plots.SORTS)),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=["get"])
    def figure(self, request: Request, review_pk: int, pk: int) -> Response:
        """A figure as plotly JSON (render it with Plotly.newPlot)."""
        analysis = self.get_object()
        name = request.query_params.get("name", "forest")
        result = analysis.current_result
        if name not in plots.FIGURES:
            raise DomainError(f"Unknown figure '{name}'.", field="name")
        if result is None or not result.computed.studies:
            return Response({"detail": "No result to draw yet."}, status=status.HTTP_404_NOT_FOUND)
        if name == "forest":
            sort = request.query_params.get("sort") or analysis.sort_by
            if sort not in plots.SORTS:
                raise DomainError(f"Unknown sort '{sort}'.", field="sort")
            fig = plots.forest_plot(result.computed, sort=sort, show_rob=analysis.show_rob)
        else:
            fig = plots.FIGURES[name](result.computed)
        return Response(json.loads(fig.to_json()))

    @extend_schema(request=None, responses={202: AnalysisSerializer})
    @action(detail=True, methods=["post"])
    def recompute(self, request: Request, review_pk: int, pk: int) -> Response:
        analysis = self.get_object()
        services.analysis_retry_now(analysis=analysis)
        analysis.refresh_from_db()
        return Response(AnalysisSerializer(analysis).data, status=status.HTTP_202_ACCEPTED)


class AnalysisVersionView(ReviewScopedAPIMixin, APIView):
    """A cheap token that changes whenever anything on the dashboard changes: poll it."""

    @extend_schema(responses=VersionSerializer)
    def get(self, request: Request, review_pk: int) -> Response:
        return Response({"version": selectors.version(review=self.review)})


class GradeViewSet(
    ReviewScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """GRADE certainty per outcome; PUT to /grades/{outcome_id}/ rates it (leads)."""

    serializer_class = GradeSerializer
    write_role = Role.LEAD
    lookup_field = "outcome_id"
    lookup_url_kwarg = "outcome_id"

    def get_queryset(self) -> QuerySet[GradeRating]:
        return GradeRating.objects.filter(review=self.review)

    @extend_schema(request=GradeSerializer, responses=GradeSerializer)
    def update(self, request: Request, review_pk: int, outcome_id: int) -> Response:
        outcome = get_object_or_404(Outcome, review=self.review, pk=outcome_id)
        data = GradeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        grade = services.grade_save(
            outcome=outcome,
            updated_by=request.user,
            ratings={d: v[d] for d in GradeRating.DOMAINS if d in v},
            reasons=dict(v.get("reasons") or {}),
            version=request.data.get("version"),
        )
        return Response(GradeSerializer(grade).data)
