"""API for the reference library and screening. Thin: serializers validate, services write."""

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from reviewapp.common.permissions import ReviewScopedAPIMixin
from reviewapp.models import Role
from screening import (
    selectors,
    selectors_imports,
    selectors_possible,
    selectors_ranking,
    services,
    services_imports,
    services_possible,
    services_ranking,
    services_screening,
)
from screening.models import (
    Decision,
    DedupAction,
    FullTextReport,
    ImportBatch,
    PossibleDuplicate,
    Record,
    ScreeningItem,
    Stage,
    Study,
)
from screening.next_record import lease_renew, next_record
from screening.serializers import (
    AgreementSerializer,
    AmendSerializer,
    ConflictSerializer,
    DecisionInputSerializer,
    DecisionSerializer,
    DedupActionSerializer,
    DedupPlanSerializer,
    FullTextSerializer,
    FullTextUploadSerializer,
    ImportBatchSerializer,
    ImportDeletionPreviewSerializer,
    ImportUploadSerializer,
    LeaseInputSerializer,
    MergeSerializer,
    NextRecordSerializer,
    NotRetrievedSerializer,
    PossibleDuplicateSerializer,
    PrismaSerializer,
    RankingStatusSerializer,
    RecordSerializer,
    ResolveSerializer,
    ScreeningRecordSerializer,
    StageSettingsSerializer,
    StopSampleInputSerializer,
    StudyLinkSerializer,
)
from screening.visibility import votes_visible_q


class ImportViewSet(
    ReviewScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Uploads of search results. An upload is imported by a worker; poll it for progress.
    The same file twice is refused unless `new_search`; the lead can delete an import (its
    records without screening work), after looking at its deletion preview."""

    serializer_class = ImportBatchSerializer
    parser_classes = [MultiPartParser, FormParser]
    role_by_action = {"deletion_preview": Role.LEAD}

    def get_queryset(self) -> QuerySet[ImportBatch]:
        return ImportBatch.objects.filter(review=self.review)

    @extend_schema(request=ImportUploadSerializer, responses={202: ImportBatchSerializer})
    def create(self, request: Request, review_pk: int) -> Response:
        data = ImportUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        batch = services.import_create(
            review=self.review,
            created_by=request.user,
            upload=data.validated_data["file"],
            source_database=data.validated_data["source_database"],
            search_date=data.validated_data.get("search_date"),
            search_string=data.validated_data.get("search_string", ""),
            new_search=data.validated_data["new_search"],
        )
        batch.refresh_from_db()
        return Response(ImportBatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=ImportDeletionPreviewSerializer)
    @action(detail=True, methods=["get"], url_path="deletion-preview")
    def deletion_preview(self, request: Request, review_pk: int, pk: int) -> Response:
        preview = selectors_imports.import_deletion_preview(batch=self.get_object())
        return Response(ImportDeletionPreviewSerializer(preview).data)

    @extend_schema(request=None, responses={202: ImportBatchSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, review_pk: int, pk: int) -> Response:
        """Undo a deletion: import the deleted import's stored file again, as a new import."""
        again = services_imports.import_restore(batch=self.get_object(), user=request.user)
        again.refresh_from_db()
        return Response(ImportBatchSerializer(again).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "keep_screened",
                OpenApiTypes.BOOL,
                description="Delete only the records without screening work; needed when "
                "some records have votes, full texts or study links.",
            )
        ],
        responses={202: ImportBatchSerializer},
    )
    def destroy(self, request: Request, review_pk: int, pk: int) -> Response:
        """Queue the deletion; a worker runs it. The import's `deletion_status`,
        `deletion_progress` and `deletion_error` say how it goes."""
        keep = request.query_params.get("keep_screened", "").lower() in ("1", "true", "yes")
        batch = services_imports.import_delete_request(
            batch=self.get_object(), user=request.user, keep_screened=keep
        )
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

    def get_queryset(self) -> QuerySet[Record]:
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
        done = services.dedup_split(record=self._record(pk), user=request.user)
        return Response(DedupActionSerializer(done).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MergeSerializer, responses={201: DedupActionSerializer})
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, review_pk: int, pk: int) -> Response:
        record = self._record(pk)  # first: another review's record is a 404, not a 400
        data = MergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = services.dedup_merge(
            record=record,
            other=self._record(data.validated_data["other"]),
            user=request.user,
        )
        return Response(DedupActionSerializer(done).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("action", OpenApiTypes.STR, enum=["primary", "split", "merge"]),
            OpenApiParameter("other", OpenApiTypes.INT, description="For a merge"),
        ],
        responses=DedupPlanSerializer,
    )
    @action(detail=True, methods=["get"], url_path="dedup-plan")
    def dedup_plan(self, request: Request, review_pk: int, pk: int) -> Response:
        """What a split, merge or make-primary would move, before it is done."""
        record = self._record(pk)
        other_pk = request.query_params.get("other", "")
        other = self._record(int(other_pk)) if other_pk.isdigit() else None
        plan = selectors.dedup_plan(
            review=self.review,
            record=record,
            action=request.query_params.get("action", ""),
            other=other,
        )
        data = {**vars(plan), "moves_work": plan.moves_work, "lines": plan.lines()}
        return Response(DedupPlanSerializer(data).data)

    @extend_schema(request=None, responses={201: DedupActionSerializer})
    @action(detail=True, methods=["post"], url_path="make-primary")
    def make_primary(self, request: Request, review_pk: int, pk: int) -> Response:
        done = services.dedup_make_primary(record=self._record(pk), user=request.user)
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

    def get_queryset(self) -> QuerySet[DedupAction]:
        return selectors.dedup_actions(review=self.review)

    @extend_schema(request=None, responses=DedupActionSerializer)
    @action(detail=True, methods=["post"])
    def undo(self, request: Request, review_pk: int, pk: int) -> Response:
        done = get_object_or_404(DedupAction, pk=pk, review=self.review)
        services.dedup_undo(action=done, user=request.user)
        done.refresh_from_db()
        return Response(DedupActionSerializer(done).data)


