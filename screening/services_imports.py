"""Taking an import back: delete its records, set by set, and mend what pointed at them.

An import of 100,000 records is deleted with a handful of statements, never row by row: no
model instances are loaded, no delete signals run. The ImportBatch row stays as the record of
what was deleted, when and by whom (its history row is the audit entry); its file stays too, so
the same bytes can be imported again once the import is deleted.

Screening work is never deleted: an import whose records carry votes, full texts or study links
is refused, or, when the lead asks, only its records without work are deleted.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Exists, Min, OuterRef, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.utils import timezone

from reviewapp.common.outbox import outbox_enqueue
from reviewapp.errors import DomainError
from screening.models import DedupAction, ImportBatch, Record, RecordQuerySet, StopSample
from screening.selectors_imports import (
    ImportDeletionPreview,
    import_deletion_preview,
    import_records_to_delete,
)

ID_CHUNK = 5000


@dataclass(frozen=True)
class ImportDeletion:
    batch: ImportBatch
    records_deleted: int
    records_kept: int  # the screened copies left in place
    regrouped: int  # records of other imports given a new kept record, or made unique


def _progress_key(batch_id: int) -> str:
    return f"import-delete-progress:{batch_id}"


def import_delete_progress_set(batch_id: int, percent: int, stage: str) -> None:
    cache.set(_progress_key(batch_id), {"percent": percent, "stage": stage}, timeout=3600)


def import_delete_progress_get(batch_id: int) -> dict[str, Any]:
    return cache.get(_progress_key(batch_id)) or {"percent": 0, "stage": "queued"}


def _check_deletable(batch: ImportBatch, preview: ImportDeletionPreview, keep: bool) -> None:
    if preview.refusal:
        raise DomainError(preview.refusal)
    if preview.records_with_work and not keep:
        raise DomainError(
            f"{preview.records_with_work:,} record(s) of {batch.file_name} carry screening work "
            f"({preview.loss}); deleting the import would lose it. Delete only the "
            f"{preview.records_to_delete:,} record(s) without work, keeping the screened "
            "copies, or leave the import as it is."
        )


@transaction.atomic
def import_delete_request(
    *, batch: ImportBatch, user: Any, keep_screened: bool = False
) -> ImportBatch:
    """Queue the deletion of an import (`import_delete`, run by a worker through the outbox):
    a 100,000-record deletion never holds a web request. Refused at once when the rules of
    import deletion refuse it now; from the moment it is queued, its records take no new
    work (services_screening._lock_record_for_work)."""
    from screening.tasks import import_delete_task

    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.is_being_deleted:
        raise DomainError(f"{batch.file_name} is already being deleted.")
    _check_deletable(batch, import_deletion_preview(batch=batch), keep_screened)
    batch.deletion_status = ImportBatch.DeletionStatus.QUEUED
    batch.deletion_error = ""
    batch._history_user = user  # type: ignore[attr-defined]  # django-simple-history attributes the change to this user
    batch.save(update_fields=["deletion_status", "deletion_error"])
    import_delete_progress_set(batch.pk, 0, "queued")
    outbox_enqueue(import_delete_task.name, batch.pk, user.pk, keep_screened)
    return batch


def import_delete_run(*, batch_id: int, user_id: int, keep_screened: bool) -> str:
    """The worker's half of `import_delete_request`: delete, or fail leaving the data as it
    was (the deletion is one transaction) and say why on the import. Returns the status."""
    from django.contrib.auth import get_user_model

    Status = ImportBatch.DeletionStatus
    claimed = ImportBatch.objects.filter(
        pk=batch_id, deletion_status__in=[Status.QUEUED, Status.RUNNING]
    ).update(deletion_status=Status.RUNNING)
    if not claimed:
        return "not queued"  # done or failed already: a redelivered message
    user = get_user_model().objects.filter(pk=user_id).first()

    def progress(percent: int, stage: str) -> None:
        import_delete_progress_set(batch_id, percent, stage)

    try:
        import_delete(
            batch=ImportBatch.objects.get(pk=batch_id),
            user=user,
            keep_screened=keep_screened,
            progress=progress,
        )
    except DomainError as exc:
        _deletion_failed(batch_id, exc.message)
        return Status.FAILED
    except Exception as exc:
        _deletion_failed(
            batch_id,
            f"The deletion stopped on an error ({type(exc).__name__}); nothing was "
            "deleted. Try again, or tell the administrator if it keeps failing.",
        )
        raise
    progress(100, "done")
    return Status.DONE


def _deletion_failed(batch_id: int, message: str) -> None:
    ImportBatch.objects.filter(pk=batch_id).update(
        deletion_status=ImportBatch.DeletionStatus.FAILED, deletion_error=message
    )
    import_delete_progress_set(batch_id, 100, "failed")


@transaction.atomic
def import_delete(
    *,
    batch: ImportBatch,
    user: Any,
    keep_screened: bool = False,
    progress: Callable[[int, str], None] | None = None,
) -> ImportDeletion:
    """Delete an import's records (or, with `keep_screened`, those without screening work).

    Records of other imports that were duplicates of a deleted record are regrouped: the
    earliest one left becomes the kept record of its group, or unique when it is alone. PRISMA
    counts records, so its boxes follow at once.
    """
    step = progress or (lambda percent, stage: None)
    step(5, "locking the records")
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    _lock_records(batch)
    # Read after the locks: a vote that held one of them has committed and is counted.
    step(20, "checking for screening work")
    _check_deletable(batch, import_deletion_preview(batch=batch), keep_screened)
    doomed = _materialise(import_records_to_delete(batch=batch))
    step(35, "mending duplicate decisions")
    _prune_dedup_actions(batch.review_id, doomed)
    _prune_stop_samples(batch.review_id, doomed)
    regrouped = _regroup_orphans(doomed)
    step(55, "deleting the records")
    try:
        with transaction.atomic():
            _check_constraints_now(True)
            # Checked again: a record that got a vote since it was chosen stays.
            deleted = _delete_rows(doomed.without_work())
            _check_constraints_now(False)
    except IntegrityError as exc:
        # A vote or a full text arrived for one of these records during the DELETE: the
        # foreign key refuses the deletion and nothing is lost.
        raise DomainError(
            "Someone worked on a record of this import while it was being deleted; nothing "
            "was deleted. Look at the import again and retry."
        ) from exc
    kept = Record.objects.filter(import_batch=batch).count()
    batch.records_deleted += deleted
    if kept == 0:
        batch.deleted_at = timezone.now()
        batch.deleted_by = user
    batch.deletion_status = ImportBatch.DeletionStatus.DONE
    batch.deletion_error = ""
    batch._history_user = user  # type: ignore[attr-defined]  # django-simple-history attributes the change to this user
    batch.save(
        update_fields=[
            "records_deleted",
            "deleted_at",
            "deleted_by",
            "deletion_status",
            "deletion_error",
        ]
    )
    return ImportDeletion(
        batch=batch, records_deleted=deleted, records_kept=kept, regrouped=regrouped
    )


def _lock_records(batch: ImportBatch) -> None:
    """Lock every record of the import, in id order, before looking for work on them. Work is
    written under the same row lock (services_screening._lock_record_for_work): work begun
    first finishes first and is then seen here; work that comes later waits for the deletion
    and finds the record gone. One statement, no rows sent back."""
    table = Record._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT id FROM {table} WHERE import_batch_id = %s "
            "ORDER BY id FOR UPDATE) AS locked",
            [batch.pk],
        )


def _materialise(records: RecordQuerySet) -> RecordQuerySet:
    """On PostgreSQL, the ids of `records` in a temporary table that the following statements
    join on, instead of each re-running the query that chose them."""
    if connection.vendor != "postgresql":
        return records
    sql, params = records.values_list("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS import_doomed")
        cursor.execute(
            f"CREATE TEMP TABLE import_doomed ON COMMIT DROP AS SELECT id FROM ({sql}) AS s(id)",
            params,
        )
        cursor.execute("ALTER TABLE import_doomed ADD PRIMARY KEY (id)")
        cursor.execute("ANALYZE import_doomed")
    return Record.objects.filter(pk__in=RawSQL("SELECT id FROM import_doomed", ()))


def import_restore(*, batch: ImportBatch, user: Any) -> ImportBatch:
    """Undo a deletion: import the deleted import's stored file again, as a new import with the
    same database, search date and search string. Its records are deduplicated afresh; the
    re-import rule applies (an identical import still standing refuses it)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from screening.services import import_create

    if batch.deleted_at is None:
        raise DomainError(f"The import of {batch.file_name} is not deleted.")
    try:
        with batch.file.open("rb") as fh:
            data = fh.read()
    except (OSError, ValueError) as exc:
        raise DomainError(
            f"The file of {batch.file_name} is no longer stored; upload it again."
        ) from exc
    return import_create(
        review=batch.review,
        created_by=user,
        upload=SimpleUploadedFile(batch.file_name, data),
        source_database=batch.source_database,
        search_date=batch.search_date,
        search_string=batch.search_string,
    )


