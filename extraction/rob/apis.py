"""Risk-of-bias API. Reviewers assess, leads configure tools, arbiters (and leads) build
consensus; everyone on the review reads. Thin: serializers validate, services write."""

from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from extraction.models import Outcome
from extraction.rob import selectors, services
from extraction.rob.models import RobAssessment, RobTool
from extraction.rob.serializers import (
    AcceptSerializer,
    OpenSerializer,
    ProposeSerializer,
    RobAssessmentSerializer,
    RobToolSerializer,
    RobToolWriteSerializer,
    SaveSerializer,
)
from reviewapp.common.permissions import ReviewScopedAPIMixin
from reviewapp.models import Review, Role
from screening.models import Study

OUTCOME_PARAM = OpenApiParameter("outcome", OpenApiTypes.INT, description="Result (outcome) id")


class RobToolViewSet(
    ReviewScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The review's risk-of-bias tools with their domains and signalling questions."""

    serializer_class = RobToolSerializer
    write_role = Role.LEAD

    def get_queryset(self) -> QuerySet[RobTool]:
        return selectors.rob_tools(review=self.review)

    @extend_schema(request=RobToolWriteSerializer, responses={201: RobToolSerializer})
    def create(self, request: Request, review_pk: int) -> Response:
        data = RobToolWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "kind" not in data.validated_data:
            raise ValidationError({"kind": ["Choose a tool."]})
        tool = services.tool_create(review=self.review, user=request.user, **data.validated_data)
        return Response(RobToolSerializer(tool).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RobToolWriteSerializer, responses=RobToolSerializer)
    def partial_update(self, request: Request, review_pk: int, pk: int) -> Response:
        tool = get_object_or_404(RobTool, pk=pk, review=self.review)
        data = RobToolWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = {k: v for k, v in data.validated_data.items() if k != "kind"}
        tool = services.tool_update(tool=tool, **fields)
        return Response(RobToolSerializer(tool).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, review_pk: int, pk: int) -> Response:
        """Delete a tool nobody has used yet (refused once answers or judgements exist)."""
        tool = get_object_or_404(RobTool, pk=pk, review=self.review)
        services.tool_delete(tool=tool)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[
            OUTCOME_PARAM,
            OpenApiParameter(
                "design", OpenApiTypes.STR, description="RoB 2: parallel, cluster or crossover"
            ),
        ],
        responses={(200, "text/csv"): OpenApiResponse(description="robvis input CSV")},
    )
    @action(detail=True, methods=["get"])
    def robvis(self, request: Request, review_pk: int, pk: int) -> HttpResponse:
        """Completed single/consensus judgements in robvis's input format."""
        tool = get_object_or_404(RobTool, pk=pk, review=self.review)
        outcome = _outcome(self.review, request.query_params.get("outcome"))
        export = selectors.robvis_export(
            tool=tool, outcome=outcome, design=request.query_params.get("design", "")
        )
        response = HttpResponse(export.csv, content_type="text/csv")
        response["X-Robvis-Tool"] = export.template
        return response

    @extend_schema(
        parameters=[OUTCOME_PARAM],
        responses={(200, "text/csv"): OpenApiResponse(description="Answers with question text")},
    )
    @action(detail=True, methods=["get"])
    def answers(self, request: Request, review_pk: int, pk: int) -> HttpResponse:
        """Completed assessments' answers with each question's text; the first line is the
        tool's licence notice (CC BY-NC-ND 4.0 for the built-in tools)."""
        tool = get_object_or_404(RobTool, pk=pk, review=self.review)
        outcome = _outcome(self.review, request.query_params.get("outcome"))
        return HttpResponse(
            selectors.answers_csv(tool=tool, outcome=outcome), content_type="text/csv"
        )

    @extend_schema(request=ProposeSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["post"])
    def propose(self, request: Request, review_pk: int) -> Response:
        """The judgements a tool's algorithm proposes for a set of answers (nothing is saved)."""
        data = ProposeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tool = get_object_or_404(RobTool, pk=data.validated_data["tool"], review=self.review)
        spec = tool.spec.resolve(data.validated_data["preliminary"])
        proposals = spec.propose(data.validated_data["answers"])
        overall = spec.propose_overall({k: p.judgement for k, p in proposals.items()})
        return Response(
            {
                "variant": spec.variant,
                "stopped": spec.stopped,
                "domains": {k: p.to_dict() for k, p in proposals.items()},
                "overall": overall,
            }
        )

    role_by_action = {"propose": Role.REVIEWER}


