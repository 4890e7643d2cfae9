"""Writes for the possible-duplicates queue: pairs the matcher found likely but not certain.

A possible pair changes nothing until a team member decides it, so PRISMA counts both records
as screened while it is open. Each decision goes through the duplicate machinery the rest of the
duplicates page uses, so that later imports, the list of recent changes and undo see it:

- *confirm* is a `dedup_merge` (a `merge` DedupAction with a must-link),
- *separate* is a `separate` DedupAction with a cannot-link, so no later run joins the two,
- *undo* is `dedup_undo` of that action, which also reopens the pair (services.dedup_undo).

Decisions are undone newest first, like every other duplicate change. The pairs are stored by
the import's deduplication step (services.possible_pairs_store).
"""

from typing import Any

from django.db import transaction
from django.utils import timezone

from reviewapp.errors import DomainError
from reviewapp.models import Review
from screening.models import DedupAction, PossibleDuplicate, Record, ScreeningItem
from screening.services import dedup_merge, dedup_undo, possible_reopen


def _lock_open(pair: PossibleDuplicate) -> PossibleDuplicate:
    locked = PossibleDuplicate.objects.select_for_update().get(pk=pair.pk)
    if locked.status != PossibleDuplicate.Status.OPEN:
        raise DomainError(
            f"Records {locked.record_a_id} and {locked.record_b_id} were already decided "
            f"({locked.get_status_display().lower()})."
        )
    return locked


def _root(record_id: int) -> int:
    dup = Record.objects.filter(pk=record_id).values_list("duplicate_of_id", flat=True).get()
    return dup or record_id


def _group_ids(root: int) -> list[int]:
    return [root, *Record.objects.filter(duplicate_of_id=root).values_list("id", flat=True)]


def _kept_apart(review_id: int) -> list[tuple[int, int]]:
    return [
        (int(x), int(y))
        for links in DedupAction.objects.filter(review_id=review_id, undone_at=None).values_list(
            "cannot_link", flat=True
        )
        for x, y in links
    ]


def _decide(
    pair: PossibleDuplicate, status: str, action: DedupAction, user: Any, reasons: dict[str, str]
) -> PossibleDuplicate:
    pair.status = status
    pair.action = action
    pair.decided_by = user
    pair.decided_at = timezone.now()
    pair.reasons_before = reasons
    pair.save(update_fields=["status", "action", "decided_by", "decided_at", "reasons_before"])
    return pair


@transaction.atomic
def possible_confirm(*, pair: PossibleDuplicate, user: Any) -> PossibleDuplicate:
    """The two records are the same paper: merge their groups.

    The group whose kept record has screening work stays kept (its votes and outcomes go on
    counting); otherwise the earlier record's group does. Refused when the merge would join two
    records a team member kept apart (a separation or a split), which a chain of confirmations
    could otherwise do behind their back.
    """
    pair = _lock_open(pair)
    root_a, root_b = _root(pair.record_a_id), _root(pair.record_b_id)
    if root_a == root_b:
        raise DomainError(
            f"Records {pair.record_a_id} and {pair.record_b_id} are already in one duplicate group."
        )
    screened = set(
        ScreeningItem.objects.filter(record_id__in=[root_a, root_b]).values_list(
            "record_id", flat=True
        )
    )
    keep_b = root_b in screened and root_a not in screened
    source, target = (
        (pair.record_a_id, pair.record_b_id) if keep_b else (pair.record_b_id, pair.record_a_id)
    )
    group_a, group_b = set(_group_ids(root_a)), set(_group_ids(root_b))
    for x, y in _kept_apart(pair.review_id):
        if (x in group_a and y in group_b) or (x in group_b and y in group_a):
            raise DomainError(
                f"Records {x} and {y} were marked as not duplicates, and merging records "
                f"{pair.record_a_id} and {pair.record_b_id} would put them in one group. "
                "Undo that decision first, or mark these two as not duplicates."
            )
    members = [*group_a, *group_b]
    reasons = {
        str(pk): reason
        for pk, reason in Record.objects.filter(id__in=members).values_list(
            "id", "duplicate_reason"
        )
    }
    action = dedup_merge(
        record=Record.objects.get(pk=source), other=Record.objects.get(pk=target), user=user
    )
    return _decide(pair, PossibleDuplicate.Status.CONFIRMED, action, user, reasons)


@transaction.atomic
def possible_separate(*, pair: PossibleDuplicate, user: Any) -> PossibleDuplicate:
    """The two records are different papers: keep them apart from now on."""
    pair = _lock_open(pair)
    if _root(pair.record_a_id) == _root(pair.record_b_id):
        raise DomainError(
            f"Records {pair.record_a_id} and {pair.record_b_id} are already in one duplicate "
            "group: split them in the group below instead."
        )
    action = DedupAction.objects.create(
        review_id=pair.review_id,
        kind=DedupAction.Kind.SEPARATE,
        record_id=pair.record_a_id,
        other_id=pair.record_b_id,
        before={},
        cannot_link=[[pair.record_a_id, pair.record_b_id]],
        created_by=user,
    )
    return _decide(pair, PossibleDuplicate.Status.SEPARATED, action, user, {})


@transaction.atomic
def possible_undo(*, pair: PossibleDuplicate, user: Any) -> PossibleDuplicate:
    """Undo the pair's decision, which must be the newest duplicate change: the records,
    their reasons and the pair are as they were before it."""
    pair = PossibleDuplicate.objects.select_for_update().get(pk=pair.pk)
    if pair.status == PossibleDuplicate.Status.OPEN:
        raise DomainError(
            f"Records {pair.record_a_id} and {pair.record_b_id} have no decision to undo."
        )
    action = pair.action
    if action is not None and action.undone_at is None:
        dedup_undo(action=action, user=user)  # reopens the pair
    else:
        # The decision's change is gone (undone elsewhere, or its record deleted): only the
        # pair is left to reopen.
        possible_reopen(pair=pair)
    pair.refresh_from_db()
    return pair


def possible_undo_last(*, review: Review, user: Any) -> PossibleDuplicate:
    """Undo the newest decision of the queue."""
    latest = (
        PossibleDuplicate.objects.filter(review=review)
        .exclude(status=PossibleDuplicate.Status.OPEN)
        .order_by("-decided_at", "-id")
        .first()
    )
    if latest is None:
        raise DomainError("No possible duplicate has been decided yet.")
    return possible_undo(pair=latest, user=user)