def _check_constraints_now(immediate: bool) -> None:
    """Foreign keys are checked at commit on PostgreSQL (Django makes them deferred); checked
    at once, a violation is an error this service can name instead of a failed commit."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET CONSTRAINTS ALL {'IMMEDIATE' if immediate else 'DEFERRED'}")


def _regroup_orphans(doomed: QuerySet[Record]) -> int:
    """Records that stay but point at a record that goes: in each such group the earliest one
    left becomes the kept record and the others point at it; a lone one becomes unique."""
    doomed_ids = doomed.values("pk")
    orphans = Record.objects.filter(duplicate_of__in=doomed_ids).exclude(pk__in=doomed_ids)
    count = orphans.count()
    if not count:
        return 0
    siblings = orphans.filter(duplicate_of=OuterRef("duplicate_of"))
    # Both statements read the state before either runs: first the later members move to the
    # earliest member of their group, then the earliest members (still pointing at a record
    # that goes) become the kept records.
    orphans.filter(Exists(siblings.filter(id__lt=OuterRef("id")))).update(
        duplicate_of=Subquery(siblings.order_by("id").values("id")[:1])
    )
    Record.objects.filter(duplicate_of__in=doomed_ids).exclude(pk__in=doomed_ids).update(
        duplicate_of=None, duplicate_reason=""
    )
    return count


def _ids_in_action(action: DedupAction) -> set[int]:
    ids = {int(k) for k in action.before} | {int(v) for v in action.before.values() if v}
    for a, b in [*action.cannot_link, *action.must_link]:
        ids.update((int(a), int(b)))
    for move in action.moved or []:
        ids.update((int(move["from"]), int(move["to"])))
    return ids


def _prune_dedup_actions(review_id: int, doomed: QuerySet[Record]) -> None:
    """The team's duplicate decisions that name a record that goes lose that record, so undo
    never restores a pointer to a deleted record. A member that pointed at a deleted record is
    restored to its group's new kept record. Actions on a deleted record go with it."""
    doomed_ids = doomed.values("pk")
    actions = list(
        DedupAction.objects.filter(review_id=review_id)
        .exclude(record__in=doomed_ids)
        .exclude(other__in=doomed_ids)
    )
    named = set().union(*(_ids_in_action(a) for a in actions)) if actions else set()
    gone = _existing(doomed, named)
    if not gone:
        return
    successor = dict(
        Record.objects.filter(duplicate_of__in=list(gone))
        .exclude(pk__in=doomed_ids)
        .values("duplicate_of")
        .annotate(first=Min("id"))
        .values_list("duplicate_of", "first")
    )
    for action in actions:
        if not _ids_in_action(action) & gone:
            continue
        before: dict[str, int | None] = {}
        for key, value in action.before.items():
            if int(key) in gone:
                continue
            target = successor.get(value) if value in gone else value
            before[key] = None if target == int(key) else target
        action.before = before
        action.cannot_link = _pairs_without(action.cannot_link, gone)
        action.must_link = _pairs_without(action.must_link, gone)
        # Work that moved from a record that goes (it had none left) stays where it is.
        action.moved = [
            m for m in action.moved or [] if int(m["from"]) not in gone and int(m["to"]) not in gone
        ]
        action.save(update_fields=["before", "cannot_link", "must_link", "moved"])


