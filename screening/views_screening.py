"""Pages of screening a stage: its home and settings, the screening page with its decisions,
undo and lease, the queue, conflicts and amended votes."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from reviewapp.common.permissions import review_view
from reviewapp.errors import DomainError
from reviewapp.models import Membership, Review, Role
from screening import (
    selectors,
    services_ranking,
    services_screening,
)
from screening.forms_screening import StageSettingsForm
from screening.models import (
    Decision,
    Record,
    ScreeningItem,
    Stage,
    StageSettings,
)
from screening.next_record import lease_renew, next_record
from screening.views import _can_screen, _stage
from screening.views_ranking import _ranking_context


@review_view()
def screening_home(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    stages = []
    for stage in Stage.values:
        stages.append(
            {
                "stage": stage,
                "label": Stage(stage).label,
                "settings": selectors.stage_settings(review=review, stage=stage),
                "progress": selectors.stage_progress(review=review, stage=stage),
                "queues": selectors.queue_counts(review=review, stage=stage, reviewer=request.user),
                "reviewers": selectors.reviewer_progress(
                    review=review, stage=stage, user=request.user
                ),
                "ranking": _ranking_context(review, stage) if membership.is_lead else None,
            }
        )
    context = {
        "stages": stages,
        "queue_labels": selectors.QUEUES,
        "agreement": selectors.agreement_by_pair(review=review),
        "can_screen": _can_screen(membership),
        "export_filters": selectors.EXPORT_FILTERS,
    }
    return render(request, "screening/screening_home.html", context)


@review_view()
def screening_summary(
    request: HttpRequest, *, review: Review, membership: Membership
) -> HttpResponse:
    """The dashboard's screening card (loaded by htmx on the review page)."""
    context = {
        "progress": [selectors.stage_progress(review=review, stage=s) for s in Stage.values],
        "agreement": selectors.agreement_by_pair(review=review),
        "queues": selectors.queue_counts(
            review=review, stage=Stage.TITLE_ABSTRACT, reviewer=request.user
        ),
        "can_screen": _can_screen(membership),
    }
    return render(request, "screening/_summary.html", context)


