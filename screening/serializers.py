from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from screening.models import (
    Decision,
    DedupAction,
    FullTextReport,
    ImportBatch,
    PossibleDuplicate,
    Record,
    ScreeningItem,
    Stage,
    StageSettings,
    Verdict,
)
from screening.visibility import votes_visible_q


class DeletionProgressSerializer(serializers.Serializer):
    percent = serializers.IntegerField()
    stage = serializers.CharField()


class ImportBatchSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    deletion_progress = serializers.SerializerMethodField()

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "source_database",
            "search_date",
            "search_string",
            "file_name",
            "file_format",
            "encoding",
            "status",
            "progress",
            "records_read",
            "records_imported",
            "duplicates_found",
            "skipped",
            "error",
            "error_line",
            "created_at",
            "finished_at",
            "content_sha256",
            "same_file_as",
            "records_deleted",
            "deleted_at",
            "deletion_status",
            "deletion_error",
            "deletion_progress",
        ]
        read_only_fields = fields

    @extend_schema_field(DeletionProgressSerializer)
    def get_deletion_progress(self, batch: ImportBatch) -> dict[str, Any]:
        """How far a queued or running deletion got: percent and the step it is on."""
        from screening.services_imports import import_delete_progress_get

        return import_delete_progress_get(batch.pk)

    def get_progress(self, batch: ImportBatch) -> int:
        from screening.services import import_progress_get

        if batch.status in (ImportBatch.Status.DONE, ImportBatch.Status.FAILED):
            return 100
        progress = import_progress_get(batch.pk)
        return int(progress["percent"]) if progress else 0


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    source_database = serializers.CharField(max_length=200)
    search_date = serializers.DateField(required=False, allow_null=True)
    search_string = serializers.CharField(required=False, allow_blank=True, default="")
    new_search = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Import a file already imported into the review again, as a new search "
        "(otherwise it is refused, naming the earlier import).",
    )


class ImportDeletionPreviewSerializer(serializers.Serializer):
    """What deleting the import would remove; `refusal` says why it cannot be deleted."""

    records = serializers.IntegerField()
    records_with_work = serializers.IntegerField(
        help_text="Records with a vote, a full text or a study link: never deleted."
    )
    records_to_delete = serializers.IntegerField()
    votes = serializers.IntegerField()
    fulltexts = serializers.IntegerField()
    study_links = serializers.IntegerField()
    regrouped = serializers.IntegerField(
        help_text="Records of other imports that get a new kept record or become unique."
    )
    keep_screened = serializers.BooleanField(
        help_text="True when deleting needs keep_screened=true (only records without work go)."
    )
    loss = serializers.CharField()
    refusal = serializers.CharField()


class AccessionSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="Database key, e.g. 'wos', 'scopus', 'unknown'.")
    name = serializers.CharField(help_text="The database's name, e.g. 'Web of Science'.")
    value = serializers.CharField(help_text="The record's number in that database.")
    url = serializers.CharField(help_text="A public link to the record there, or ''.")


class RecordSerializer(serializers.ModelSerializer):
    source_database = serializers.CharField(source="import_batch.source_database", read_only=True)
    doi_url = serializers.CharField(read_only=True)
    pubmed_url = serializers.CharField(read_only=True)
    accession_numbers = serializers.DictField(
        child=serializers.CharField(),
        read_only=True,
        help_text=(
            "Other databases' record numbers by key (wos, scopus, embase, psycinfo, cinahl, "
            "cochrane, pmcid, dimensions, lens, proquest, eric, econlit, ebsco, unknown). "
            "'unknown' is an accession number whose database the export did not name."
        ),
    )
    accessions = AccessionSerializer(many=True, read_only=True)

    class Meta:
        model = Record
        fields = [
            "id",
            "import_batch",
            "source_database",
            "source_line",
            "title",
            "abstract",
            "authors",
            "year",
            "journal",
            "volume",
            "issue",
            "pages",
            "doi",
            "doi_url",
            "pmid",
            "pubmed_url",
            "issn",
            "accession_numbers",
            "accessions",
            "url",
            "keywords",
            "record_type",
            "raw",
            "duplicate_of",
            "duplicate_reason",
        ]
        read_only_fields = fields


class MergeSerializer(serializers.Serializer):
    other = serializers.IntegerField(help_text="The record this one duplicates.")


class DedupActionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)

    class Meta:
        model = DedupAction
        fields = [
            "id", "kind", "record", "other", "moved", "created_by", "created_at", "undone_at",
        ]  # fmt: skip
        read_only_fields = fields


class RecordWorkSerializer(serializers.Serializer):
    """The screening work a record carries (screening/keeper.py)."""

    record_id = serializers.IntegerField()
    lines = serializers.ListField(child=serializers.CharField(), source="describe")


class WorkMoveSerializer(serializers.Serializer):
    source = RecordWorkSerializer()
    target = RecordWorkSerializer()