def _pairs_without(pairs: list[list[int]], gone: set[int]) -> list[list[int]]:
    return [[a, b] for a, b in pairs if int(a) not in gone and int(b) not in gone]


def _existing(records: QuerySet[Record], ids: Iterable[int]) -> set[int]:
    """Which of `ids` are in `records`, asked in chunks (a query has a parameter limit)."""
    ids = sorted(ids)
    found: set[int] = set()
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        found.update(records.filter(pk__in=chunk).values_list("pk", flat=True))
    return found


def _prune_stop_samples(review_id: int, doomed: QuerySet[Record]) -> None:
    """An open stopping sample drops the records that go: its remaining count feeds the
    stopping estimate, and a deleted record can no longer be served."""
    for sample in StopSample.objects.filter(review_id=review_id, closed_at__isnull=True):
        gone = _existing(doomed, sample.record_ids)
        if gone:
            sample.record_ids = [r for r in sample.record_ids if r not in gone]
            sample.save(update_fields=["record_ids"])


def _reverse_relations(model: type[models.Model]) -> list[Any]:
    """Every foreign key pointing at `model`, hidden ones (related_name='+') included."""
    return [
        f
        for f in model._meta.get_fields(include_hidden=True)
        if f.auto_created and not f.concrete and (f.one_to_many or f.one_to_one)
    ]


def _delete_rows(rows: QuerySet[Any]) -> int:
    """Delete `rows` and, first, what refers to them, following each foreign key's on_delete,
    one statement per table. Found from the models, so a table added later that points at a
    record is handled too. Signals are not sent: no model here acts on a delete."""
    model = rows.model
    ids = rows.values("pk")
    for relation in _reverse_relations(model):
        on_delete = relation.on_delete
        related = relation.related_model._base_manager.filter(
            **{f"{relation.field.attname}__in": ids}
        )
        if relation.related_model is model:
            related = related.exclude(pk__in=ids)
        if on_delete is models.CASCADE:
            if relation.related_model is model:
                raise NotImplementedError(f"{model._meta.label} cascades to itself")
            _delete_rows(related)
        elif on_delete is models.SET_NULL:
            related.update(**{relation.field.attname: None})
        elif on_delete in (models.PROTECT, models.RESTRICT):
            if related.exists():
                raise DomainError(
                    f"{relation.related_model._meta.verbose_name_plural} still refer to "
                    "these records; nothing was deleted."
                )
        elif on_delete is not models.DO_NOTHING:
            raise NotImplementedError(f"{relation} has an on_delete this cannot follow")
    # _raw_delete is the set-based DELETE Django's own collector uses for fast deletes.
    return int(rows._raw_delete(rows.db))
