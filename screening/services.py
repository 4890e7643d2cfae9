"""Writes on the reference library: imports and duplicate decisions."""

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Left
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from reviewapp.common.locks import run_lock, survives_crash
from reviewapp.common.outbox import outbox_enqueue
from reviewapp.errors import DomainError
from reviewapp.models import Review
from screening import keeper, services_ranking
from screening.keeper import DedupPlan
from screening.models import DedupAction, ImportBatch, PossibleDuplicate, Record
from screening.references.dedup import (
    ABSTRACT_PREFIX,
    DedupRecord,
    PossiblePair,
    find_duplicate_groups,
    find_duplicates,
)
from screening.references.parsers import (
    SUPPORTED_EXTENSIONS,
    ParseError,
    ParseResult,
    parse_references,
)
from screening.selectors_imports import import_same_file

logger = logging.getLogger(__name__)

INSERT_BATCH = 2000


# --- imports -------------------------------------------------------------------------------


def _progress_key(batch_id: int) -> str:
    return f"import-progress:{batch_id}"


def import_progress_set(batch_id: int, percent: int, stage: str) -> None:
    cache.set(_progress_key(batch_id), {"percent": percent, "stage": stage}, timeout=3600)


def import_progress_get(batch_id: int) -> dict[str, Any] | None:
    return cache.get(_progress_key(batch_id))


def validate_upload(*, file_name: str, size: int) -> None:
    """Reject what can be rejected before reading a byte: extension and size."""
    suffix = Path(file_name).suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        allowed = ", ".join(sorted(SUPPORTED_EXTENSIONS))
        raise DomainError(
            f"{file_name}: '{suffix or 'no extension'}' is not a reference file we read. "
            f"Export from your database as one of: {allowed}.",
            field="file",
        )
    if size == 0:
        raise DomainError(f"{file_name} is empty.", field="file")
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise DomainError(
            f"{file_name} is {size / 1024 / 1024:.1f} MB; the limit is "
            f"{limit / 1024 / 1024:.0f} MB. Split the export into smaller files.",
            field="file",
        )


@transaction.atomic
def import_create(
    *,
    review: Review,
    created_by: Any,
    upload: UploadedFile,
    source_database: str,
    search_date: date | None = None,
    search_string: str = "",
    new_search: bool = False,
    queue: bool = True,
) -> ImportBatch:
    """Store the upload and queue its import once this transaction commits (or leave it for
    the caller to run, as the command line does, with queue=False).

    A file whose bytes are already imported into the review is refused, naming that import,
    unless `new_search`: the lead says a new search returned the same file, and the batch
    records which import it repeats.
    """
    from screening.tasks import import_references_task

    source_database = source_database.strip()
    if not source_database:
        raise DomainError("Name the database this file came from (e.g. MEDLINE).", field="source")
    file_name = Path(upload.name or "upload").name
    validate_upload(file_name=file_name, size=upload.size or 0)
    content_sha256 = _content_sha256(upload)
    # Serialises the uploads of one review, so two uploads of one file cannot both pass.
    Review.all_objects.select_for_update().filter(pk=review.pk).values_list("pk").first()
    earlier = import_same_file(review=review, content_sha256=content_sha256)
    if earlier is not None and not new_search:
        raise DomainError(_already_imported(file_name, earlier), field="file")
    batch = ImportBatch(
        review=review,
        created_by=created_by,
        source_database=source_database,
        search_date=search_date,
        search_string=search_string,
        file_name=file_name,
        content_sha256=content_sha256,
        same_file_as=earlier,
    )
    batch.file.save(file_name, upload, save=False)
    batch.save()
    import_progress_set(batch.pk, 0, "queued")
    if queue:
        outbox_enqueue(import_references_task.name, batch.pk)
    return batch


