"""Reads on the reference library."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    TextField,
)
from django.db.models.functions import Cast
from django.shortcuts import get_object_or_404

from reviewapp.errors import DomainError
from reviewapp.models import Membership, Review
from screening import keeper
from screening.models import (
    Decision,
    DedupAction,
    FullTextReport,
    ImportBatch,
    Record,
    ScreeningItem,
    Stage,
    StageSettings,
    Study,
    Verdict,
)

DUPLICATE_STATUSES = {
    "unique": "Not a duplicate",
    "primary": "Kept, has duplicates",
    "duplicate": "Duplicate (removed)",
}


def library_records(
    *,
    review: Review,
    query: str = "",
    source: str = "",
    year: str = "",
    status: str = "",
) -> QuerySet[Record]:
    records = Record.objects.filter(review=review).select_related("import_batch")
    if source:
        records = (
            records.filter(import_batch_id=int(source)) if source.isdigit() else records.none()
        )
    if year:
        records = records.filter(year=int(year)) if year.isdigit() else records.none()
    if status == "duplicate":
        records = records.filter(duplicate_of__isnull=False)
    elif status == "unique":
        has_duplicates = Record.objects.filter(duplicate_of=OuterRef("pk"))
        records = records.filter(~Exists(has_duplicates), duplicate_of__isnull=True)
    elif status == "primary":
        records = records.primaries()
    query = query.strip()
    if query:
        if connection.vendor == "postgresql":
            search = SearchQuery(query, search_type="websearch", config="english")
            records = (
                records.filter(search_vector=search)
                .annotate(rank=SearchRank(F("search_vector"), search))
                .order_by("-rank", "id")
            )
        else:
            records = records.annotate(authors_text=Cast("authors", TextField())).filter(
                Q(title__icontains=query)
                | Q(abstract__icontains=query)
                | Q(authors_text__icontains=query)
            )
    return records


def library_facets(*, review: Review) -> dict[str, object]:
    years = (
        Record.objects.filter(review=review, year__isnull=False)
        .values_list("year", flat=True)
        .distinct()
        .order_by("-year")
    )
    return {
        "sources": ImportBatch.objects.filter(
            review=review, status=ImportBatch.Status.DONE, deleted_at__isnull=True
        ),
        "years": list(years),
        "statuses": DUPLICATE_STATUSES,
    }


@dataclass(frozen=True)
class LibraryCounts:
    records: int
    duplicates: int
    unique: int
    imports: int


def library_counts(*, review: Review) -> LibraryCounts:
    # Two counts that PostgreSQL answers from the (review, duplicate_of) index alone; one
    # aggregate with a FILTER clause reads the whole table instead (65 ms at 100,000 records).
    records = Record.objects.filter(review=review).count()
    duplicates = Record.objects.filter(review=review, duplicate_of__isnull=False).count()
    return LibraryCounts(
        records=records,
        duplicates=duplicates,
        unique=records - duplicates,
        imports=ImportBatch.objects.filter(
            review=review, status=ImportBatch.Status.DONE, deleted_at__isnull=True
        ).count(),
    )


@dataclass(frozen=True)
class DuplicateGroupView:
    primary: Record
    duplicates: list[Record]

    @property
    def members(self) -> list[Record]:
        return [self.primary, *self.duplicates]


def duplicate_groups(*, review: Review, primary_ids: list[int]) -> list[DuplicateGroupView]:
    """The given groups with their members, in two queries."""
    primaries = Record.objects.filter(review=review, id__in=primary_ids).select_related(
        "import_batch"
    )
    members = (
        Record.objects.filter(review=review, duplicate_of_id__in=primary_ids)
        .select_related("import_batch")
        .order_by("id")
    )
    by_primary: dict[int, list[Record]] = {}
    for member in members:
        by_primary.setdefault(member.duplicate_of_id, []).append(member)  # type: ignore[arg-type]  # set: filtered on it
    order = {pk: i for i, pk in enumerate(primary_ids)}
    groups = [DuplicateGroupView(p, by_primary.get(p.pk, [])) for p in primaries]
    return sorted(groups, key=lambda g: order[g.primary.pk])


def duplicate_group_primary_ids(*, review: Review) -> QuerySet[Record, int]:
    return (
        Record.objects.filter(review=review, duplicate_of__isnull=False)
        .values_list("duplicate_of_id", flat=True)
        .distinct()
        .order_by("duplicate_of_id")
    )


def dedup_actions(*, review: Review) -> QuerySet[DedupAction]:
    return DedupAction.objects.filter(review=review).select_related("record", "other", "created_by")


def latest_undoable_action(*, review: Review) -> DedupAction | None:
    return (
        DedupAction.objects.filter(review=review, undone_at=None)
        .order_by("-created_at", "-id")
        .first()
    )


def _group(record: Record) -> tuple[int, list[int]]:
    primary_id = record.duplicate_of_id or record.pk
    members = [
        primary_id,
        *Record.objects.filter(duplicate_of_id=primary_id).values_list("id", flat=True),
    ]
    return primary_id, members


def dedup_plan(*, review: Review, record: Record, action: str, other: Record | None = None) -> Any:
    """What a split, merge or 'keep this one' would move (screening/keeper.py), for the
    confirmation; the service recomputes it under lock. Raises DomainError as the service would."""
    primary_id, members = _group(record)
    if action == "primary":
        if record.pk == primary_id:
            raise DomainError("This record is already the primary record of its group.")
        return keeper.plan_primary(record_id=record.pk, primary_id=primary_id)
    if action == "split":
        if len(members) < 2:
            raise DomainError("This record is not in a duplicate group.")
        return keeper.plan_split(record_id=record.pk, primary_id=primary_id, members=members)
    if action == "merge" and other is not None:
        if other.review_id != review.pk or record.review_id != review.pk:
            raise DomainError("Both records must belong to the same review.")
        target_primary, _ = _group(other)
        if target_primary == primary_id:
            raise DomainError("These records are already in the same group.")
        return keeper.plan_merge(
            record_id=record.pk,
            other_id=other.pk,
            source_primary=primary_id,
            target_primary=target_primary,
        )
    raise DomainError("Unknown action: use primary, split or merge (with another record).")


def included_reports(*, review: Review) -> QuerySet[Record]:
    """Reports included in the review: records kept after deduplication, included at title
    and abstract and then at full text (agreed by the reviewers or resolved by the arbiter)."""

    def outcome(stage: str) -> Exists:
        return Exists(
            ScreeningItem.objects.filter(
                record=OuterRef("pk"), stage=stage, final_verdict=Verdict.INCLUDE
            )
        )

    return Record.objects.filter(
        outcome(Stage.TITLE_ABSTRACT),
        outcome(Stage.FULL_TEXT),
        review=review,
        duplicate_of__isnull=True,
    )


def included_studies(*, review: Review) -> QuerySet[Study]:
    """The one definition of the review's included studies, read by PRISMA, the dashboard,
    extraction, risk of bias and the analysis inputs: the studies with an included report.

    A report included without a link to another study is a study of its own: full-text
    inclusion gives it that Study (screening.services_screening), so every count of included
    studies here is a count of Study rows."""
    reports = included_reports(review=review).filter(study=OuterRef("pk"))
    return Study.objects.filter(Exists(reports), review=review).order_by("label", "id")


# --- screening -----------------------------------------------------------------------------

QUEUES = {
    "to_screen": "To screen",
    "awaiting": "Awaiting the other reviewer",
    "conflict": "In conflict",
    "resolved": "Decided",
}


def stage_settings(*, review: Review, stage: str) -> StageSettings:
    """The stage's settings; the defaults (unsaved) until the lead changes them."""
    from screening.services_screening import stage_settings_defaults

    found = StageSettings.objects.filter(review=review, stage=stage).first()
    return found or StageSettings(**stage_settings_defaults(review, stage))