class DedupPlanSerializer(serializers.Serializer):
    """What a split, merge or change of kept record would move, or why it is refused."""

    kind = serializers.CharField()
    record_id = serializers.IntegerField()
    other_id = serializers.IntegerField(allow_null=True)
    keeper_id = serializers.IntegerField(help_text="The record kept afterwards.")
    moves_work = serializers.BooleanField()
    moves = WorkMoveSerializer(many=True)
    refusal = serializers.CharField(help_text="Empty when the change can be made.")
    lines = serializers.ListField(child=serializers.CharField())


# --- screening -----------------------------------------------------------------------------


class BlindDecisionListSerializer(serializers.ListSerializer):
    """Drops every vote the requesting user may not see, whatever queryset it was given."""

    def to_representation(self, data: Any) -> list[Any]:
        decisions = list(data.all() if hasattr(data, "all") else data)
        return [self.child.to_representation(d) for d in _visible(decisions, self.context)]


def _visible(decisions: list[Decision], context: dict[str, Any]) -> list[Decision]:
    request = context.get("request")
    if request is None or not decisions:
        return []
    visible: set[int] = set()
    for review_id in {d.review_id for d in decisions}:
        visible |= set(
            Decision.objects.filter(pk__in=[d.pk for d in decisions if d.review_id == review_id])
            .filter(votes_visible_q(review=review_id, user=request.user))
            .values_list("pk", flat=True)
        )
    return [d for d in decisions if d.pk in visible]


class DecisionSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username", read_only=True)

    class Meta:
        model = Decision
        list_serializer_class = BlindDecisionListSerializer
        fields = [
            "id",
            "record",
            "stage",
            "reviewer",
            "verdict",
            "reason",
            "note",
            "tags",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DecisionInputSerializer(serializers.Serializer):
    record = serializers.IntegerField()
    stage = serializers.ChoiceField(choices=Stage.choices)
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    tags = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list
    )


class AmendSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    note = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None)
    why = serializers.CharField(
        max_length=100, help_text="Why the vote changes; kept in the vote's history."
    )


class ScreeningItemSerializer(serializers.ModelSerializer):
    """A record's outcome at a stage. Blind mode: while votes are missing, the number of votes
    is withheld from everyone (it would tell a reviewer that the other has voted)."""

    resolved_by = serializers.CharField(source="resolved_by.username", read_only=True, default=None)
    votes = serializers.SerializerMethodField()

    class Meta:
        model = ScreeningItem
        fields = [
            "id",
            "record",
            "stage",
            "status",
            "votes",
            "final_verdict",
            "final_reason",
            "resolved_by",
            "resolved_at",
            "resolution_note",
        ]
        read_only_fields = fields

    def get_votes(self, item: ScreeningItem) -> int | None:
        blind = self.context.get("blind", True)
        return item.votes if item.is_complete or not blind else None


class ConflictSerializer(ScreeningItemSerializer):
    """A complete record (all votes in), so every vote is shown."""

    title = serializers.CharField(source="record.title", read_only=True)
    decisions = serializers.SerializerMethodField()

    class Meta(ScreeningItemSerializer.Meta):
        fields = [*ScreeningItemSerializer.Meta.fields, "title", "decisions"]
        read_only_fields = fields

    def get_decisions(self, item: ScreeningItem) -> list[dict[str, Any]]:
        if not item.is_complete:  # defence in depth: conflicts always have every vote
            return []
        votes = getattr(item.record, "stage_votes", None)
        if votes is None:
            votes = item.record.decisions.filter(stage=item.stage).select_related("reviewer")
        return [DecisionSerializer(v).data for v in _visible(list(votes), self.context)]


class ResolveSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=[Verdict.INCLUDE, Verdict.EXCLUDE])
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ScreeningRecordSerializer(RecordSerializer):
    """A record as the screening page shows it, with the votes the user may see."""

    class Meta(RecordSerializer.Meta):
        fields = [f for f in RecordSerializer.Meta.fields if f != "raw"]
        read_only_fields = fields


class NextRecordSerializer(serializers.Serializer):
    record = ScreeningRecordSerializer(allow_null=True)
    queues = serializers.DictField(child=serializers.IntegerField())


class StageSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = StageSettings
        fields = [
            "stage",
            "reviewers_required",
            "blind",
            "exclusion_reasons",
            "include_terms",
            "exclude_terms",
            "order",
            "votes_need_pdf",
            "updated_at",
        ]
        read_only_fields = ["stage", "updated_at"]
        extra_kwargs = {"order": {"required": False}, "votes_need_pdf": {"required": False}}


class AgreementSerializer(serializers.Serializer):
    stage = serializers.CharField()
    reviewer_a = serializers.CharField()
    reviewer_b = serializers.CharField()
    n = serializers.IntegerField(source="result.n")
    percent_agreement = serializers.FloatField(source="result.percent_agreement", allow_null=True)
    kappa = serializers.FloatField(source="result.kappa", allow_null=True)
    kappa_ci_lb = serializers.FloatField(source="result.kappa_ci_lb", allow_null=True)
    kappa_ci_ub = serializers.FloatField(source="result.kappa_ci_ub", allow_null=True)
    pabak = serializers.FloatField(source="result.pabak", allow_null=True)
    ac1 = serializers.FloatField(source="result.ac1", allow_null=True)


