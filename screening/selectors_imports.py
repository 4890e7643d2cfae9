"""Reads about imports: the earlier import of a file, and what deleting an import would take."""

from dataclasses import dataclass

from django.db.models import QuerySet

from reviewapp.models import Review
from screening.models import Decision, FullTextReport, ImportBatch, Record, RecordQuerySet


def import_same_file(*, review: Review, content_sha256: str) -> ImportBatch | None:
    """The earliest import of these bytes still standing in the review: not deleted, and not
    failed (a failed import stored nothing, so its file may be tried again)."""
    if not content_sha256:
        return None
    return (
        ImportBatch.objects.filter(
            review=review, content_sha256=content_sha256, deleted_at__isnull=True
        )
        .exclude(status=ImportBatch.Status.FAILED)
        .select_related("created_by")
        .order_by("created_at", "id")
        .first()
    )


def import_records_to_delete(*, batch: ImportBatch) -> RecordQuerySet:
    """The records a deletion removes: those without screening work. The condition is part of
    the DELETE itself, so a vote cast after the lead looked is kept, never deleted."""
    return Record.objects.filter(import_batch=batch).without_work()


def import_records_kept(*, batch: ImportBatch) -> int:
    """The screened records a finished deletion of this import kept (0 before one ran)."""
    if batch.deletion_status != ImportBatch.DeletionStatus.DONE or batch.is_deleted:
        return 0
    return Record.objects.filter(import_batch=batch).count()


@dataclass(frozen=True)
class ImportDeletionPreview:
    """What deleting one import would remove, and what it would cost in screening work."""

    batch: ImportBatch
    records: int
    # Records with a vote, a full text or a study link, and how much of each they carry.
    records_with_work: int
    votes: int
    fulltexts: int
    study_links: int
    # Records of other imports marked as duplicates of a record that goes: each group gets a
    # new kept record, or its last member becomes unique again.
    regrouped: int
    # Why the import cannot be deleted at all; empty when it can.
    refusal: str

    @property
    def keep_screened(self) -> bool:
        """With work on its records, only the records without work can go."""
        return self.records_with_work > 0

    @property
    def records_to_delete(self) -> int:
        return self.records - self.records_with_work

    @property
    def loss(self) -> str:
        """The work a full deletion would destroy, in words ('' when there is none)."""
        parts = [
            _plural(self.votes, "vote"),
            _plural(self.fulltexts, "full-text report"),
            _plural(self.study_links, "study link"),
        ]
        return ", ".join(p for p in parts if p)


def _plural(n: int, noun: str) -> str:
    if not n:
        return ""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _refusal(batch: ImportBatch) -> str:
    if batch.deleted_at is not None:
        return f"The import of {batch.file_name} was already deleted."
    if batch.status in (ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING):
        return (
            f"{batch.file_name} is still being imported; delete it once the import has "
            "finished or failed."
        )
    return ""


def import_deletion_preview(*, batch: ImportBatch) -> ImportDeletionPreview:
    records = Record.objects.filter(import_batch=batch)
    in_batch = records.values("pk")
    with_work = records.with_work().count()
    doomed = import_records_to_delete(batch=batch).values("pk")
    regrouped = (
        Record.objects.filter(review_id=batch.review_id, duplicate_of__in=doomed)
        .exclude(pk__in=doomed)
        .count()
    )
    return ImportDeletionPreview(
        batch=batch,
        records=records.count(),
        records_with_work=with_work,
        votes=Decision.objects.filter(record__in=in_batch).count(),
        fulltexts=FullTextReport.objects.filter(record__in=in_batch).count(),
        study_links=records.filter(study__isnull=False).count(),
        regrouped=regrouped,
        refusal=_refusal(batch),
    )


def imports_of_review(*, review: Review) -> QuerySet[ImportBatch]:
    """Every import, newest first, deleted ones included (they say who deleted them)."""
    return ImportBatch.objects.filter(review=review).select_related(
        "created_by", "deleted_by", "same_file_as"
    )