def stage_records(*, review: Review, stage: str) -> QuerySet[Record]:
    """Records screened at the stage: every record kept after deduplication at title and
    abstract; those included there, and not marked 'not retrieved', at full text."""
    records = Record.objects.filter(review=review, duplicate_of__isnull=True)
    if stage == Stage.FULL_TEXT:
        included = ScreeningItem.objects.filter(
            record=OuterRef("pk"), stage=Stage.TITLE_ABSTRACT, final_verdict=Verdict.INCLUDE
        )
        not_retrieved = FullTextReport.objects.filter(record=OuterRef("pk")).exclude(
            not_retrieved_reason=""
        )
        records = records.filter(Exists(included)).exclude(Exists(not_retrieved))
    return records


def _mine(stage: str, reviewer: Any) -> QuerySet[Decision]:
    return Decision.objects.filter(record=OuterRef("pk"), stage=stage, reviewer=reviewer)


def _items(stage: str, statuses: Sequence[str]) -> QuerySet[ScreeningItem]:
    return ScreeningItem.objects.filter(record=OuterRef("pk"), stage=stage, status__in=statuses)


def screening_queue(*, review: Review, stage: str, reviewer: Any, queue: str) -> QuerySet[Record]:
    """One of the reviewer's queues, in import order."""
    records = stage_records(review=review, stage=stage)
    S = ScreeningItem.Status
    if queue == "to_screen":
        return records.exclude(Exists(_mine(stage, reviewer))).exclude(
            Exists(_items(stage, [S.CONFLICT, S.DECIDED, S.RESOLVED]))
        )
    statuses = {"awaiting": [S.OPEN], "conflict": [S.CONFLICT], "resolved": [S.DECIDED, S.RESOLVED]}
    if queue not in statuses:
        return records.none()
    return records.filter(Exists(_mine(stage, reviewer)), Exists(_items(stage, statuses[queue])))