class PossibleDuplicateViewSet(
    ReviewScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Pairs likely, but not certain, to be the same paper, oldest first. Reviewers confirm
    (a merge) or separate (never merged later) an open pair; the newest decision can be undone.
    An open pair whose records were since put in one group by hand is settled and not listed as
    open."""

    serializer_class = PossibleDuplicateSerializer
    write_role = Role.REVIEWER

    def get_queryset(self) -> QuerySet[PossibleDuplicate]:
        wanted = self.request.query_params.get("status", "")
        if wanted and wanted not in PossibleDuplicate.Status.values:
            raise ValidationError({"status": f"One of: {', '.join(PossibleDuplicate.Status)}."})
        return selectors_possible.possible_duplicates(review=self.review, status=wanted)

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=list(PossibleDuplicate.Status.values))
        ]
    )
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    def _pair(self, pk: int) -> PossibleDuplicate:
        return get_object_or_404(PossibleDuplicate, pk=pk, review=self.review)

    def _answer(self, pair: PossibleDuplicate) -> Response:
        fresh = selectors_possible.possible_duplicates(review=self.review).get(pk=pair.pk)
        return Response(PossibleDuplicateSerializer(fresh).data)

    @extend_schema(request=None, responses=PossibleDuplicateSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, review_pk: int, pk: int) -> Response:
        pair = services_possible.possible_confirm(pair=self._pair(pk), user=request.user)
        return self._answer(pair)

    @extend_schema(request=None, responses=PossibleDuplicateSerializer)
    @action(detail=True, methods=["post"])
    def separate(self, request: Request, review_pk: int, pk: int) -> Response:
        pair = services_possible.possible_separate(pair=self._pair(pk), user=request.user)
        return self._answer(pair)

    @extend_schema(request=None, responses=PossibleDuplicateSerializer)
    @action(detail=True, methods=["post"])
    def undo(self, request: Request, review_pk: int, pk: int) -> Response:
        pair = services_possible.possible_undo(pair=self._pair(pk), user=request.user)
        return self._answer(pair)


# --- screening -----------------------------------------------------------------------------


def _stage_or_404(stage: str) -> str:
    if stage not in Stage.values:
        raise Http404("No such stage.")
    return stage


def visible_decisions(*, review: Any, user: Any) -> Any:
    """Decisions `user` may see (screening/visibility.py has the rule)."""
    return (
        Decision.objects.filter(review=review)
        .filter(votes_visible_q(review=review, user=user))
        .select_related("reviewer")
        .order_by("id")
    )


class DecisionViewSet(
    ReviewScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Screening votes. POST is idempotent: the same vote again answers 200 and stores nothing
    new; a changed vote replaces the reviewer's own (its history is kept). DELETE withdraws
    your own vote (undo) while the record is not resolved."""

    serializer_class = DecisionSerializer
    write_role = Role.REVIEWER
    role_by_action = {"amend": Role.ARBITER}

    def get_queryset(self) -> QuerySet[Decision]:
        decisions = visible_decisions(review=self.review, user=self.request.user)
        params = self.request.query_params
        if params.get("stage") in Stage.values:
            decisions = decisions.filter(stage=params["stage"])
        if params.get("record", "").isdigit():
            decisions = decisions.filter(record_id=int(params["record"]))
        if params.get("mine") == "1":
            decisions = decisions.filter(reviewer=self.request.user)
        return decisions

    @extend_schema(
        parameters=[
            OpenApiParameter("stage", OpenApiTypes.STR, enum=list(Stage.values)),
            OpenApiParameter("record", OpenApiTypes.INT),
            OpenApiParameter("mine", OpenApiTypes.INT, description="1: only your own votes"),
        ]
    )
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=DecisionInputSerializer,
        responses={201: DecisionSerializer},
        parameters=[
            OpenApiParameter(
                "next",
                OpenApiTypes.INT,
                description="1: add the reviewer's next record and queues under 'next', as the "
                "screening page does (one round trip per decision)",
            )
        ],
    )
    def create(self, request: Request, review_pk: int) -> Response:
        data = DecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        record = (
            Record.objects.filter(pk=values["record"], review=self.review)
            .select_related("review")
            .first()
        )
        if record is None:
            raise ValidationError({"record": [f"There is no record {values['record']} here."]})
        outcome = services_screening.decision_record(
            record=record,
            stage=values["stage"],
            reviewer=request.user,
            verdict=values["verdict"],
            reason=values["reason"],
            note=values["note"],
            tags=values["tags"],
        )
        payload = dict(DecisionSerializer(outcome.decision).data)
        if request.query_params.get("next") == "1":
            payload["next"] = _next_payload(self.review, values["stage"], request.user)
        return Response(
            payload, status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK
        )

    def perform_destroy(self, instance: Decision) -> None:
        services_screening.decision_undo(decision=instance, reviewer=self.request.user)

    @extend_schema(request=AmendSerializer, responses=DecisionSerializer)
    @action(detail=True, methods=["post"])
    def amend(self, request: Request, review_pk: int, pk: int) -> Response:
        """The arbiter or the lead changes another reviewer's locked vote (its record has all
        its votes), with the reason kept in the vote's history. Open votes answer 400."""
        decision = get_object_or_404(Decision, pk=pk, review=self.review)
        data = AmendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = services_screening.decision_amend(
            decision=decision, by=request.user, **data.validated_data
        )
        return Response(DecisionSerializer(outcome.decision).data)