def _content_sha256(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():  # chunks() starts from the beginning of the file
        digest.update(chunk)
    return digest.hexdigest()


def _already_imported(file_name: str, earlier: ImportBatch) -> str:
    who = earlier.created_by.get_username() if earlier.created_by else "an unknown user"
    when = timezone.localtime(earlier.created_at).strftime("%d %b %Y")
    same_name = "" if earlier.file_name == file_name else f" as {earlier.file_name}"
    return (
        f"{file_name} was already imported into this review{same_name} "
        f"({earlier.source_database}, {when}, by {who}); importing it again would count its "
        "records twice in PRISMA. If a new search returned exactly this file, import it again "
        "as a new search."
    )


def _fail(batch: ImportBatch, message: str, line: int | None = None) -> ImportBatch:
    batch.status = ImportBatch.Status.FAILED
    batch.error = message
    batch.error_line = line
    batch.finished_at = timezone.now()
    batch.save(update_fields=["status", "error", "error_line", "finished_at"])
    import_progress_set(batch.pk, 100, "failed")
    return batch


RECORD_COLUMNS = (
    "review_id",
    "import_batch_id",
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
    "pmid",
    "issn",
    "accession_numbers",
    "url",
    "keywords",
    "record_type",
    "raw",
    "duplicate_reason",
)
# Weighted so a match in the title ranks above one in the abstract or the author list.
SEARCH_VECTOR_SQL = """
    setweight(to_tsvector('english', coalesce(title, '')), 'A')
    || setweight(to_tsvector('english', coalesce(abstract, '')), 'B')
    || setweight(to_tsvector('english', coalesce(authors::text, '')), 'C')
"""
# Past this many records, vacuum after the import so counts use index-only scans at once
# instead of after autovacuum gets round to the table.
VACUUM_AFTER = 10_000


def _record_values(batch: ImportBatch, parsed: Any) -> tuple[Any, ...]:
    year = parsed.year if parsed.year and 0 < parsed.year < 32768 else None
    return (
        batch.review_id,
        batch.pk,
        parsed.line,
        parsed.title,
        parsed.abstract,
        list(parsed.authors),
        year,
        parsed.journal[:500],
        parsed.volume[:50],
        parsed.issue[:50],
        parsed.pages[:50],
        parsed.doi[:255],
        parsed.pmid[:20],
        parsed.issn[:100],
        dict(parsed.accession_numbers),
        parsed.url,
        list(parsed.keywords),
        parsed.record_type[:50],
        parsed.raw,
        "",
    )


def _insert_records(batch: ImportBatch, parsed_records: list[Any]) -> None:
    """Insert in file order. On PostgreSQL: COPY into a temporary table, then one INSERT that
    also builds the search vectors (about 20 times faster than bulk_create plus an UPDATE)."""
    if connection.vendor != "postgresql":
        for start in range(0, len(parsed_records), INSERT_BATCH):
            chunk = parsed_records[start : start + INSERT_BATCH]
            Record.objects.bulk_create(
                Record(**dict(zip(RECORD_COLUMNS, _record_values(batch, p), strict=True)))
                for p in chunk
            )
        return
    columns = ", ".join(RECORD_COLUMNS)
    json_columns = {
        RECORD_COLUMNS.index(c) for c in ("authors", "keywords", "raw", "accession_numbers")
    }
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE import_rows ON COMMIT DROP AS "
            f"SELECT {columns} FROM screening_record WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY import_rows ({columns}) FROM STDIN") as copy:
            for parsed in parsed_records:
                values = _record_values(batch, parsed)
                copy.write_row(
                    [json.dumps(v) if i in json_columns else v for i, v in enumerate(values)]
                )
        cursor.execute(
            f"INSERT INTO screening_record ({columns}, search_vector) "
            f"SELECT {columns}, {SEARCH_VECTOR_SQL} FROM import_rows ORDER BY source_line"
        )
        cursor.execute("DROP TABLE import_rows")
        cursor.execute("ANALYZE screening_record")