# The records screened at a stage (stage_records) as SQL on the record `r`.
_STAGE_RECORDS = "r.review_id = %(review)s AND r.duplicate_of_id IS NULL"
_FULL_TEXT_RECORDS = """
    AND EXISTS (SELECT 1 FROM screening_screeningitem t WHERE t.record_id = r.id
                AND t.stage = 'ta' AND t.final_verdict = 'include')
    AND NOT EXISTS (SELECT 1 FROM screening_fulltextreport f WHERE f.record_id = r.id
                    AND f.not_retrieved_reason <> '')
"""
_QUEUE_COUNTS = """
SELECT
    (SELECT count(*) FROM screening_record r WHERE {records}),
    (SELECT count(*) FROM screening_screeningitem c JOIN screening_record r ON r.id = c.record_id
     WHERE c.review_id = %(review)s AND c.stage = %(stage)s
       AND c.status IN ('conflict', 'decided', 'resolved') AND {records}
       AND NOT EXISTS (SELECT 1 FROM screening_decision o WHERE o.record_id = c.record_id
                       AND o.stage = %(stage)s AND o.reviewer_id = %(me)s)),
    count(*),
    count(*) FILTER (WHERE i.status = 'open'),
    count(*) FILTER (WHERE i.status = 'conflict'),
    count(*) FILTER (WHERE i.status IN ('decided', 'resolved'))
FROM screening_decision d
JOIN screening_record r ON r.id = d.record_id
LEFT JOIN screening_screeningitem i ON i.record_id = d.record_id AND i.stage = d.stage
WHERE d.review_id = %(review)s AND d.stage = %(stage)s AND d.reviewer_id = %(me)s AND {records}
"""