def _next_payload(review: Any, stage: str, user: Any) -> dict[str, Any]:
    record = next_record(review=review, stage=stage, reviewer=user)
    return {
        "record": ScreeningRecordSerializer(record).data if record else None,
        "queues": selectors.queue_counts(review=review, stage=stage, reviewer=user),
    }


class NextRecordView(ReviewScopedAPIMixin, APIView):
    """The next record the reviewer should screen at the stage (null when none is left). It is
    leased to the reviewer for 5 minutes: asking again returns it again until it is voted on,
    skipped or released (`lease/`), and no more reviewers are sent it than it needs votes."""

    read_role = Role.REVIEWER

    @extend_schema(responses=NextRecordSerializer)
    def get(self, request: Request, review_pk: int, stage: str) -> Response:
        stage = _stage_or_404(stage)
        return Response(_next_payload(self.review, stage, request.user))


class ConflictViewSet(
    ReviewScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Records whose votes disagree, with every vote; the arbiter resolves them."""

    serializer_class = ConflictSerializer
    read_role = Role.VIEWER
    write_role = Role.ARBITER

    def get_queryset(self) -> QuerySet[ScreeningItem]:
        params = self.request.query_params
        stage = params.get("stage") if params.get("stage") in Stage.values else None
        state = "resolved" if params.get("status") == "resolved" else "conflict"
        stages = [stage] if stage else list(Stage.values)
        items = ScreeningItem.objects.filter(review=self.review, stage__in=stages, status=state)
        return items.select_related("record", "resolved_by").order_by("stage", "record_id")

    @extend_schema(
        parameters=[
            OpenApiParameter("stage", OpenApiTypes.STR, enum=list(Stage.values)),
            OpenApiParameter("status", OpenApiTypes.STR, enum=["conflict", "resolved"]),
        ]
    )
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ResolveSerializer, responses=ConflictSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, review_pk: int, pk: int) -> Response:
        item = get_object_or_404(ScreeningItem, pk=pk, review=self.review)
        data = ResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services_screening.conflict_resolve(
            item=item, arbiter=request.user, **data.validated_data
        )
        return Response(ConflictSerializer(item, context={"request": request}).data)


class StageSettingsView(ReviewScopedAPIMixin, APIView):
    """The lead's settings for one stage."""

    write_role = Role.LEAD

    @extend_schema(responses=StageSettingsSerializer)
    def get(self, request: Request, review_pk: int, stage: str) -> Response:
        stage = _stage_or_404(stage)
        return Response(
            StageSettingsSerializer(selectors.stage_settings(review=self.review, stage=stage)).data
        )

    @extend_schema(request=StageSettingsSerializer, responses=StageSettingsSerializer)
    def put(self, request: Request, review_pk: int, stage: str) -> Response:
        stage = _stage_or_404(stage)
        current = selectors.stage_settings(review=self.review, stage=stage)
        data = StageSettingsSerializer(current, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = {
            name: data.validated_data.get(name, getattr(current, name))
            for name in (
                "reviewers_required",
                "blind",
                "exclusion_reasons",
                "include_terms",
                "exclude_terms",
                "order",
                "votes_need_pdf",
            )
        }
        for name in ("exclusion_reasons", "include_terms", "exclude_terms"):
            if not isinstance(values[name], list):
                raise ValidationError({name: ["Give a list of strings."]})
        saved = services_screening.stage_settings_update(review=self.review, stage=stage, **values)
        return Response(StageSettingsSerializer(saved).data)


class AgreementView(ReviewScopedAPIMixin, APIView):
    """Agreement per stage and reviewer pair, on the votes before resolution."""

    @extend_schema(
        parameters=[OpenApiParameter("stage", OpenApiTypes.STR, enum=list(Stage.values))],
        responses=AgreementSerializer(many=True),
    )
    def get(self, request: Request, review_pk: int) -> Response:
        stage = request.query_params.get("stage")
        pairs = selectors.agreement_by_pair(
            review=self.review, stage=stage if stage in Stage.values else None
        )
        return Response(AgreementSerializer(pairs, many=True).data)


class PrismaView(ReviewScopedAPIMixin, APIView):
    """The PRISMA 2020 counts, the problems if they do not add up, and what is still pending."""

    @extend_schema(responses=PrismaSerializer)
    def get(self, request: Request, review_pk: int) -> Response:
        counts = selectors.prisma_counts(review=self.review)
        pending = selectors.prisma_pending(
            counts, possible_duplicates=selectors_possible.open_possible_count(review=self.review)
        )
        payload = counts.to_dict()
        payload["problems"] = [] if pending.any else counts.reconcile()
        payload["pending"] = {
            "records_awaiting_outcome": pending.records_awaiting_outcome,
            "reports_awaiting_outcome": pending.reports_awaiting_outcome,
            "possible_duplicates": pending.possible_duplicates,
        }
        return Response(PrismaSerializer(payload).data)


class FullTextViewSet(ReviewScopedAPIMixin, viewsets.GenericViewSet):
    """Full texts of the reports sought: attach a PDF, mark not retrieved, link to a study."""

    serializer_class = FullTextSerializer
    write_role = Role.REVIEWER
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def _record(self, pk: int) -> Record:
        return get_object_or_404(Record, pk=pk, review=self.review)

    def _report(self, record: Record) -> Response:
        report = FullTextReport.objects.filter(record=record).select_related("record__study")
        found = report.first()
        if found is None:
            return Response(
                {
                    "record": record.pk,
                    "has_pdf": False,
                    "not_retrieved": False,
                    "not_retrieved_reason": "",
                    "study": record.study.label if record.study else None,
                    "updated_at": None,
                }
            )
        return Response(FullTextSerializer(found).data)

    @extend_schema(responses=FullTextSerializer)
    def retrieve(self, request: Request, review_pk: int, pk: int) -> Response:
        return self._report(self._record(pk))

    @extend_schema(request=FullTextUploadSerializer, responses=FullTextSerializer)
    @action(detail=True, methods=["post"])
    def pdf(self, request: Request, review_pk: int, pk: int) -> Response:
        record = self._record(pk)
        data = FullTextUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services_screening.fulltext_attach(
            record=record, pdf=data.validated_data["pdf"], user=request.user
        )
        return self._report(record)

    @extend_schema(request=NotRetrievedSerializer, responses=FullTextSerializer)
    @action(detail=True, methods=["post"], url_path="not-retrieved")
    def not_retrieved(self, request: Request, review_pk: int, pk: int) -> Response:
        record = self._record(pk)
        data = NotRetrievedSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services_screening.fulltext_mark_not_retrieved(
            record=record, reason=data.validated_data["reason"], user=request.user
        )
        return self._report(record)

    @extend_schema(request=StudyLinkSerializer, responses=FullTextSerializer)
    @action(detail=True, methods=["post"])
    def study(self, request: Request, review_pk: int, pk: int) -> Response:
        record = self._record(pk)
        data = StudyLinkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        study_pk = data.validated_data.get("study")
        study = get_object_or_404(Study, pk=study_pk, review=self.review) if study_pk else None
        services_screening.study_link_report(
            record=record, study=study, new_label=data.validated_data["label"]
        )
        record.refresh_from_db()
        return self._report(record)


# --- prioritised screening ------------------------------------------------------------------


class RankingView(ReviewScopedAPIMixin, APIView):
    """The relevance ranking of a stage and the stopping estimate (lead). Computed from
    complete records only, so it is the same before and after a blind vote."""

    read_role = Role.LEAD

    @extend_schema(responses=RankingStatusSerializer)
    def get(self, request: Request, review_pk: int, stage: str) -> Response:
        stage = _stage_or_404(stage)
        status_ = selectors_ranking.ranking_status(review=self.review, stage=stage)
        return Response(RankingStatusSerializer(status_.to_dict()).data)


class RankingRetrainView(ReviewScopedAPIMixin, APIView):
    """Queue a training now (after a failure, or to refresh); screening goes on meanwhile."""

    write_role = Role.LEAD

    @extend_schema(request=None, responses={202: RankingStatusSerializer})
    def post(self, request: Request, review_pk: int, stage: str) -> Response:
        stage = _stage_or_404(stage)
        services_ranking.ranking_retrain_now(review=self.review)
        status_ = selectors_ranking.ranking_status(review=self.review, stage=stage)
        return Response(RankingStatusSerializer(status_.to_dict()).data, status=202)


class StopSampleView(ReviewScopedAPIMixin, APIView):
    """POST draws the random sample of the records not yet screened for the stopping rule
    (served to reviewers first); DELETE closes it."""

    write_role = Role.LEAD

    @extend_schema(request=StopSampleInputSerializer, responses={201: RankingStatusSerializer})
    def post(self, request: Request, review_pk: int, stage: str) -> Response:
        stage = _stage_or_404(stage)
        data = StopSampleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services_ranking.stop_sample_start(
            review=self.review,
            stage=stage,
            user=request.user,
            recall_target=data.validated_data["recall_target"],
            confidence=data.validated_data["confidence"],
        )
        status_ = selectors_ranking.ranking_status(review=self.review, stage=stage)
        return Response(RankingStatusSerializer(status_.to_dict()).data, status=201)

    @extend_schema(request=None, responses=RankingStatusSerializer)
    def delete(self, request: Request, review_pk: int, stage: str) -> Response:
        stage = _stage_or_404(stage)
        services_ranking.stop_sample_close(review=self.review, stage=stage)
        status_ = selectors_ranking.ranking_status(review=self.review, stage=stage)
        return Response(RankingStatusSerializer(status_.to_dict()).data)


class LeaseView(ReviewScopedAPIMixin, APIView):
    """Give back the record `next/` served you (release), skip it (it goes to the end of your
    queue; the answer carries your next record), or renew the lease while you read."""

    write_role = Role.REVIEWER

    @extend_schema(request=LeaseInputSerializer, responses={200: NextRecordSerializer, 204: None})
    def post(self, request: Request, review_pk: int, stage: str) -> Response:
        stage = _stage_or_404(stage)
        data = LeaseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        record_id, action_ = data.validated_data["record"], data.validated_data["action"]
        if action_ == "release":
            services_ranking.lease_release(
                review=self.review, stage=stage, reviewer=request.user, record_id=record_id
            )
            return Response(status=204)
        if action_ == "renew":
            if not lease_renew(
                review=self.review, stage=stage, reviewer=request.user, record_id=record_id
            ):
                raise ValidationError({"record": [f"You hold no lease on record {record_id}."]})
            return Response(status=204)
        services_ranking.lease_skip(
            review=self.review, stage=stage, reviewer=request.user, record_id=record_id
        )
        return Response(_next_payload(self.review, stage, request.user))