def record_search_refresh(*, record_ids: Iterable[int]) -> None:
    """Rebuild the full-text search vectors of records changed outside an import."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE screening_record SET search_vector = {SEARCH_VECTOR_SQL} WHERE id = ANY(%s)",
            [list(record_ids)],
        )


def _vacuum_records() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) screening_record")


def import_run(*, batch_id: int) -> ImportBatch:
    """Parse, store and deduplicate one upload. One import is one transaction: on any
    failure nothing is stored and the batch says why."""
    # A redelivered or duplicate task is a no-op while a live run holds the batch's lock; a
    # batch left "running" by a killed worker (its transaction rolled back, its lock released
    # with its connection) is claimed again and imported from the start.
    with run_lock("import", batch_id) as mine:
        if not mine:
            return ImportBatch.objects.get(pk=batch_id)
        claimable = [ImportBatch.Status.QUEUED]
        if survives_crash():
            claimable.append(ImportBatch.Status.RUNNING)
        claimed = ImportBatch.objects.filter(pk=batch_id, status__in=claimable).update(
            status=ImportBatch.Status.RUNNING
        )
        batch = ImportBatch.objects.get(pk=batch_id)
        if not claimed:
            return batch
        return _import_claimed(batch)


def _import_claimed(batch: ImportBatch) -> ImportBatch:
    import_progress_set(batch.pk, 5, "reading")
    try:
        result = _parse_upload(batch)
    except ParseError as exc:
        return _fail(batch, f"{batch.file_name}: {exc}", exc.line)
    except OSError as exc:
        return _fail(batch, f"{batch.file_name} could not be read: {exc}")
    import_progress_set(batch.pk, 30, "storing")
    try:
        with transaction.atomic():
            _store_records(batch, result)
    except Exception as exc:
        logger.exception("import %s failed", batch.pk)
        return _fail(batch, f"{batch.file_name}: the import failed and nothing was stored ({exc}).")
    if len(result.records) >= VACUUM_AFTER:
        _vacuum_records()
    import_progress_set(batch.pk, 100, "done")
    batch.refresh_from_db()
    return batch


def _parse_upload(batch: ImportBatch) -> ParseResult:
    # The raw bytes and decoded text die with this frame: at 100,000 records they are ~200 MB
    # that the insert and deduplication steps do not need.
    with batch.file.open("rb") as fh:
        return parse_references(fh.read(), batch.file_name)


def _store_records(batch: ImportBatch, result: ParseResult) -> None:
    _insert_records(batch, result.records)
    import_progress_set(batch.pk, 60, "finding duplicates")
    new_ids = set(Record.objects.filter(import_batch=batch).values_list("id", flat=True))
    duplicates = dedup_new_records(review_id=batch.review_id, new_ids=new_ids)
    batch.file_format = result.format
    batch.encoding = result.encoding
    batch.records_read = len(result.records) + len(result.skipped)
    batch.records_imported = len(result.records)
    batch.duplicates_found = duplicates
    batch.skipped = [{"line": s.line, "reason": s.reason} for s in result.skipped]
    batch.status = ImportBatch.Status.DONE
    batch.finished_at = timezone.now()
    batch.save()


@dataclass(frozen=True)
class ImportPreview:
    result: ParseResult
    duplicates_within_file: int


def import_preview(*, data: bytes, file_name: str) -> ImportPreview:
    """Parse without storing: the dry run of the import command."""
    validate_upload(file_name=file_name, size=len(data))
    result = parse_references(data, file_name)
    groups = find_duplicate_groups(
        DedupRecord.from_parsed(i, r) for i, r in enumerate(result.records)
    )
    return ImportPreview(result, sum(len(g.member_ids) - 1 for g in groups))


# --- deduplication -------------------------------------------------------------------------


def _links(review_id: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    cannot: list[tuple[int, int]] = []
    must: list[tuple[int, int]] = []
    for action in DedupAction.objects.filter(review_id=review_id, undone_at=None):
        cannot.extend((a, b) for a, b in action.cannot_link)
        must.extend((a, b) for a, b in action.must_link)
    return cannot, must


def _dedup_records(review_id: int) -> Iterable[DedupRecord]:
    fields = ("title", "authors", "year", "journal", "doi", "pmid", "volume", "issue", "pages")
    # The matcher reads only the start of an abstract; the rest never leaves the database.
    rows = (
        Record.objects.filter(review_id=review_id)
        .annotate(abstract_start=Left("abstract", ABSTRACT_PREFIX))
        .values_list("id", *fields, "issn", "record_type", "abstract_start")
    )
    for (
        pk,
        title,
        authors,
        year,
        journal,
        doi,
        pmid,
        volume,
        issue,
        pages,
        issn,
        kind,
        abstract,
    ) in rows.iterator(chunk_size=5000):
        yield DedupRecord(
            id=pk,
            title=title,
            authors=tuple(authors or ()),
            year=year,
            journal=journal,
            doi=doi,
            pmid=pmid,
            volume=volume,
            issue=issue,
            pages=pages,
            issn=issn,
            record_type=kind,
            abstract=abstract or "",
        )


def dedup_new_records(*, review_id: int, new_ids: set[int]) -> int:
    """Attach newly imported records to the duplicate groups of the review.

    Earlier records keep their places: a team's splits, merges and choices of primary are never
    undone by a later import. Returns the number of new records marked as duplicates.
    """
    if not new_ids:
        return 0
    cannot, must = _links(review_id)
    found = find_duplicates(_dedup_records(review_id), cannot_link=cannot, must_link=must)
    groups = found.groups
    current = dict(
        Record.objects.filter(review_id=review_id, duplicate_of__isnull=False)
        .exclude(id__in=new_ids)
        .values_list("id", "duplicate_of_id")
    )
    updates: list[Record] = []
    for group in groups:
        new_members = [m for m in group.member_ids if m in new_ids]
        if not new_members:
            continue
        old_members = [m for m in group.member_ids if m not in new_ids]
        if old_members:
            target = current.get(old_members[0], old_members[0])
        else:
            target = group.primary_id if group.primary_id in new_ids else min(new_members)
        for member in new_members:
            if member == target:
                continue
            reason = group.reasons.get(member) or group.reasons.get(target) or "matched"
            updates.append(Record(id=member, duplicate_of_id=target, duplicate_reason=reason[:200]))
    _set_duplicates(updates)
    # Likely but not certain pairs wait for a reviewer, after the groups are set so that a pair
    # now in one group is left out.
    possible_pairs_store(review_id=review_id, pairs=found.possible_pairs)
    return len(updates)


def _cannot_link(review_id: int) -> set[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    for links in DedupAction.objects.filter(review_id=review_id, undone_at=None).values_list(
        "cannot_link", flat=True
    ):
        pairs.update((min(a, b), max(a, b)) for a, b in links)
    return pairs


def possible_pairs_store(*, review_id: int, pairs: Iterable[PossiblePair]) -> int:
    """Queue the matcher's possible pairs; returns how many were new.

    Left out: a pair already stored (open or decided: a decision is never asked again), a pair
    whose records are already in one duplicate group (not "possible" any more), and a pair whose
    groups a team member kept apart (a new copy of a separated record is not asked about again).
    Runs inside the import's transaction, after its duplicates are set.
    """
    wanted: dict[tuple[int, int], str] = {}
    for pair in pairs:
        a, b = sorted((int(pair.a), int(pair.b)))
        if a != b:
            wanted.setdefault((a, b), (pair.reason or "")[:200])
    if not wanted:
        return 0
    apart = _cannot_link(review_id)
    ids = {i for key in wanted for i in key}
    roots = {
        pk: dup or pk
        for pk, dup in Record.objects.filter(
            review_id=review_id, id__in=ids | {i for key in apart for i in key}
        ).values_list("id", "duplicate_of_id")
    }
    apart_groups = {
        tuple(sorted((roots[x], roots[y]))) for x, y in apart if x in roots and y in roots
    }
    existing = set(
        PossibleDuplicate.objects.filter(review_id=review_id, record_a_id__in=ids).values_list(
            "record_a_id", "record_b_id"
        )
    )
    new = [
        PossibleDuplicate(review_id=review_id, record_a_id=a, record_b_id=b, reason=reason)
        for (a, b), reason in sorted(wanted.items())
        if a in roots
        and b in roots
        and roots[a] != roots[b]
        and (a, b) not in existing
        and tuple(sorted((roots[a], roots[b]))) not in apart_groups
    ]
    if not new:
        return 0
    try:
        with transaction.atomic():
            bulk_create_with_history(new, PossibleDuplicate, batch_size=1000)
    except IntegrityError:
        # A concurrent import of the same review stored some of these pairs first.
        bulk_create_with_history(new, PossibleDuplicate, batch_size=1000, ignore_conflicts=True)
    return len(new)


def _set_duplicates(updates: list[Record]) -> None:
    if connection.vendor != "postgresql":
        Record.objects.bulk_update(updates, ["duplicate_of", "duplicate_reason"], batch_size=1000)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE duplicate_rows (id bigint, duplicate_of_id bigint, reason text) "
            "ON COMMIT DROP"
        )
        with cursor.cursor.copy("COPY duplicate_rows FROM STDIN") as copy:
            for record in updates:
                copy.write_row((record.pk, record.duplicate_of_id, record.duplicate_reason))
        cursor.execute(
            "UPDATE screening_record r SET duplicate_of_id = d.duplicate_of_id, "
            "duplicate_reason = d.reason FROM duplicate_rows d WHERE r.id = d.id"
        )
        cursor.execute("DROP TABLE duplicate_rows")


def _group_of(record: Record) -> tuple[int, list[int]]:
    """The primary id and every member id of the record's group, locked for update."""
    primary_id = record.duplicate_of_id or record.pk
    members = list(
        Record.objects.select_for_update()
        .filter(review_id=record.review_id)
        .filter(id=primary_id)
        .values_list("id", flat=True)
    ) + list(
        Record.objects.select_for_update()
        .filter(duplicate_of_id=primary_id)
        .values_list("id", flat=True)
    )
    return primary_id, members


