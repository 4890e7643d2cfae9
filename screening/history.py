"""Screening models whose history shows on the review's history page, and what of it each
member may read: votes follow the blind rule (screening/visibility.py), and an open record's
outcome row stays hidden at a blind stage (it would tell that someone voted)."""

from typing import Any

from screening.models import (
    Decision,
    DedupAction,
    FullTextReport,
    ImportBatch,
    Record,
    ScreeningItem,
    StageSettings,
    Study,
)

HISTORY_MODELS = [
    ("Import", ImportBatch.history, "review_id"),
    ("Record", Record.history, "review_id"),
    ("Duplicate decision", DedupAction.history, "review_id"),
    ("Study", Study.history, "review_id"),
    ("Screening settings", StageSettings.history, "review_id"),
    ("Screening vote", Decision.history, "review_id"),
    ("Screening outcome", ScreeningItem.history, "review_id"),
    ("Full text", FullTextReport.history, "review_id"),
]


def _votes(rows: Any, *, review: Any, user: Any) -> Any:
    from screening.visibility import votes_visible_q

    return rows.filter(votes_visible_q(review=review, user=user))


def _items(rows: Any, *, review: Any, user: Any) -> Any:
    from screening.visibility import items_visible_q

    return rows.filter(items_visible_q(review=review))


HISTORY_FILTERS = {"Screening vote": _votes, "Screening outcome": _items}
