"""Pages of duplicates: the possible-duplicates queue, and a record's keeper, merge and split
with their undo."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from reviewapp.common.pages import call_and_redirect
from reviewapp.common.permissions import review_view
from reviewapp.errors import DomainError
from reviewapp.models import Membership, Review, Role
from screening import (
    selectors,
    selectors_possible,
    services,
    services_possible,
)
from screening.models import (
    DedupAction,
    PossibleDuplicate,
    Record,
)

GROUPS_PAGE_SIZE = 20
# Pairs of the possible-duplicates queue rendered at once; the next ones follow as they are
# decided.
POSSIBLE_SHOWN = 10


def _possible_context(
    review: Review,
    membership: Membership,
    *,
    notice: str = "",
    error: str = "",
    focus: int | None = None,
) -> dict[str, object]:
    pairs = selectors_possible.open_possible_duplicates(review=review)
    shown = list(pairs[:POSSIBLE_SHOWN])
    return {
        "items": [(p, selectors_possible.compare_records(p.record_a, p.record_b)) for p in shown],
        "open_count": pairs.count() if len(shown) == POSSIBLE_SHOWN else len(shown),
        "undoable": selectors_possible.undoable_possible_decision(review=review),
        "can_decide": membership.has_role(Role.REVIEWER),
        "notice": notice,
        "error": error,
        "focus": focus,
    }


def _summary(review: Review, group_count: int | None = None) -> dict[str, object]:
    """The page's summary and last change, which an htmx answer of the queue sends again
    (`group_count`: when the caller has counted the groups already)."""
    if group_count is None:
        group_count = selectors.duplicate_group_primary_ids(review=review).count()
    return {
        "counts": selectors.library_counts(review=review),
        "group_count": group_count,
        "undoable": selectors.latest_undoable_action(review=review),
    }


@review_view()
def duplicates(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    primary_ids = selectors.duplicate_group_primary_ids(review=review)
    page = Paginator(primary_ids, GROUPS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        **_summary(review, group_count=page.paginator.count),
        "page": page,
        "groups": selectors.duplicate_groups(review=review, primary_ids=list(page.object_list)),
        "actions": selectors.dedup_actions(review=review)[:10],
        "possible": _possible_context(review, membership),
    }
    return render(request, "screening/duplicates.html", context)


def _possible_response(
    request: HttpRequest,
    review: Review,
    membership: Membership,
    *,
    notice: str = "",
    error: str = "",
    focus: int | None = None,
) -> HttpResponse:
    """The queue again (htmx: with the page's summary and last change, out of band), or back to
    the page with the outcome as a message when the form was posted without JavaScript."""
    if not request.htmx:  # type: ignore[attr-defined]  # django-htmx middleware sets it
        if error:
            messages.error(request, error)
        elif notice:
            messages.success(request, notice)
        return redirect("duplicates", review_pk=review.pk)
    context = {
        **_summary(review),
        "possible": _possible_context(review, membership, notice=notice, error=error, focus=focus),
    }
    return render(request, "screening/_possible_response.html", context)


# A reviewer's answer on a possible pair: the service that records it, and what it says.
POSSIBLE_DECISIONS = {
    "confirm": (services_possible.possible_confirm, "are duplicates"),
    "separate": (services_possible.possible_separate, "are not duplicates"),
}


@review_view(Role.REVIEWER)
@require_POST
def possible_decide(
    request: HttpRequest, *, review: Review, membership: Membership, possible_pk: int
) -> HttpResponse:
    pair = get_object_or_404(PossibleDuplicate, pk=possible_pk, review=review)
    decision = POSSIBLE_DECISIONS.get(request.POST.get("decision", ""))
    try:
        if decision is None:
            raise DomainError("Choose duplicates or not duplicates.")
        decide, outcome = decision
        decide(pair=pair, user=request.user)
    except DomainError as exc:
        return _possible_response(request, review, membership, error=exc.message, focus=pair.pk)
    notice = f"Records {pair.record_a_id} and {pair.record_b_id} {outcome}."
    return _possible_response(request, review, membership, notice=notice)


@review_view(Role.REVIEWER)
@require_POST
def possible_undo(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    try:
        pair = services_possible.possible_undo_last(review=review, user=request.user)
    except DomainError as exc:
        return _possible_response(request, review, membership, error=exc.message)
    notice = f"Undone: records {pair.record_a_id} and {pair.record_b_id} are to decide again."
    return _possible_response(request, review, membership, notice=notice, focus=pair.pk)


def _back(request: HttpRequest, review: Review) -> str:
    """Where a duplicates action returns: the page it came from, when that is this review's."""
    target = request.POST.get("next", "")
    if target.startswith(f"/reviews/{review.pk}/"):
        return target
    return reverse("duplicates", args=[review.pk])


def _other(review: Review, action: str, raw: str) -> Record | None:
    """The record a merge joins (the number typed, or sent back by the confirmation page);
    None for the actions on one record."""
    if action != "merge":
        return None
    raw = raw.strip()
    if not raw.isdigit():
        raise DomainError("Give the number of the record this one duplicates.")
    other = Record.objects.filter(pk=int(raw), review=review).first()
    if other is None:
        raise DomainError(f"There is no record {raw} in this review.")
    return other


DEDUP_DONE = {
    "split": "Record {record} is no longer marked as a duplicate.",
    "primary": "Record {record} is now the record kept.",
    "merge": "Record {record} merged with record {other}.",
}


def _dedup_run(action: str, record: Record, other: Record | None, user: object) -> None:
    if action == "split":
        services.dedup_split(record=record, user=user)
    elif action == "primary":
        services.dedup_make_primary(record=record, user=user)
    elif action == "merge" and other is not None:
        services.dedup_merge(record=record, other=other, user=user)
    else:
        raise DomainError("Unknown action.")


@review_view(Role.REVIEWER)
@require_POST
def duplicate_action(
    request: HttpRequest, *, review: Review, membership: Membership, record_pk: int
) -> HttpResponse:
    """A change that moves screening work is confirmed first, on a page that says what moves."""
    record = get_object_or_404(Record, pk=record_pk, review=review)
    action = request.POST.get("action", "")
    try:
        other = _other(review, action, request.POST.get("other", ""))
        if action in ("primary", "merge") and not request.POST.get("confirmed"):
            plan = selectors.dedup_plan(review=review, record=record, action=action, other=other)
            if plan.moves_work:
                query = f"?action={action}&other={other.pk if other else ''}"
                return redirect(reverse("duplicate_confirm", args=[review.pk, record.pk]) + query)
        _dedup_run(action, record, other, request.user)
        messages.success(
            request, DEDUP_DONE[action].format(record=record.pk, other=getattr(other, "pk", ""))
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(_back(request, review))


@review_view(Role.REVIEWER)
def duplicate_confirm(
    request: HttpRequest, *, review: Review, membership: Membership, record_pk: int
) -> HttpResponse:
    """What a keeper change or a merge would move, before it is done."""
    record = get_object_or_404(Record, pk=record_pk, review=review)
    action = request.GET.get("action", "")
    try:
        other = _other(review, action, request.GET.get("other", ""))
        plan = selectors.dedup_plan(review=review, record=record, action=action, other=other)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("duplicates", review_pk=review.pk)
    context = {"record": record, "other": other,
               "action": action, "plan": plan}  # fmt: skip
    return render(request, "screening/duplicate_confirm.html", context)


@review_view(Role.REVIEWER)
@require_POST
def duplicate_undo(
    request: HttpRequest, *, review: Review, membership: Membership, action_pk: int
) -> HttpResponse:
    action = get_object_or_404(DedupAction, pk=action_pk, review=review)
    return call_and_redirect(
        request,
        lambda: services.dedup_undo(action=action, user=request.user),
        to=_back(request, review),
        success=f"Undone: {action.get_kind_display().lower()}.",
    )
