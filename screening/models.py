"""The reference library: imports, records and duplicate decisions."""

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from simple_history.models import HistoricalRecords

from reviewapp.models import Review
from screening.references.identifiers import Accession, accession_list


def _empty_list() -> list:
    return []


def _import_upload_path(instance: "ImportBatch", filename: str) -> str:
    return f"imports/review-{instance.review_id}/{filename}"


class ImportBatch(models.Model):
    """One uploaded file: PRISMA 2020 counts records identified per source database."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class DeletionStatus(models.TextChoices):
        NONE = "", "Not asked"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FAILED = "failed", "Failed"
        DONE = "done", "Done"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="imports")
    source_database = models.CharField(max_length=200, help_text="e.g. MEDLINE (Ovid)")
    search_date = models.DateField(null=True, blank=True)
    search_string = models.TextField(blank=True)
    file_name = models.CharField(max_length=255)
    file = models.FileField(upload_to=_import_upload_path, blank=True)
    file_format = models.CharField(max_length=20, blank=True)
    encoding = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    records_read = models.PositiveIntegerField(default=0)
    records_imported = models.PositiveIntegerField(default=0)
    duplicates_found = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=_empty_list, blank=True)  # [{"line": 12, "reason": "..."}]
    error = models.TextField(blank=True)
    error_line = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # sha256 of the uploaded bytes: the same file imported twice would count its records twice
    # in PRISMA, so a second upload is refused unless the lead imports it as a new search.
    content_sha256 = models.CharField(max_length=64, blank=True)
    # The earlier import of the same file, when the lead imported it again as a new search.
    same_file_as = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Deleting an import removes its records (all of them, or those without screening work)
    # and keeps this row, so the review's history says what was deleted, when and by whom.
    records_deleted = models.PositiveIntegerField(default=0)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # A deletion runs in the background (screening/tasks.py): queued, running, then failed
    # with its reason, or done. While it is queued or running, its records take no new work.
    deletion_status = models.CharField(
        max_length=10, choices=DeletionStatus.choices, blank=True, default=""
    )
    deletion_error = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["review", "content_sha256"], name="import_review_sha256_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.source_database})"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_being_deleted(self) -> bool:
        return self.deletion_status in (self.DeletionStatus.QUEUED, self.DeletionStatus.RUNNING)


class Study(models.Model):
    """A study, which PRISMA 2020 counts apart from its reports: one trial can have several
    papers (records). Extraction and risk of bias are per study."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="studies")
    label = models.CharField(max_length=200, help_text="e.g. 'Chinman 2015'")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["label", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "label"], name="study_label_unique_per_review"
            )
        ]

    def __str__(self) -> str:
        return self.label


class RecordQuerySet(models.QuerySet["Record"]):
    def duplicates(self) -> "RecordQuerySet":
        return self.filter(duplicate_of__isnull=False)

    def unique(self) -> "RecordQuerySet":
        """Records kept after deduplication: PRISMA's 'records screened'."""
        return self.filter(duplicate_of__isnull=True)

    def primaries(self) -> "RecordQuerySet":
        """Records kept that have duplicates (a semi-join: no DISTINCT over a join)."""
        has_duplicates = Record.objects.filter(duplicate_of=models.OuterRef("pk"))
        return self.filter(models.Exists(has_duplicates), duplicate_of__isnull=True)

    def with_work(self) -> "RecordQuerySet":
        """Records a reviewer has worked on: a vote, a full text (or the reason it was not
        found), or a link to a study. Deleting an import never deletes these silently."""
        return self.filter(_work_q())

    def without_work(self) -> "RecordQuerySet":
        return self.exclude(_work_q())


def _work_q() -> models.Q:
    record = models.OuterRef("pk")
    return (
        models.Q(models.Exists(Decision.objects.filter(record=record)))
        | models.Q(models.Exists(FullTextReport.objects.filter(record=record)))
        | models.Q(study__isnull=False)
    )