def _snapshot(ids: Iterable[int]) -> dict[str, int | None]:
    return {
        str(pk): dup
        for pk, dup in Record.objects.filter(id__in=list(ids)).values_list("id", "duplicate_of_id")
    }


def _point(ids: Iterable[int], primary_id: int | None, reason: str) -> None:
    Record.objects.filter(id__in=list(ids)).update(
        duplicate_of_id=primary_id, duplicate_reason=reason if primary_id else ""
    )


def _refuse(plan: DedupPlan) -> None:
    if plan.refusal:
        raise DomainError(plan.refusal)


def _pointers(ids: Iterable[int]) -> dict[int, int | None]:
    return dict(Record.objects.filter(id__in=list(ids)).values_list("id", "duplicate_of_id"))


def _check_nothing_hidden(before: dict[int, int | None], what: str) -> None:
    """No change of deduplication may leave screening work on a record it turns into a
    duplicate: that work would silently drop out of screening, PRISMA and every count."""
    now = _pointers(before)
    for pk in sorted(pk for pk, dup in before.items() if dup is None and now.get(pk)):
        work = keeper.record_work(pk)
        if not work.empty:
            raise DomainError(
                f"{what} would hide the screening work on record {pk} "
                f"({'; '.join(work.describe())}). Withdraw that work first, or leave the "
                "records as they are."
            )