def queue_counts(*, review: Review, stage: str, reviewer: Any) -> dict[str, int]:
    """The sizes of the reviewer's queues, counted from their own votes and the records that
    are complete, never by scanning the whole review twice (it runs on every record shown).
    One SQL statement: as ORM expressions, compiling them cost more CPU than running them."""
    records = _STAGE_RECORDS + (_FULL_TEXT_RECORDS if stage == Stage.FULL_TEXT else "")
    with connection.cursor() as cursor:
        cursor.execute(
            _QUEUE_COUNTS.format(records=records),
            {"review": review.pk, "stage": stage, "me": reviewer.pk},
        )
        total, complete_by_others, mine, awaiting, conflict, resolved = cursor.fetchone()
    return {
        "to_screen": total - mine - complete_by_others,
        "awaiting": awaiting,
        "conflict": conflict,
        "resolved": resolved,
    }


def my_decision(*, record: Record, stage: str, reviewer: Any) -> Decision | None:
    return Decision.objects.filter(record=record, stage=stage, reviewer=reviewer).first()


def screening_item(*, record: Record, stage: str) -> ScreeningItem | None:
    return ScreeningItem.objects.filter(record=record, stage=stage).first()


def visible_votes(
    *,
    record: Record,
    stage: str,
    user: Any,
    settings: StageSettings,
    membership: Membership | None = None,
) -> list[Decision]:
    """The votes `user` may see on `record` (screening/visibility.py has the rule);
    `membership`: the user's, when the caller has it already."""
    from screening.visibility import votes_visible_q

    votes = Decision.objects.filter(record=record, stage=stage).select_related("reviewer")
    visible = votes_visible_q(review=record.review_id, user=user, membership=membership)
    votes = votes.filter(visible)
    return list(votes.order_by("id"))


def vote_is_locked(*, decision: Decision) -> bool:
    """Its record is complete and holds another reviewer's vote: the author has seen it."""
    return (
        ScreeningItem.objects.filter(record_id=decision.record_id, stage=decision.stage)
        .exclude(status=ScreeningItem.Status.OPEN)
        .exists()
        and Decision.objects.filter(record_id=decision.record_id, stage=decision.stage)
        .exclude(pk=decision.pk)
        .exists()
    )


def previous_decision(
    *, review: Review, stage: str, reviewer: Any, before: Decision | None
) -> Decision | None:
    """The reviewer's decision before `before` (or their latest), for the back arrow."""
    mine = Decision.objects.filter(review=review, stage=stage, reviewer=reviewer)
    if before is not None:
        mine = mine.filter(id__lt=before.pk)
    return mine.order_by("-id").first()


def following_decision(
    *, review: Review, stage: str, reviewer: Any, after: Decision
) -> Decision | None:
    mine = Decision.objects.filter(review=review, stage=stage, reviewer=reviewer, id__gt=after.pk)
    return mine.order_by("id").first()


def _with_votes(items: QuerySet[ScreeningItem], stage: str) -> QuerySet[ScreeningItem]:
    return items.select_related("record", "resolved_by").prefetch_related(
        Prefetch(
            "record__decisions",
            queryset=Decision.objects.filter(stage=stage).select_related("reviewer").order_by("id"),
            to_attr="stage_votes",
        )
    )


def conflicts(*, review: Review, stage: str, status: str = "conflict") -> QuerySet[ScreeningItem]:
    """Records in conflict (or resolved), each with every vote, for the arbiter."""
    items = ScreeningItem.objects.filter(review=review, stage=stage, status=status)
    return _with_votes(items, stage).order_by("record_id")


def conflict_item(*, review: Review, stage: str, pk: int) -> ScreeningItem:
    """One conflict, open or resolved, with its votes (the fragment the arbiter's keys swap)."""
    items = ScreeningItem.objects.filter(
        review=review,
        stage=stage,
        status__in=[ScreeningItem.Status.CONFLICT, ScreeningItem.Status.RESOLVED],
    )
    return get_object_or_404(_with_votes(items, stage), pk=pk)


@dataclass(frozen=True)
class StageProgress:
    stage: str
    label: str
    records: int
    open_with_votes: int
    conflicts: int
    decided: int
    resolved: int
    included: int
    excluded: int

    @property
    def complete(self) -> int:
        return self.decided + self.resolved

    @property
    def remaining(self) -> int:
        return self.records - self.complete

    @property
    def percent(self) -> int:
        return int(100 * self.complete / self.records) if self.records else 0