class Record(models.Model):
    """A reference as imported. A duplicate points at the primary record of its group."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="records")
    import_batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="records")
    source_line = models.PositiveIntegerField(default=0)
    title = models.TextField(blank=True)
    abstract = models.TextField(blank=True)
    authors = models.JSONField(default=_empty_list, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    journal = models.CharField(max_length=500, blank=True)
    volume = models.CharField(max_length=50, blank=True)
    issue = models.CharField(max_length=50, blank=True)
    pages = models.CharField(max_length=50, blank=True)
    doi = models.CharField(max_length=255, blank=True, db_index=True)
    pmid = models.CharField(max_length=20, blank=True, db_index=True)
    issn = models.CharField(max_length=100, blank=True, help_text="e.g. '1234-5678; 8765-4321'")
    # Other databases' record numbers by key ({"wos": "WOS:000...", "scopus": "2-s2.0-..."});
    # the keys and their names are in screening.references.identifiers.
    accession_numbers = models.JSONField(default=dict, blank=True)
    url = models.TextField(blank=True)
    keywords = models.JSONField(default=_empty_list, blank=True)
    record_type = models.CharField(max_length=50, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    duplicate_reason = models.CharField(max_length=200, blank=True)
    # The study this report belongs to, once it is assessed at full text.
    study = models.ForeignKey(
        Study, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    # Filled by one UPDATE per import on PostgreSQL (GIN-indexed by a migration that runs only
    # there); unused (NULL) on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)

    history = HistoricalRecords(excluded_fields=["search_vector", "raw"])
    objects = RecordQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["review", "duplicate_of"], name="record_review_dup_idx"),
            models.Index(fields=["review", "year"], name="record_review_year_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(duplicate_of=models.F("id")),
                name="record_not_duplicate_of_itself",
            )
        ]

    def __str__(self) -> str:
        return self.title[:80] or f"Record {self.pk}"

    @property
    def first_author(self) -> str:
        return self.authors[0] if self.authors else ""

    @property
    def doi_url(self) -> str:
        return f"https://doi.org/{self.doi}" if self.doi else ""

    @property
    def pubmed_url(self) -> str:
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/" if self.pmid else ""

    @property
    def accessions(self) -> list[Accession]:
        """Accession numbers with their database's name and, where one is open, a link."""
        return accession_list(self.accession_numbers or {})


class DedupAction(models.Model):
    """A team member's split, merge or change of primary, kept so it can be undone and so that
    later imports respect it (split pairs are never rejoined, merged pairs stay together)."""

    class Kind(models.TextChoices):
        SPLIT = "split", "Split from group"
        MERGE = "merge", "Merge"
        PRIMARY = "primary", "Make primary"
        SEPARATE = "separate", "Not duplicates"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="dedup_actions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(
        Record, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # {record_id: duplicate_of_id or None} before the action, for undo.
    before = models.JSONField(default=dict)
    # Pairs the engine must keep apart (split) or together (merge) from now on.
    cannot_link = models.JSONField(default=_empty_list, blank=True)
    must_link = models.JSONField(default=_empty_list, blank=True)
    # The screening work that followed the paper to the record kept, one entry per record it
    # left (screening.keeper.move_work): record, decision, item, full-text and study ids.
    moved = models.JSONField(default=_empty_list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.record_id}"


class PossibleDuplicate(models.Model):
    """Two records the matcher found likely, but not certain, to be the same paper: they stay
    apart until a team member confirms them (a merge) or separates them (a cannot-link), so
    PRISMA counts them once decided. `action` is the DedupAction that carried out the decision,
    which undo reverses. The pair is stored once, lower record id first."""

    class Status(models.TextChoices):
        OPEN = "open", "To decide"
        CONFIRMED = "confirmed", "Duplicates"
        SEPARATED = "separated", "Not duplicates"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="possible_duplicates")
    record_a = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    record_b = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    action = models.ForeignKey(
        DedupAction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # {record_id: duplicate_reason} of the records a confirmation moved: the DedupAction's
    # snapshot keeps where they pointed, this keeps why, so undo restores both exactly.
    reasons_before = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["review", "status"], name="possible_review_status_idx")]
        constraints = [
            models.UniqueConstraint(fields=["record_a", "record_b"], name="possible_pair_unique"),
            models.CheckConstraint(
                condition=models.Q(record_a__lt=models.F("record_b")),
                name="possible_pair_ordered",
            ),
            # An open pair has no decision; a decided one says who decided and when.
            models.CheckConstraint(
                condition=(models.Q(status="open") & models.Q(decided_at__isnull=True))
                | (~models.Q(status="open") & models.Q(decided_at__isnull=False)),
                name="possible_decided_iff_not_open",
            ),
        ]

    def __str__(self) -> str:
        return f"Possible duplicates {self.record_a_id} and {self.record_b_id}: {self.status}"