def _labels_moved(review_id: int, moved: list[dict[str, Any]]) -> None:
    for stage in sorted({s for m in moved for s in m.get("stages") or []}):
        services_ranking.ranking_labels_changed(review_id=review_id, stage=stage)


@transaction.atomic
def dedup_split(*, record: Record, user: Any) -> DedupAction:
    """Take a record out of its duplicate group: it was not a duplicate. Nothing moves: the
    record that carries the screening work keeps it (screening/keeper.py)."""
    record = Record.objects.select_for_update().get(pk=record.pk)
    primary_id, members = _group_of(record)
    if len(members) < 2:
        raise DomainError("This record is not in a duplicate group.")
    before = _snapshot(members)
    before_pointers = _pointers(members)
    others = [m for m in members if m != record.pk]
    if record.pk == primary_id:
        new_primary = min(others)
        _point([new_primary], None, "")
        _point([m for m in others if m != new_primary], new_primary, "kept in group after a split")
    _point([record.pk], None, "")
    _check_nothing_hidden(before_pointers, "This split")
    return DedupAction.objects.create(
        review_id=record.review_id,
        kind=DedupAction.Kind.SPLIT,
        record=record,
        before=before,
        cannot_link=[[record.pk, m] for m in others],
        created_by=user,
    )


def _check_not_kept_apart(review_id: int, group_a: set[int], group_b: set[int]) -> None:
    """A merge never joins two records the team explicitly kept apart (a "not duplicates"
    decision or a split) while that decision stands: it must be undone first."""
    actions = DedupAction.objects.filter(review_id=review_id, undone_at=None).exclude(
        cannot_link=[]
    )
    for action in actions.select_related("created_by").order_by("-created_at", "-id"):
        for x, y in action.cannot_link:
            if {int(x), int(y)} <= group_a | group_b and not (
                {int(x), int(y)} <= group_a or {int(x), int(y)} <= group_b
            ):
                what = (
                    "were marked as not duplicates"
                    if action.kind == DedupAction.Kind.SEPARATE
                    else "were split apart"
                )
                raise DomainError(
                    f"Records {x} and {y} {what} by {action.created_by or 'a team member'} "
                    f"on {action.created_at:%d %b %Y}; this merge would put them in one group. "
                    "Undo that decision first if they are the same paper after all."
                )