@review_view(Role.LEAD)
def stage_settings_page(
    request: HttpRequest, *, review: Review, membership: Membership, stage: str
) -> HttpResponse:
    stage = _stage(stage)
    current = selectors.stage_settings(review=review, stage=stage)
    form = (
        StageSettingsForm(request.POST, stage=stage)
        if request.method == "POST"
        else StageSettingsForm.from_settings(current)
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services_screening.stage_settings_update(
                    review=review,
                    stage=stage,
                    **form.values(),
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, f"{Stage(stage).label} settings saved.")
                return redirect("screening_home", review_pk=review.pk)
    context = {
        "form": form,
        "stage": stage,
        "stage_label": Stage(stage).label,
    }
    return render(request, "screening/stage_settings.html", context, status=status)


def _screen_context(
    request: HttpRequest,
    review: Review,
    membership: Membership,
    stage: str,
    record: Record | None,
    *,
    settings: StageSettings | None = None,
    fresh: bool = False,
    error: str = "",
    notice: str = "",
) -> dict[str, object]:
    """The screening page's context. `settings`: the stage's, when the view has them already;
    `fresh`: `record` was just served by next_record (see _vote_context)."""
    if settings is None:
        settings = selectors.stage_settings(review=review, stage=stage)
    return {
        "stage": stage,
        "stage_label": Stage(stage).label,
        "settings": settings,
        "record": record,
        "queues": selectors.queue_counts(review=review, stage=stage, reviewer=request.user),
        "queue_labels": selectors.QUEUES,
        "error": error,
        "notice": notice,
        "reasons": list(enumerate(settings.exclusion_reasons, start=1)),
        **_vote_context(request, review, membership, stage, record, settings, fresh),
        **_fulltext_context(stage, record, settings),
    }


def _vote_context(
    request: HttpRequest,
    review: Review,
    membership: Membership,
    stage: str,
    record: Record | None,
    settings: StageSettings,
    fresh: bool,
) -> dict[str, object]:
    """The reviewer's own vote on `record`, the votes they may see, the arrows and the locks.
    A record fresh from next_record is open and not voted by the reviewer (that is what it
    serves): no vote of theirs, no later one, no resolution to read, and at a blind stage no
    other vote they may see (screening/visibility.py), so none of those is queried."""
    user = request.user
    mine, item = None, None
    if record is not None and not fresh:
        mine = selectors.my_decision(record=record, stage=stage, reviewer=user)
        item = selectors.screening_item(record=record, stage=stage)
    votes = (
        []
        if record is None or (fresh and settings.blind)
        else selectors.visible_votes(
            record=record, stage=stage, user=user, settings=settings, membership=membership
        )
    )
    return {
        "mine": mine,
        "item": item,
        "others": [v for v in votes if v.reviewer_id != user.pk],
        "locked": bool(item and item.status == ScreeningItem.Status.RESOLVED),
        "vote_locked": bool(mine and selectors.vote_is_locked(decision=mine)),
        "previous": selectors.previous_decision(
            review=review, stage=stage, reviewer=user, before=mine
        ),
        "following": (
            selectors.following_decision(review=review, stage=stage, reviewer=user, after=mine)
            if mine
            else None
        ),
    }


def _fulltext_context(
    stage: str, record: Record | None, settings: StageSettings
) -> dict[str, object]:
    fulltext = getattr(record, "fulltext", None) if record and stage == Stage.FULL_TEXT else None
    has_pdf = bool(fulltext and fulltext.pdf)
    return {
        "fulltext": fulltext,
        # The lead's rule: no vote on a report whose PDF is not attached.
        "needs_pdf": bool(
            record and stage == Stage.FULL_TEXT and settings.votes_need_pdf and not has_pdf
        ),
    }


def _render_screen(
    request: HttpRequest, context: dict[str, object], *, status: int = 200
) -> HttpResponse:
    template = "screening/_screen_record.html" if request.htmx else "screening/screen.html"  # type: ignore[attr-defined]  # django-htmx middleware sets it
    # htmx swaps only 2xx responses: an error is shown in the fragment, with a 200.
    return render(request, template, context, status=200 if request.htmx else status)  # type: ignore[attr-defined]  # django-htmx middleware sets it


def _stage_record(review: Review, stage: str, record_pk: int) -> Record:
    record = get_object_or_404(
        Record.objects.select_related("import_batch", "review"), pk=record_pk, review=review
    )
    if not services_screening.record_stage_eligible(record=record, stage=stage):
        raise Http404("This record is not screened at this stage.")
    return record


@review_view(Role.REVIEWER)
def screen(
    request: HttpRequest, *, review: Review, membership: Membership, stage: str
) -> HttpResponse:
    stage = _stage(stage)
    wanted = request.GET.get("record", "")
    if wanted.isdigit():
        record = _stage_record(review, stage, int(wanted))
        return _render_screen(request, _screen_context(request, review, membership, stage, record))
    settings = selectors.stage_settings(review=review, stage=stage)
    upcoming = next_record(review=review, stage=stage, reviewer=request.user, settings=settings)
    context = _screen_context(
        request, review, membership, stage, upcoming, settings=settings, fresh=True
    )
    return _render_screen(request, context)


@review_view(Role.REVIEWER)
@require_POST
def decide(
    request: HttpRequest, *, review: Review, membership: Membership, stage: str, record_pk: int
) -> HttpResponse:
    stage = _stage(stage)
    record = _stage_record(review, stage, record_pk)
    tags = [t for t in request.POST.get("tags", "").split(",") if t.strip()]
    try:
        outcome = services_screening.decision_record(
            record=record,
            stage=stage,
            reviewer=request.user,
            verdict=request.POST.get("verdict", ""),
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
            tags=tags,
        )
    except DomainError as exc:
        context = _screen_context(request, review, membership, stage, record, error=exc.message)
        return _render_screen(request, context, status=400)
    verdict = outcome.decision.get_verdict_display().lower()
    notice = f"Record {record.pk}: {verdict}" + (
        f" ({outcome.decision.reason})" if outcome.decision.reason else ""
    )
    if not request.htmx:  # type: ignore[attr-defined]  # django-htmx middleware sets it
        messages.success(request, notice + ".")
        return redirect("screen", review_pk=review.pk, stage=stage)
    return _render_next(request, review, membership, stage, notice=notice)


def _render_next(
    request: HttpRequest, review: Review, membership: Membership, stage: str, *, notice: str
) -> HttpResponse:
    """The reviewer's next record, leased to them, as the screening page's fragment."""
    settings = selectors.stage_settings(review=review, stage=stage)
    upcoming = next_record(review=review, stage=stage, reviewer=request.user, settings=settings)
    context = _screen_context(
        request, review, membership, stage, upcoming, settings=settings, fresh=True, notice=notice
    )
    return _render_screen(request, context)


@review_view(Role.REVIEWER)
@require_POST
def undo(
    request: HttpRequest, *, review: Review, membership: Membership, stage: str
) -> HttpResponse:
    stage = _stage(stage)
    try:
        record = services_screening.decision_undo_last(
            review=review, stage=stage, reviewer=request.user
        )
    except DomainError as exc:
        current = request.POST.get("current", "")
        shown = (
            _stage_record(review, stage, int(current))
            if current.isdigit()
            else next_record(review=review, stage=stage, reviewer=request.user)
        )
        context = _screen_context(request, review, membership, stage, shown, error=exc.message)
        return _render_screen(request, context, status=400)
    context = _screen_context(
        request,
        review,
        membership,
        stage,
        record,
        notice=f"Undone: your decision on record {record.pk}. Decide again.",
    )
    if not request.htmx:  # type: ignore[attr-defined]  # django-htmx middleware sets it
        messages.success(request, str(context["notice"]))
        return redirect(f"{reverse('screen', args=[review.pk, stage])}?record={record.pk}")
    return _render_screen(request, context)


QUEUE_PAGE_SIZE = 50


@review_view()
def queue_page(
    request: HttpRequest, *, review: Review, membership: Membership, stage: str, queue: str
) -> HttpResponse:
    stage = _stage(stage)
    if queue not in selectors.QUEUES:
        raise Http404("No such queue.")
    records = selectors.screening_queue(
        review=review, stage=stage, reviewer=request.user, queue=queue
    ).select_related("import_batch")
    page = Paginator(records, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "stage": stage,
        "stage_label": Stage(stage).label,
        "queue": queue,
        "queue_label": selectors.QUEUES[queue],
        "page": page,
        "queues": selectors.queue_counts(review=review, stage=stage, reviewer=request.user),
        "queue_labels": selectors.QUEUES,
        "can_screen": _can_screen(membership),
    }
    return render(request, "screening/queue.html", context)


@review_view(Role.ARBITER)
def conflicts_page(
    request: HttpRequest, *, review: Review, membership: Membership, stage: str
) -> HttpResponse:
    stage = _stage(stage)
    status = "resolved" if request.GET.get("show") == "resolved" else "conflict"
    items = selectors.conflicts(review=review, stage=stage, status=status)
    page = Paginator(items, 20).get_page(request.GET.get("page"))
    context = {
        "stage": stage,
        "stage_label": Stage(stage).label,
        "page": page,
        "show": status,
        "settings": selectors.stage_settings(review=review, stage=stage),
    }
    return render(request, "screening/conflicts.html", context)


def _conflict_answer(
    request: HttpRequest,
    review: Review,
    membership: Membership,
    stage: str,
    item_pk: int,
    error: str = "",
) -> HttpResponse:
    """htmx: the conflict's card again, resolved, reopened or with the error; otherwise back to
    the list, with the outcome as a message."""
    if not request.htmx:  # type: ignore[attr-defined]  # django-htmx middleware sets it
        if error:
            messages.error(request, error)
        return redirect("conflicts", review_pk=review.pk, stage=stage)
    item = selectors.conflict_item(review=review, stage=stage, pk=item_pk)
    resolved = item.status == ScreeningItem.Status.RESOLVED
    context = {
        "stage": stage,
        "item": item,
        # Only the form of an unresolved card lists the exclusion reasons.
        "settings": None if resolved else selectors.stage_settings(review=review, stage=stage),
        "error": error,
    }
    # htmx swaps only 2xx answers: a refusal is shown inside the card.
    return render(request, "screening/_conflict.html", context)


@review_view(Role.ARBITER)
@require_POST
def conflict_resolve(
    request: HttpRequest, *, review: Review, membership: Membership, stage: str, item_pk: int
) -> HttpResponse:
    stage = _stage(stage)
    item = get_object_or_404(ScreeningItem, pk=item_pk, review=review, stage=stage)
    try:
        services_screening.conflict_resolve(
            item=item,
            arbiter=request.user,
            membership=membership,
            verdict=request.POST.get("verdict", ""),
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
        )
    except DomainError as exc:
        return _conflict_answer(
            request, review, membership, stage, item.pk, f"Record {item.record_id}: {exc.message}"
        )
    if not request.htmx:  # type: ignore[attr-defined]  # django-htmx middleware sets it
        messages.success(request, f"Record {item.record_id} resolved.")
    return _conflict_answer(request, review, membership, stage, item.pk)


@review_view(Role.ARBITER)
@require_POST
def conflict_reopen(
    request: HttpRequest, *, review: Review, membership: Membership, stage: str, item_pk: int
) -> HttpResponse:
    stage = _stage(stage)
    item = get_object_or_404(ScreeningItem, pk=item_pk, review=review, stage=stage)
    try:
        services_screening.conflict_reopen(
            item=item, user=request.user, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        return _conflict_answer(
            request, review, membership, stage, item.pk, f"Record {item.record_id}: {exc.message}"
        )
    if not request.htmx:  # type: ignore[attr-defined]  # django-htmx middleware sets it
        messages.success(request, f"Record {item.record_id} is in conflict again.")
    return _conflict_answer(request, review, membership, stage, item.pk)


@review_view(Role.ARBITER)
def vote_amend(
    request: HttpRequest, *, review: Review, membership: Membership, stage: str, decision_pk: int
) -> HttpResponse:
    """The arbiter or the lead changes a locked vote, with a reason. Open votes are 404 here:
    they are their author's to change, and this page must not show them to anyone else."""
    stage = _stage(stage)
    decision = _locked_vote(review, stage, decision_pk)
    error, status = "", 200
    if request.method == "POST":
        try:
            _amend(request, decision)
        except DomainError as exc:
            error, status = exc.message, 400
        else:
            return redirect("conflicts", review_pk=review.pk, stage=stage)
    context = {
        "stage": stage,
        "stage_label": Stage(stage).label,
        "decision": decision,
        "settings": selectors.stage_settings(review=review, stage=stage),
        "error": error,
        "posted": request.POST,
    }
    return render(request, "screening/amend_vote.html", context, status=status)


def _locked_vote(review: Review, stage: str, decision_pk: int) -> Decision:
    decision = get_object_or_404(
        Decision.objects.select_related("reviewer", "record"),
        pk=decision_pk,
        review=review,
        stage=stage,
    )
    if not selectors.vote_is_locked(decision=decision):
        raise Http404("This vote is not locked.")
    return decision


def _amend(request: HttpRequest, decision: Decision) -> None:
    """The amendment from the form; a refusal is raised as the service's DomainError."""
    services_screening.decision_amend(
        decision=decision,
        by=request.user,
        verdict=request.POST.get("verdict", ""),
        reason=request.POST.get("reason", ""),
        why=request.POST.get("why", ""),
    )
    messages.success(
        request,
        f"The vote of {decision.reviewer.get_username()} on record "
        f"{decision.record_id} was amended.",
    )


@review_view(Role.REVIEWER)
@require_POST
def lease_action(
    request: HttpRequest, *, review: Review, membership: Membership, stage: str, record_pk: int
) -> HttpResponse:
    """The screening page gives a record back: on skip, on page close (sendBeacon) or renews
    it while open (heartbeat)."""
    stage = _stage(stage)
    get_object_or_404(Record, pk=record_pk, review=review)
    action = request.POST.get("action", "")
    if action == "release":
        services_ranking.lease_release(
            review=review, stage=stage, reviewer=request.user, record_id=record_pk
        )
        return HttpResponse(status=204)
    if action == "renew":
        renewed = lease_renew(
            review=review, stage=stage, reviewer=request.user, record_id=record_pk
        )
        return HttpResponse(status=204 if renewed else 409)
    if action == "skip":
        try:
            services_ranking.lease_skip(
                review=review, stage=stage, reviewer=request.user, record_id=record_pk
            )
        except DomainError as exc:
            context = _screen_context(request, review, membership, stage, None, error=exc.message)
            return _render_screen(request, context, status=400)
        notice = f"Skipped record {record_pk}: it comes back at the end of your queue."
        if not request.htmx:  # type: ignore[attr-defined]  # django-htmx middleware sets it
            messages.success(request, notice)
            return redirect("screen", review_pk=review.pk, stage=stage)
        return _render_next(request, review, membership, stage, notice=notice)
    return HttpResponse(f"Unknown action '{action}'.", status=400)