# --- screening decisions ------------------------------------------------------------------


class Stage(models.TextChoices):
    TITLE_ABSTRACT = "ta", "Title and abstract"
    FULL_TEXT = "ft", "Full text"


class Verdict(models.TextChoices):
    INCLUDE = "include", "Include"
    EXCLUDE = "exclude", "Exclude"
    MAYBE = "maybe", "Maybe"


class StageSettings(models.Model):
    """What the lead decided for one stage of one review."""

    class Order(models.TextChoices):
        RELEVANCE = "relevance", "By predicted relevance"
        IMPORT = "import", "In import order"
        RANDOM = "random", "In random order"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="stage_settings")
    stage = models.CharField(max_length=2, choices=Stage.choices)
    reviewers_required = models.PositiveSmallIntegerField(
        default=2, help_text="Independent decisions each record needs (1 or 2)."
    )
    blind = models.BooleanField(
        default=True, help_text="Hide other reviewers' decisions until a record is complete."
    )
    exclusion_reasons = models.JSONField(default=_empty_list, blank=True)
    include_terms = models.JSONField(default=_empty_list, blank=True)
    exclude_terms = models.JSONField(default=_empty_list, blank=True)
    # Relevance order is random until the stage has an include and an exclude to learn from.
    order = models.CharField(max_length=10, choices=Order.choices, default=Order.RELEVANCE)
    # Full text: a vote is refused until the report's PDF is attached (the lead may turn it off).
    votes_need_pdf = models.BooleanField(
        default=True, help_text="Full text: reviewers vote only once the report's PDF is attached."
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "stage"], name="stage_settings_unique"),
            models.CheckConstraint(
                condition=models.Q(reviewers_required__in=[1, 2]),
                name="stage_settings_one_or_two_reviewers",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} settings"


class ScreeningItem(models.Model):
    """One record at one stage: how many votes it has, and its outcome once complete.

    Every vote locks this row (SELECT ... FOR UPDATE), so two reviewers voting on the same record
    at the same moment are serialised and both counted, and a third vote cannot slip in.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Awaiting decisions"
        CONFLICT = "conflict", "In conflict"
        DECIDED = "decided", "Decided (reviewers agree)"
        RESOLVED = "resolved", "Resolved by arbiter"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="screening_items")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="screening_items")
    stage = models.CharField(max_length=2, choices=Stage.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    votes = models.PositiveSmallIntegerField(default=0)
    final_verdict = models.CharField(max_length=10, choices=Verdict.choices, blank=True)
    final_reason = models.CharField(max_length=200, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["record_id"]
        indexes = [
            models.Index(fields=["review", "stage", "status"], name="item_review_stage_status_idx"),
            # "Decisions since the last training", asked after every label change.
            models.Index(fields=["review", "updated_at"], name="item_review_updated_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["record", "stage"], name="item_unique_per_stage"),
            # A complete record has an outcome; an open or conflicting one has none.
            models.CheckConstraint(
                condition=(
                    models.Q(status__in=["decided", "resolved"]) & ~models.Q(final_verdict="")
                )
                | (models.Q(status__in=["open", "conflict"]) & models.Q(final_verdict="")),
                name="item_outcome_iff_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"Record {self.record_id} at {self.stage}: {self.status}"

    @property
    def is_complete(self) -> bool:
        """All votes are in: blind mode no longer hides them."""
        return self.status != self.Status.OPEN


class Decision(models.Model):
    """One reviewer's vote on one record at one stage, before any resolution. Changes are kept
    in its history; the arbiter's resolution lives on the ScreeningItem, never here."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="decisions")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="decisions")
    stage = models.CharField(max_length=2, choices=Stage.choices)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="screening_decisions"
    )
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    reason = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    tags = models.JSONField(default=_empty_list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["review", "stage", "reviewer"], name="decision_reviewer_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "stage", "reviewer"], name="decision_one_vote_per_reviewer"
            ),
            models.CheckConstraint(
                condition=models.Q(verdict__in=["include", "exclude", "maybe"]),
                name="decision_verdict_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer_id} {self.verdict} record {self.record_id} at {self.stage}"


def _fulltext_upload_path(instance: "FullTextReport", filename: str) -> str:
    return f"fulltext/review-{instance.review_id}/record-{instance.record_id}/{filename}"


class FullTextReport(models.Model):
    """The full text of a record sought at full text: a PDF, or the reason it was not found."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="fulltexts")
    record = models.OneToOneField(Record, on_delete=models.CASCADE, related_name="fulltext")
    pdf = models.FileField(upload_to=_fulltext_upload_path, blank=True, max_length=300)
    not_retrieved_reason = models.CharField(max_length=300, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            # Either we have the paper or we say why not; never both.
            models.CheckConstraint(
                condition=~(~models.Q(pdf="") & ~models.Q(not_retrieved_reason="")),
                name="fulltext_pdf_or_not_retrieved",
            )
        ]

    def __str__(self) -> str:
        return f"Full text of record {self.record_id}"

    @property
    def not_retrieved(self) -> bool:
        return bool(self.not_retrieved_reason)


# --- prioritised screening ----------------------------------------------------------------


class RankingState(models.Model):
    """The relevance model of one stage: what the current ranking was trained on, and whether a
    training is queued, running or failed. The ranking itself is in RecordRank."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="ranking_states")
    stage = models.CharField(max_length=2, choices=Stage.choices)
    # A training is queued (set when sent, cleared when the task starts).
    pending_since = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    # The labels the current ranking learnt from; the fingerprint makes a retry a no-op.
    labels_fingerprint = models.CharField(max_length=64, blank=True)
    labelled = models.PositiveIntegerField(default=0)
    relevant = models.PositiveIntegerField(default=0)
    records_ranked = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    method = models.CharField(max_length=200, blank=True)
    # Counts of the ranked records' scores in ten bins of [0, 1].
    score_histogram = models.JSONField(default=_empty_list, blank=True)
    error = models.TextField(blank=True)
    error_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "stage"], name="ranking_state_unique")
        ]

    def __str__(self) -> str:
        return f"Ranking of review {self.review_id} at {self.stage}"