def _outcome(review: Review, raw: str | int | None) -> Outcome | None:
    if raw in (None, ""):
        return None
    try:
        return Outcome.objects.get(pk=int(raw), review=review)
    except (Outcome.DoesNotExist, ValueError, TypeError) as exc:
        raise ValidationError({"outcome": ["No such outcome in this review."]}) from exc


class RobAssessmentViewSet(
    ReviewScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Assessments. In dual mode, a reviewer sees only their own independent assessments (plus
    consensus) until they reconcile; leads and arbiters see all."""

    serializer_class = RobAssessmentSerializer
    write_role = Role.REVIEWER
    role_by_action = {"consensus": Role.ARBITER, "accept": Role.ARBITER}

    def get_queryset(self) -> QuerySet[RobAssessment]:
        qs = RobAssessment.objects.filter(review=self.review).select_related(
            "study", "assessor", "updated_by"
        )
        params = self.request.query_params
        if params.get("tool", "").isdigit():
            qs = qs.filter(tool_id=int(params["tool"]))
        if not self.membership.has_role(Role.ARBITER):
            # Blind dual assessment: another assessor's independent work stays hidden.
            independent = Q(kind=RobAssessment.Kind.INDEPENDENT)
            qs = qs.filter(~independent | Q(assessor=self.request.user))
        return qs.order_by("study__label", "id")

    @extend_schema(
        parameters=[OpenApiParameter("tool", OpenApiTypes.INT)],
    )
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    def _scope(self, data: dict) -> tuple[RobTool, Study, Outcome | None]:
        tool = get_object_or_404(RobTool, pk=data["tool"], review=self.review)
        study = get_object_or_404(Study, pk=data["study"], review=self.review)
        return tool, study, _outcome(self.review, data.get("outcome"))

    @extend_schema(request=OpenSerializer, responses={200: RobAssessmentSerializer})
    def create(self, request: Request, review_pk: int) -> Response:
        """Open (create on first use) the caller's assessment of a study / result. Idempotent."""
        data = OpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tool, study, outcome = self._scope(data.validated_data)
        assessment = services.assessment_open(
            tool=tool, study=study, outcome=outcome, user=request.user
        )
        return Response(RobAssessmentSerializer(assessment).data)

    @extend_schema(
        request=SaveSerializer,
        responses={200: RobAssessmentSerializer, 409: OpenApiResponse(description="Conflict")},
    )
    def partial_update(self, request: Request, review_pk: int, pk: int) -> Response:
        """Save answers and judgements; the response carries the proposed judgements."""
        assessment = get_object_or_404(self.get_queryset(), pk=pk)
        if assessment.kind == RobAssessment.Kind.CONSENSUS and not self.membership.has_role(
            Role.ARBITER
        ):
            return Response(
                {"detail": "Only an arbiter or the lead edits a consensus."},
                status=status.HTTP_403_FORBIDDEN,
            )
        if (
            assessment.kind == RobAssessment.Kind.INDEPENDENT
            and assessment.assessor_id != request.user.pk
        ):
            return Response(
                {"detail": "This is another assessor's independent assessment."},
                status=status.HTTP_403_FORBIDDEN,
            )
        data = SaveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        saved = services.assessment_save(
            assessment=assessment, user=request.user, **data.validated_data
        )
        return Response(RobAssessmentSerializer(saved).data)

    @extend_schema(request=OpenSerializer, responses={200: RobAssessmentSerializer})
    @action(detail=False, methods=["post"])
    def consensus(self, request: Request, review_pk: int) -> Response:
        """Open (create from the agreed answers) the consensus of a dual-assessed study."""
        data = OpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tool, study, outcome = self._scope(data.validated_data)
        consensus = services.consensus_open(
            tool=tool, study=study, outcome=outcome, user=request.user
        )
        return Response(RobAssessmentSerializer(consensus).data)

    @extend_schema(request=AcceptSerializer, responses={200: RobAssessmentSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, review_pk: int, pk: int) -> Response:
        """Take one independent assessment's answers and judgement for a domain."""
        consensus = get_object_or_404(RobAssessment, pk=pk, review=self.review)
        data = AcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        source = get_object_or_404(
            RobAssessment, pk=data.validated_data["source"], review=self.review
        )
        saved = services.consensus_accept(
            consensus=consensus,
            source=source,
            domain=data.validated_data["domain"],
            user=request.user,
            version=data.validated_data["version"],
        )
        return Response(RobAssessmentSerializer(saved).data)
