"""Reads on reviews, teams and the audit trail."""

from dataclasses import dataclass
from datetime import datetime
from importlib import import_module
from typing import Any

from django.db.models import Count, Q, QuerySet

from reviewapp.models import Invitation, Membership, Review


def reviews_for_user(*, user: Any) -> QuerySet[Review]:
    return (
        Review.objects.filter(memberships__user=user)
        .annotate(
            team_size=Count("memberships", distinct=True),
            record_count=Count("records", distinct=True),
        )
        .order_by("-created_at")
    )


def team(*, review: Review) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(review=review).select_related("user").order_by("user__username")
    )


def pending_invitations(*, review: Review) -> QuerySet[Invitation]:
    return Invitation.objects.filter(review=review, accepted_at=None).order_by("email")


@dataclass(frozen=True)
class HistoryEntry:
    when: datetime
    who: str
    action: str
    what: str
    label: str
    changes: list[str]


_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


HISTORY_APPS = ("reviewapp", "screening", "extraction", "extraction.rob", "analysis")


def _history_models() -> list[tuple[str, Any, str]]:
    models: list[tuple[str, Any, str]] = []
    for app in HISTORY_APPS:
        models.extend(import_module(f"{app}.history").HISTORY_MODELS)
    return models


def review_history(*, review: Review, limit: int = 200) -> list[HistoryEntry]:
    """The latest changes to the review's team work, newest first, with field-level diffs."""
    entries: list[HistoryEntry] = []
    for label, manager, review_field in _history_models():
        rows = (
            manager.filter(**{review_field: review.pk})
            .select_related("history_user")
            .order_by("-history_date")[:limit]
        )
        for row in rows:
            changes: list[str] = []
            if row.history_type == "~":
                previous = row.prev_record
                if previous is not None:
                    delta = row.diff_against(previous)
                    changes = [f"{c.field}: {c.old!r} → {c.new!r}" for c in delta.changes]
            entries.append(
                HistoryEntry(
                    when=row.history_date,
                    who=row.history_user.get_username() if row.history_user else "system",
                    action=_ACTIONS.get(row.history_type, row.history_type),
                    what=label,
                    label=str(row.instance)[:120],
                    changes=changes,
                )
            )
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:limit]


def user_is_member(*, user: Any, review_id: int) -> bool:
    return Membership.objects.filter(Q(review_id=review_id) & Q(user=user)).exists()