def stage_progress(*, review: Review, stage: str) -> StageProgress:
    """Counts over the stage that reveal no single vote: safe in blind mode."""
    records = stage_records(review=review, stage=stage)
    items = ScreeningItem.objects.filter(
        review=review, stage=stage, record__duplicate_of__isnull=True
    )
    by_status = dict(
        items.values_list("status").annotate(n=Count("id")).order_by().values_list("status", "n")
    )
    by_verdict = dict(
        items.exclude(final_verdict="")
        .values_list("final_verdict")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("final_verdict", "n")
    )
    S = ScreeningItem.Status
    return StageProgress(
        stage=stage,
        label=Stage(stage).label,
        records=records.count(),
        open_with_votes=by_status.get(S.OPEN, 0),
        conflicts=by_status.get(S.CONFLICT, 0),
        decided=by_status.get(S.DECIDED, 0),
        resolved=by_status.get(S.RESOLVED, 0),
        included=by_verdict.get(Verdict.INCLUDE, 0),
        excluded=by_verdict.get(Verdict.EXCLUDE, 0),
    )


@dataclass(frozen=True)
class ReviewerProgress:
    username: str
    screened: int
    conflicts: int
    is_you: bool


def reviewer_progress(*, review: Review, stage: str, user: Any) -> list[ReviewerProgress]:
    """Per person who screens: votes and conflicts. Counts reveal no verdict, but in blind mode
    a screener sees the others' votes only on records that have all their votes (their own row
    counts everything); someone who does not screen (a PI, a viewer) sees every count.
    Members who neither screen nor voted (the PI, an arbiter) are not listed."""
    settings = stage_settings(review=review, stage=stage)
    votes = Decision.objects.filter(review=review, stage=stage, record__duplicate_of__isnull=True)
    complete = ScreeningItem.objects.filter(record=OuterRef("record_id"), stage=stage).exclude(
        status=ScreeningItem.Status.OPEN
    )
    conflict = ScreeningItem.objects.filter(
        record=OuterRef("record_id"), stage=stage, status=ScreeningItem.Status.CONFLICT
    )
    reviewers = set(
        review.memberships.filter(is_reviewer=True).values_list("user__username", flat=True)
    )
    own = user.get_username()
    screens = own in reviewers or votes.filter(reviewer=user).exists()
    public = votes.filter(Exists(complete)) if settings.blind and screens else votes
    counted = dict(
        public.values_list("reviewer__username")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("reviewer__username", "n")
    )
    in_conflict = dict(
        votes.filter(Exists(conflict))
        .values_list("reviewer__username")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("reviewer__username", "n")
    )
    if settings.blind and screens:
        counted[own] = votes.filter(reviewer=user).count()
    names = sorted({name for name, n in counted.items() if n} | reviewers)
    return [
        ReviewerProgress(name, counted.get(name, 0), in_conflict.get(name, 0), name == own)
        for name in names
    ]


@dataclass(frozen=True)
class PairAgreement:
    stage: str
    reviewer_a: str
    reviewer_b: str
    result: Any  # screening.agreement.AgreementResult


def vote_pairs(*, review: Review, stage: str) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """The votes (before any resolution) of each pair of reviewers on the records both voted
    on, taken only from records that have all their votes, so blind mode hides nothing here."""
    complete = ScreeningItem.objects.filter(record=OuterRef("record_id"), stage=stage).exclude(
        status=ScreeningItem.Status.OPEN
    )
    rows = (
        Decision.objects.filter(review=review, stage=stage, record__duplicate_of__isnull=True)
        .filter(Exists(complete))
        .values_list("record_id", "reviewer__username", "verdict")
        .order_by("record_id", "reviewer__username")
    )
    by_record: dict[int, list[tuple[str, str]]] = {}
    for record_id, username, verdict in rows:
        by_record.setdefault(record_id, []).append((username, verdict))
    pairs: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for votes in by_record.values():
        for i, (name_a, verdict_a) in enumerate(votes):
            for name_b, verdict_b in votes[i + 1 :]:
                pairs.setdefault((name_a, name_b), []).append((verdict_a, verdict_b))
    return pairs


