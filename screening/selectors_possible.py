"""Reads for the possible-duplicates queue: the open pairs, their comparison, the last decision."""

from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce

from reviewapp.models import Review
from screening.models import DedupAction, ImportBatch, PossibleDuplicate, Record
from screening.references.dedup import normalise_doi, normalise_title

ABSTRACT_START = 300


def possible_duplicates(*, review: Review, status: str = "") -> QuerySet[PossibleDuplicate]:
    """The review's pairs, oldest first. An open pair whose records a team member has since put
    in one group (a merge on the groups below) is settled and left out of the open ones."""
    pairs = PossibleDuplicate.objects.filter(review=review).select_related(
        "record_a__import_batch", "record_b__import_batch", "decided_by"
    )
    if status:
        pairs = pairs.filter(status=status)
    if status == PossibleDuplicate.Status.OPEN:
        pairs = pairs.annotate(
            root_a=Coalesce("record_a__duplicate_of_id", "record_a_id"),
            root_b=Coalesce("record_b__duplicate_of_id", "record_b_id"),
        ).exclude(root_a=F("root_b"))
    return pairs.order_by("id")


def open_possible_duplicates(*, review: Review) -> QuerySet[PossibleDuplicate]:
    return possible_duplicates(review=review, status=PossibleDuplicate.Status.OPEN)


def open_possible_count(*, review: Review) -> int:
    return open_possible_duplicates(review=review).count()


def open_possible_count_for_import(*, batch: ImportBatch) -> int:
    """Open pairs with a record of this import: what its summary asks the team to decide."""
    pairs = open_possible_duplicates(review=batch.review)
    return pairs.filter(Q(record_a__import_batch=batch) | Q(record_b__import_batch=batch)).count()


def undoable_possible_decision(*, review: Review) -> PossibleDuplicate | None:
    """The pair whose decision is the review's newest duplicate change, if it is one: only that
    one can be undone (duplicate changes are undone newest first)."""
    latest = (
        DedupAction.objects.filter(review=review, undone_at=None)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)
        .first()
    )
    if latest is None:
        return None
    return PossibleDuplicate.objects.filter(review=review, action_id=latest).first()


@dataclass(frozen=True)
class CompareRow:
    label: str
    a: str
    b: str
    differs: bool


def _authors(record: Record) -> str:
    return "; ".join(str(a) for a in record.authors or [])


def _abstract_start(record: Record) -> str:
    text = " ".join((record.abstract or "").split())
    return text if len(text) <= ABSTRACT_START else text[:ABSTRACT_START].rstrip() + " …"


def _text_differs(a: str, b: str) -> bool:
    # Case, accents, punctuation and spacing are how exports differ, not how papers do.
    return normalise_title(a) != normalise_title(b)


def compare_records(a: Record, b: Record) -> list[CompareRow]:
    """The fields a reviewer judges a pair by, side by side, each flagged if the two differ."""
    rows = [
        ("Title", a.title, b.title, _text_differs(a.title, b.title)),
        ("Authors", _authors(a), _authors(b), _text_differs(_authors(a), _authors(b))),
        ("Journal", a.journal, b.journal, _text_differs(a.journal, b.journal)),
        ("Year", str(a.year or ""), str(b.year or ""), a.year != b.year),
    ]
    for label, field in (("Volume", "volume"), ("Issue", "issue"), ("Pages", "pages")):
        x, y = getattr(a, field), getattr(b, field)
        rows.append((label, x, y, _text_differs(x, y)))
    rows.append(("DOI", a.doi, b.doi, normalise_doi(a.doi) != normalise_doi(b.doi)))
    rows.append(("PMID", a.pmid, b.pmid, a.pmid.strip() != b.pmid.strip()))
    rows.append(("ISSN", a.issn, b.issn, _text_differs(a.issn, b.issn)))
    start_a, start_b = _abstract_start(a), _abstract_start(b)
    rows.append(("Abstract", start_a, start_b, _text_differs(start_a, start_b)))
    rows.append(
        (
            "Source",
            a.import_batch.source_database,
            b.import_batch.source_database,
            False,  # a pair from two databases is the usual case, not evidence
        )
    )
    return [CompareRow(label, x or "", y or "", differs) for label, x, y, differs in rows]
