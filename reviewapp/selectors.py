"""Reads on reviews, teams and the audit trail."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import F, Func, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from reviewapp import history
from reviewapp.demo import DEMO_TITLE, DEMO_USERS
from reviewapp.models import ApiToken, Invitation, Membership, Review


def _count_of(model: Any) -> Subquery:
    """The number of `model` rows of the outer review, as a subquery: annotating with Count()
    over a relation the query also filters on would count only the filtered rows."""
    rows = model.objects.filter(review=OuterRef("pk")).order_by().values("review")
    return Subquery(rows.annotate(n=Func(F("pk"), function="COUNT")).values("n"))


def reviews_for_user(*, user: Any) -> QuerySet[Review]:
    from screening.models import Record

    return (
        Review.objects.filter(memberships__user=user)
        .annotate(
            team_size=Coalesce(_count_of(Membership), 0),
            record_count=Coalesce(_count_of(Record), 0),
        )
        .order_by("-created_at")
    )


def deleted_reviews_for_lead(*, user: Any) -> QuerySet[Review]:
    """The user's bin: deleted reviews they lead, restorable until purged."""
    return (
        Review.all_objects.deleted()
        .filter(memberships__user=user, memberships__is_lead=True)
        .select_related("deleted_by")
        .order_by("-deleted_at")
    )


def team(*, review: Review) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(review=review).select_related("user").order_by("user__username")
    )


def pending_invitations(*, review: Review) -> QuerySet[Invitation]:
    """Invitations not yet accepted nor withdrawn, expired ones included (to resend them)."""
    return (
        Invitation.objects.filter(review=review, accepted_at=None, revoked_at=None)
        .select_related("invited_by")
        .order_by("email")
    )


@dataclass(frozen=True)
class HistoryEntry:
    when: datetime
    who: str
    action: str
    what: str
    label: str
    changes: list[str]
    reason: str = ""


_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


def review_history(*, review: Review, user: Any, limit: int = 200) -> list[HistoryEntry]:
    """The latest changes to the review's team work that `user` may read, newest first, with
    field-level diffs.

    Two queries per model with history: its latest rows, then the versions just before the
    changed ones (one `prev_record` per row would be a query each). A changed row's earlier
    version belongs to the same object, so a filter that keeps the row keeps what it diffs.
    """
    entries: list[HistoryEntry] = []
    for source in history.sources():
        label, manager, visible = source.label, source.manager, source.visible
        related = [f for f in LABEL_RELATIONS if _has_relation(manager.model, f)]
        rows_qs = manager.filter(**{source.review_field: review.pk})
        if visible is not None:
            rows_qs = visible(rows_qs, review=review, user=user)
        rows = list(
            rows_qs.select_related("history_user", *related).order_by(
                "-history_date", "-history_id"
            )[:limit]
        )
        previous = _previous_versions(manager, [r for r in rows if r.history_type == "~"])
        for row in rows:
            changes: list[str] = []
            before = previous.get(row.history_id)
            if before is not None:
                delta = row.diff_against(before)
                changes = [f"{c.field}: {c.old!r} → {c.new!r}" for c in delta.changes]
            entries.append(
                HistoryEntry(
                    when=row.history_date,
                    who=row.history_user.get_username() if row.history_user else "system",
                    action=_ACTIONS.get(row.history_type, row.history_type),
                    what=label,
                    label=_label(row, related)[:120],
                    changes=changes,
                    reason=getattr(row, "history_change_reason", None) or "",
                )
            )
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:limit]


# What names a history row without rebuilding its instance (which costs a query per row for
# models with excluded fields, and more for a __str__ that follows relations).
LABEL_FIELDS = ("title", "label", "name", "file_name", "email")
LABEL_RELATIONS = ("user", "study", "record", "outcome", "form", "tool")


def _has_relation(model: Any, name: str) -> bool:
    try:
        return bool(model._meta.get_field(name).many_to_one)
    except Exception:  # FieldDoesNotExist: the model has no such relation
        return False


def _label(row: Any, related: list[str]) -> str:
    parts = [str(getattr(row, name)) for name in LABEL_FIELDS if getattr(row, name, "")]
    parts += [str(getattr(row, name)) for name in related if getattr(row, f"{name}_id", None)]
    return " · ".join(parts) or f"#{row.pk if hasattr(row, 'pk') else ''}"


def _previous_versions(manager: Any, changed: list[Any]) -> dict[int, Any]:
    """For each changed history row, the object's version just before it, by history_id."""
    if not changed:
        return {}
    pk_name = manager.model.instance_type._meta.pk.attname
    chains: dict[Any, list[Any]] = {}
    for version in manager.filter(
        **{f"{pk_name}__in": {getattr(row, pk_name) for row in changed}}
    ).order_by("history_date", "history_id"):
        chains.setdefault(getattr(version, pk_name), []).append(version)
    found: dict[int, Any] = {}
    for row in changed:
        chain = chains[getattr(row, pk_name)]
        at = next(i for i, v in enumerate(chain) if v.history_id == row.history_id)
        if at > 0:
            found[row.history_id] = chain[at - 1]
    return found


def api_tokens(*, user: Any) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created")


@dataclass(frozen=True)
class DemoLogin:
    username: str
    roles: tuple[str, ...]


def demo_logins() -> list[DemoLogin]:
    """The demo team, for the login page: only where settings allow it (never in production)
    and `load_demo` has run, and only the demo users still active on the demo review."""
    if not settings.DEMO_LOGINS:
        return []
    names = [username for username, _email, _roles in DEMO_USERS]
    members = Membership.objects.filter(
        review__title=DEMO_TITLE, user__username__in=names, user__is_active=True
    ).select_related("user")
    roles = {m.user.username: tuple(m.roles) for m in members}
    return [DemoLogin(name, roles[name]) for name in names if name in roles]