def agreement_by_pair(*, review: Review, stage: str | None = None) -> list[PairAgreement]:
    from screening.agreement import agreement

    stages = [stage] if stage else list(Stage.values)
    found = []
    for current in stages:
        for (name_a, name_b), pairs in sorted(vote_pairs(review=review, stage=current).items()):
            found.append(PairAgreement(current, name_a, name_b, agreement(pairs)))
    return found


def prisma_counts(*, review: Review) -> Any:
    """The PRISMA 2020 boxes, counted from the data (docs/screening.md says how).

    Screening counts only records still kept after deduplication, so that a record found to be
    a duplicate after it was screened moves to 'duplicates removed' and nowhere else.
    """
    from screening.prisma import PrismaCounts, is_not_retrieved_reason

    per_source: dict[str, int] = {}
    sources = (
        Record.objects.filter(review=review)
        .values_list("import_batch__source_database")
        .annotate(n=Count("id"))
        .order_by("import_batch__source_database")
        .values_list("import_batch__source_database", "n")
    )
    for source, n in sources:
        per_source[source] = per_source.get(source, 0) + n
    counts = library_counts(review=review)
    items = ScreeningItem.objects.filter(review=review, record__duplicate_of__isnull=True)
    ta = items.filter(stage=Stage.TITLE_ABSTRACT)
    ft = items.filter(stage=Stage.FULL_TEXT)
    sought = ta.filter(final_verdict=Verdict.INCLUDE)
    sought_ids = sought.values("record_id")
    ft = ft.filter(record_id__in=sought_ids)
    decided = ft.exclude(final_verdict="")
    # One "not retrieved" box: an exclusion whose reason says the report was not retrieved
    # (listed before such reasons were refused) counts there, not as an assessed report; and a
    # report with a full-text outcome was retrieved, whatever mark it carries.
    legacy = [
        pk
        for pk, reason in decided.filter(final_verdict=Verdict.EXCLUDE).values_list(
            "pk", "final_reason"
        )
        if is_not_retrieved_reason(reason)
    ]
    marked = (
        FullTextReport.objects.filter(record_id__in=sought_ids)
        .exclude(not_retrieved_reason="")
        .exclude(record_id__in=decided.values("record_id"))
        .count()
    )
    not_retrieved = marked + len(legacy)
    ft = ft.exclude(pk__in=legacy)
    excluded_by_reason = dict(
        ft.filter(final_verdict=Verdict.EXCLUDE)
        .values_list("final_reason")
        .annotate(n=Count("id"))
        .order_by("final_reason")
        .values_list("final_reason", "n")
    )
    reasons = {(reason or "No reason given"): n for reason, n in excluded_by_reason.items()}
    included = ft.filter(final_verdict=Verdict.INCLUDE)
    return PrismaCounts(
        identified_per_source=per_source,
        duplicates_removed=counts.duplicates,
        records_screened=counts.unique,
        records_excluded=ta.filter(final_verdict=Verdict.EXCLUDE).count(),
        reports_sought=sought.count(),
        reports_not_retrieved=not_retrieved,
        reports_assessed=ft.exclude(final_verdict="").count(),
        reports_excluded=reasons,
        studies_included=included_studies(review=review).count(),
        reports_of_included_studies=included.count(),
    )


@dataclass(frozen=True)
class PrismaPending:
    """What is still open, which is why an unfinished review's boxes do not add up yet."""

    records_awaiting_outcome: int
    reports_awaiting_outcome: int
    # Open pairs of the possible-duplicates queue: both records count as screened until a
    # reviewer decides; a confirmation moves one to "duplicates removed". They never unbalance
    # the boxes, so `any` leaves them out.
    possible_duplicates: int = 0

    @property
    def any(self) -> bool:
        return bool(self.records_awaiting_outcome or self.reports_awaiting_outcome)


