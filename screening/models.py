"""The reference library: imports, records and duplicate decisions."""

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from simple_history.models import HistoricalRecords

from reviewapp.models import Review


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

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.source_database})"


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
            models.UniqueConstraint(fields=["review", "label"], name="study_label_unique_per_review")
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


class DedupAction(models.Model):
    """A team member's split, merge or change of primary, kept so it can be undone and so that
    later imports respect it (split pairs are never rejoined, merged pairs stay together)."""

    class Kind(models.TextChoices):
        SPLIT = "split", "Split from group"
        MERGE = "merge", "Merge"
        PRIMARY = "primary", "Make primary"

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