class PrismaSerializer(serializers.Serializer):
    identified_per_source = serializers.DictField(child=serializers.IntegerField())
    records_identified = serializers.IntegerField()
    duplicates_removed = serializers.IntegerField()
    records_screened = serializers.IntegerField()
    records_excluded = serializers.IntegerField()
    reports_sought = serializers.IntegerField()
    reports_not_retrieved = serializers.IntegerField()
    reports_assessed = serializers.IntegerField()
    reports_excluded = serializers.DictField(child=serializers.IntegerField())
    reports_excluded_total = serializers.IntegerField()
    studies_included = serializers.IntegerField()
    reports_of_included_studies = serializers.IntegerField()
    problems = serializers.ListField(child=serializers.CharField())
    pending = serializers.DictField(child=serializers.IntegerField())


class FullTextSerializer(serializers.ModelSerializer):
    not_retrieved = serializers.BooleanField(read_only=True)
    has_pdf = serializers.SerializerMethodField()
    study = serializers.CharField(
        source="record.study.label", read_only=True, default=None, allow_null=True
    )
    # None for a record with no full-text report yet (the API answers before one exists).
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = FullTextReport
        fields = [
            "record",
            "has_pdf",
            "not_retrieved",
            "not_retrieved_reason",
            "study",
            "updated_at",
        ]
        read_only_fields = fields

    def get_has_pdf(self, report: FullTextReport) -> bool:
        return bool(report.pdf)


class FullTextUploadSerializer(serializers.Serializer):
    pdf = serializers.FileField()


class NotRetrievedSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class StudyLinkSerializer(serializers.Serializer):
    study = serializers.IntegerField(required=False, allow_null=True)
    label = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


# --- prioritised screening ------------------------------------------------------------------


class StopEstimateSerializer(serializers.Serializer):
    recall_target = serializers.FloatField()
    confidence = serializers.FloatField()
    remaining_at_start = serializers.IntegerField()
    relevant_before = serializers.IntegerField()
    sampled = serializers.IntegerField()
    sampled_relevant = serializers.IntegerField()
    p_value = serializers.FloatField(help_text="p value of 'recall is below the target'")
    probability_reached = serializers.FloatField(help_text="1 - p_value")
    can_stop = serializers.BooleanField()
    more_needed = serializers.IntegerField(
        allow_null=True,
        help_text="sampled records without an include still needed before can_stop",
    )
    started_at = serializers.DateTimeField()
    closed = serializers.BooleanField()


class RankingStatusSerializer(serializers.Serializer):
    stage = serializers.CharField()
    order = serializers.CharField()
    active = serializers.BooleanField(help_text="relevance order with a trained ranking")
    state = serializers.ChoiceField(
        choices=["untrained", "current", "stale", "queued", "training", "failed", "stuck"]
    )
    trained_at = serializers.DateTimeField(allow_null=True)
    labelled = serializers.IntegerField()
    relevant = serializers.IntegerField()
    records_ranked = serializers.IntegerField()
    duration_ms = serializers.IntegerField()
    method = serializers.CharField()
    labels_since = serializers.IntegerField(help_text="decisions since the last training")
    labels_needed = serializers.IntegerField(help_text="decisions that make a training due")
    error = serializers.CharField()
    score_histogram = serializers.ListField(child=serializers.IntegerField())
    screened = serializers.IntegerField()
    included = serializers.IntegerField()
    consecutive_excludes = serializers.IntegerField()
    curve = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="[records screened, includes found] points",
    )
    stop = StopEstimateSerializer(allow_null=True)
    sample_open = serializers.BooleanField()


class StopSampleInputSerializer(serializers.Serializer):
    recall_target = serializers.FloatField(default=0.95, min_value=0.5, max_value=0.999)
    confidence = serializers.FloatField(default=0.95, min_value=0.5, max_value=0.999)


class LeaseInputSerializer(serializers.Serializer):
    record = serializers.IntegerField()
    action = serializers.ChoiceField(choices=["skip", "release", "renew"])


class PossibleRecordSerializer(serializers.ModelSerializer):
    source_database = serializers.CharField(source="import_batch.source_database", read_only=True)

    class Meta:
        model = Record
        fields = [
            "id",
            "title",
            "authors",
            "journal",
            "year",
            "volume",
            "issue",
            "pages",
            "doi",
            "pmid",
            "issn",
            "abstract",
            "source_database",
            "duplicate_of",
        ]
        read_only_fields = fields


class PossibleDuplicateSerializer(serializers.ModelSerializer):
    record_a = PossibleRecordSerializer(read_only=True)
    record_b = PossibleRecordSerializer(read_only=True)
    decided_by = serializers.CharField(
        source="decided_by.username", read_only=True, default=None, allow_null=True
    )
    action = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The duplicate change that carried it out."
    )

    class Meta:
        model = PossibleDuplicate
        fields = [
            "id",
            "record_a",
            "record_b",
            "reason",
            "status",
            "action",
            "decided_by",
            "decided_at",
            "created_at",
        ]
        read_only_fields = fields