def prisma_pending(counts: Any, *, possible_duplicates: int = 0) -> PrismaPending:
    return PrismaPending(
        possible_duplicates=possible_duplicates,
        records_awaiting_outcome=counts.records_screened
        - counts.records_excluded
        - counts.reports_sought,
        reports_awaiting_outcome=counts.reports_sought
        - counts.reports_not_retrieved
        - counts.reports_assessed,
    )


EXPORT_FILTERS = {
    "": "All records at the stage",
    "include": "Included",
    "exclude": "Excluded",
    "conflict": "In conflict",
    "pending": "Not yet decided",
}


@dataclass(frozen=True)
class ExportRow:
    record: Record
    item: ScreeningItem | None
    votes: list[Decision]


def decisions_export(
    *, review: Review, stage: str, user: Any, outcome: str = ""
) -> list[ExportRow]:
    """Records of the stage with their outcome and the votes `user` may see (the rule is in
    screening/visibility.py)."""
    from screening.visibility import votes_visible_q

    records = stage_records(review=review, stage=stage).select_related("import_batch", "study")
    S = ScreeningItem.Status
    if outcome in (Verdict.INCLUDE, Verdict.EXCLUDE):
        records = records.filter(
            Exists(
                ScreeningItem.objects.filter(
                    record=OuterRef("pk"), stage=stage, final_verdict=outcome
                )
            )
        )
    elif outcome == "conflict":
        records = records.filter(Exists(_items(stage, [S.CONFLICT])))
    elif outcome == "pending":
        records = records.exclude(Exists(_items(stage, [S.CONFLICT, S.DECIDED, S.RESOLVED])))
    records = records.order_by("id")
    items = {
        i.record_id: i
        for i in ScreeningItem.objects.filter(review=review, stage=stage).select_related(
            "resolved_by"
        )
    }
    votes: dict[int, list[Decision]] = {}
    visible = Decision.objects.filter(review=review, stage=stage).filter(
        votes_visible_q(review=review, user=user)
    )
    for vote in visible.select_related("reviewer").order_by("id"):
        votes.setdefault(vote.record_id, []).append(vote)
    return [ExportRow(r, items.get(r.pk), votes.get(r.pk, [])) for r in records.iterator()]


FULLTEXT_FILTERS = {
    "": "All reports sought",
    "missing": "Awaiting the full text",
    "attached": "PDF attached",
    "not_retrieved": "Not retrieved",
    "included": "Included at full text",
}


def fulltext_reports(*, review: Review, show: str = "") -> QuerySet[Record]:
    """Reports sought for retrieval (records included at title and abstract), with their full
    text and their full-text outcome."""
    sought = ScreeningItem.objects.filter(
        record=OuterRef("pk"), stage=Stage.TITLE_ABSTRACT, final_verdict=Verdict.INCLUDE
    )
    records = (
        Record.objects.filter(Exists(sought), review=review, duplicate_of__isnull=True)
        .select_related("study", "fulltext", "import_batch")
        .prefetch_related(
            Prefetch(
                "screening_items",
                queryset=ScreeningItem.objects.filter(stage=Stage.FULL_TEXT),
                to_attr="ft_items",
            )
        )
        .order_by("id")
    )
    has_report = FullTextReport.objects.filter(record=OuterRef("pk"))
    if show == "missing":
        records = records.exclude(Exists(has_report))
    elif show == "attached":
        records = records.filter(Exists(has_report.exclude(pdf="")))
    elif show == "not_retrieved":
        records = records.filter(Exists(has_report.exclude(not_retrieved_reason="")))
    elif show == "included":
        records = records.filter(
            Exists(
                ScreeningItem.objects.filter(
                    record=OuterRef("pk"), stage=Stage.FULL_TEXT, final_verdict=Verdict.INCLUDE
                )
            )
        )
    return records