class RecordRank(models.Model):
    """A record's place in the last ranking of its stage (0 = most likely relevant)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="+")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="ranks")
    stage = models.CharField(max_length=2, choices=Stage.choices)
    rank = models.PositiveIntegerField()
    score = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["review", "stage", "rank"], name="rank_review_stage_idx")]
        constraints = [
            models.UniqueConstraint(fields=["record", "stage"], name="rank_unique_per_stage")
        ]

    def __str__(self) -> str:
        return f"Record {self.record_id} ranked {self.rank} at {self.stage}"


class ScreeningLease(models.Model):
    """A record served to a reviewer and not yet decided: it holds one of the record's vote
    slots until `expires_at`, so that no more reviewers read it than it still needs votes.

    Released by the vote, a skip (kept, `skipped`, so that the record moves to the end of this
    reviewer's queue), closing the page, or the timeout. Rows survive a worker restart; an
    expired row is ignored and reused.
    """

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="+")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="leases")
    stage = models.CharField(max_length=2, choices=Stage.choices)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    expires_at = models.DateTimeField()
    skipped = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["review", "stage", "reviewer"], name="lease_reviewer_idx"),
            models.Index(fields=["record", "stage", "expires_at"], name="lease_record_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "stage", "reviewer"], name="lease_one_per_reviewer"
            )
        ]

    def __str__(self) -> str:
        return f"Record {self.record_id} leased to {self.reviewer_id} at {self.stage}"


class StopSample(models.Model):
    """A random sample of the records not yet screened when the lead asked for it, served
    before the ranked order, for the statistical stopping rule (docs/screening.md)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="stop_samples")
    stage = models.CharField(max_length=2, choices=Stage.choices)
    # The records remaining at the start, in the random order they are served.
    record_ids = models.JSONField(default=_empty_list)
    relevant_before = models.PositiveIntegerField()
    screened_before = models.PositiveIntegerField()
    recall_target = models.FloatField(default=0.95)
    confidence = models.FloatField(default=0.95)
    seed = models.BigIntegerField()
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "stage"],
                condition=models.Q(closed_at__isnull=True),
                name="stop_sample_one_open_per_stage",
            ),
            models.CheckConstraint(
                condition=models.Q(recall_target__gt=0, recall_target__lt=1)
                & models.Q(confidence__gt=0, confidence__lt=1),
                name="stop_sample_fractions",
            ),
        ]

    def __str__(self) -> str:
        return f"Stopping sample at {self.stage} of review {self.review_id}"