@transaction.atomic
def dedup_merge(*, record: Record, other: Record, user: Any) -> DedupAction:
    """Put the record's whole group into the other record's group: a missed duplicate. The
    screening work of the record's group follows it to the other group's kept record, or the
    merge is refused when both groups carry work of one kind (screening/keeper.py)."""
    if record.review_id != other.review_id:
        raise DomainError("Both records must belong to the same review.")
    record = Record.objects.select_for_update().get(pk=record.pk)
    other = Record.objects.select_for_update().get(pk=other.pk)
    source_primary, source_members = _group_of(record)
    target_primary, target_members = _group_of(other)
    if source_primary == target_primary:
        raise DomainError("These records are already in the same group.")
    _check_not_kept_apart(record.review_id, set(source_members), set(target_members))
    plan = keeper.plan_merge(
        record_id=record.pk,
        other_id=other.pk,
        source_primary=source_primary,
        target_primary=target_primary,
    )
    _refuse(plan)
    before = _snapshot(source_members + target_members)
    pointers = _pointers(source_members + target_members)
    moved = [keeper.move_work(source_id=source_primary, target_id=target_primary)]
    _point(source_members, target_primary, "merged by a reviewer")
    _check_nothing_hidden(pointers, "This merge")
    _labels_moved(record.review_id, moved)
    return DedupAction.objects.create(
        review_id=record.review_id,
        kind=DedupAction.Kind.MERGE,
        record=record,
        other=other,
        before=before,
        must_link=[[source_primary, target_primary]],
        moved=moved,
        created_by=user,
    )


@transaction.atomic
def dedup_make_primary(*, record: Record, user: Any) -> DedupAction:
    """Keep this record rather than the current primary of its group. The group's screening
    work follows the paper to this record, or the change is refused when both copies carry
    work of one kind (screening/keeper.py)."""
    record = Record.objects.select_for_update().get(pk=record.pk)
    primary_id, members = _group_of(record)
    if record.pk == primary_id:
        raise DomainError("This record is already the primary record of its group.")
    _refuse(keeper.plan_primary(record_id=record.pk, primary_id=primary_id))
    before = _snapshot(members)
    pointers = _pointers(members)
    moved = [keeper.move_work(source_id=primary_id, target_id=record.pk)]
    _point([m for m in members if m != record.pk], record.pk, "primary changed by a reviewer")
    _point([record.pk], None, "")
    _check_nothing_hidden(pointers, f"Keeping record {record.pk}")
    _labels_moved(record.review_id, moved)
    return DedupAction.objects.create(
        review_id=record.review_id,
        kind=DedupAction.Kind.PRIMARY,
        record=record,
        before=before,
        moved=moved,
        created_by=user,
    )


@transaction.atomic
def dedup_undo(*, action: DedupAction, user: Any) -> DedupAction:
    """Undo the latest change; changes are undone newest first so each restores a known state.
    Work that moved with the change goes back to the record it came from."""
    latest = (
        DedupAction.objects.select_for_update()
        .filter(review_id=action.review_id, undone_at=None)
        .order_by("-created_at", "-id")
        .first()
    )
    if latest is None or latest.pk != action.pk:
        raise DomainError("Undo the later duplicate changes first (newest first).")
    pointers = _pointers(int(pk) for pk in action.before)
    for moved in reversed(action.moved or []):
        keeper.restore_work(moved)
    for pk, dup in action.before.items():
        Record.objects.filter(id=int(pk), review_id=action.review_id).update(
            duplicate_of_id=dup, duplicate_reason="restored by undo" if dup else ""
        )
    _check_nothing_hidden(pointers, "This undo")
    _labels_moved(action.review_id, action.moved or [])
    action.undone_at = timezone.now()
    action.save(update_fields=["undone_at"])
    for pair in PossibleDuplicate.objects.select_for_update().filter(action=action):
        possible_reopen(pair=pair)
    return action


def possible_reopen(*, pair: PossibleDuplicate) -> None:
    """Put a decided possible pair back in the queue, once its DedupAction is undone: the
    records' reasons as they were before the decision, the pair open again."""
    for pk, reason in pair.reasons_before.items():
        Record.objects.filter(id=int(pk), review_id=pair.review_id).update(duplicate_reason=reason)
    pair.status = PossibleDuplicate.Status.OPEN
    pair.action = None
    pair.decided_by = None
    pair.decided_at = None
    pair.reasons_before = {}
    pair.save(update_fields=["status", "action", "decided_by", "decided_at", "reasons_before"])
