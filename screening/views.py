"""Pages of the reference library (imports, records, duplicates) and of screening."""

from csp.decorators import csp_replace
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from reviewapp.common.outbox import outbox_notice, outbox_waiting
from reviewapp.common.pages import call_and_redirect
from reviewapp.common.pagination import DeferredJoinPaginator
from reviewapp.common.permissions import review_view
from reviewapp.errors import DomainError
from reviewapp.models import Membership, Review, Role
from screening import (
    exports,
    plots_ranking,
    selectors,
    selectors_imports,
    selectors_possible,
    selectors_ranking,
    services,
    services_imports,
    services_possible,
    services_ranking,
    services_screening,
)
from screening.agreement import agreement_table_csv
from screening.forms import ImportDeleteForm, ImportForm
from screening.forms_screening import StageSettingsForm
from screening.models import (
    Decision,
    DedupAction,
    FullTextReport,
    ImportBatch,
    PossibleDuplicate,
    Record,
    ScreeningItem,
    Stage,
    Study,
)
from screening.next_record import lease_renew, next_record
from screening.prisma import render_svg
from screening.prisma import to_csv as prisma_to_csv

LIBRARY_PAGE_SIZE = 50
GROUPS_PAGE_SIZE = 20
# Pairs of the possible-duplicates queue rendered at once; the next ones follow as they are
# decided.
POSSIBLE_SHOWN = 10


@review_view()
def library(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    filters = {
        "query": request.GET.get("q", ""),
        "source": request.GET.get("source", ""),
        "year": request.GET.get("year", ""),
        "status": request.GET.get("status", ""),
    }
    records = selectors.library_records(review=review, **filters)
    page = DeferredJoinPaginator(records, LIBRARY_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "review": review,
        "membership": membership,
        "page": page,
        "filters": filters,
        "facets": selectors.library_facets(review=review),
        "counts": selectors.library_counts(review=review),
        "querystring": request.GET.copy(),
    }
    template = "screening/_library_results.html" if request.htmx else "screening/library.html"  # type: ignore[attr-defined]  # django-htmx middleware sets it
    return render(request, template, context)


@review_view()
def record_detail(
    request: HttpRequest, *, review: Review, membership: Membership, record_pk: int
) -> HttpResponse:
    record = get_object_or_404(
        Record.objects.select_related("import_batch", "duplicate_of"), pk=record_pk, review=review
    )
    primary_id = record.duplicate_of_id or record.pk
    group = selectors.duplicate_groups(review=review, primary_ids=[primary_id])
    context = {
        "review": review,
        "membership": membership,
        "record": record,
        "group": group[0] if group and group[0].duplicates else None,
    }
    return render(request, "screening/record_detail.html", context)


@review_view()
def imports(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    form = ImportForm()
    batches = selectors_imports.imports_of_review(review=review)
    context = {"review": review, "membership": membership, "form": form, "batches": batches}
    return render(request, "screening/imports.html", context)


@review_view(Role.LEAD)
@require_POST
def import_upload(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            batch = services.import_create(
                review=review,
                created_by=request.user,
                upload=form.cleaned_data["file"],
                source_database=form.cleaned_data["source_database"],
                search_date=form.cleaned_data["search_date"],
                search_string=form.cleaned_data["search_string"],
                new_search=form.cleaned_data["new_search"],
            )
        except DomainError as exc:
            form.add_error("file" if exc.field == "file" else None, exc.message)
        else:
            outbox_notice(request)
            return redirect("import_detail", review_pk=review.pk, batch_pk=batch.pk)
    batches = selectors_imports.imports_of_review(review=review)
    context = {"review": review, "membership": membership, "form": form, "batches": batches}
    return render(request, "screening/imports.html", context, status=400)


@review_view()
def import_detail(
    request: HttpRequest, *, review: Review, membership: Membership, batch_pk: int
) -> HttpResponse:
    batch = get_object_or_404(ImportBatch, pk=batch_pk, review=review)
    context = {
        "review": review,
        "membership": membership,
        "batch": batch,
        "progress": services.import_progress_get(batch.pk) or {"percent": 0, "stage": "queued"},
        "waiting_for_worker": (
            batch.status == ImportBatch.Status.QUEUED
            or batch.deletion_status == ImportBatch.DeletionStatus.QUEUED
        )
        and outbox_waiting(),
        "deletion_progress": services_imports.import_delete_progress_get(batch.pk),
        "records_left": selectors_imports.import_records_kept(batch=batch),
        "possible_found": (
            selectors_possible.open_possible_count_for_import(batch=batch)
            if batch.status == ImportBatch.Status.DONE
            else 0
        ),
    }
    template = "screening/import_detail.html"
    if request.htmx:  # type: ignore[attr-defined]  # django-htmx middleware sets it
        template = (
            "screening/_import_deletion.html"
            if request.GET.get("part") == "deletion"
            else "screening/_import_status.html"
        )
    return render(request, template, context)


@review_view(Role.LEAD)
def import_delete(
    request: HttpRequest, *, review: Review, membership: Membership, batch_pk: int
) -> HttpResponse:
    """GET: what deleting the import would remove and lose; POST: queue its deletion (a
    worker runs it; the import's page shows its progress)."""
    batch = get_object_or_404(ImportBatch, pk=batch_pk, review=review)
    if request.method == "POST":
        form = ImportDeleteForm(request.POST)
        keep = form.is_valid() and form.cleaned_data["keep_screened"]
        detail = reverse("import_detail", args=[review.pk, batch.pk])
        response = call_and_redirect(
            request,
            lambda: services_imports.import_delete_request(
                batch=batch, user=request.user, keep_screened=keep
            ),
            to=detail,
            error_to=reverse("import_delete", args=[review.pk, batch.pk]),
            success=f"Deleting the records of {batch.file_name} in the background.",
        )
        if response["Location"] == detail:
            outbox_notice(request)
        return response
    context = {
        "review": review,
        "membership": membership,
        "batch": batch,
        "preview": selectors_imports.import_deletion_preview(batch=batch),
    }
    return render(request, "screening/import_delete.html", context)


@review_view(Role.LEAD)
@require_POST
def import_restore(
    request: HttpRequest, *, review: Review, membership: Membership, batch_pk: int
) -> HttpResponse:
    batch = get_object_or_404(ImportBatch, pk=batch_pk, review=review)
    return call_and_redirect(
        request,
        lambda: services_imports.import_restore(batch=batch, user=request.user),
        to=lambda again: reverse("import_detail", args=[review.pk, again.pk]),
        error_to=reverse("import_detail", args=[review.pk, batch.pk]),
        success=f"Importing {batch.file_name} again.",
    )


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


@review_view()
def duplicates(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    primary_ids = selectors.duplicate_group_primary_ids(review=review)
    page = Paginator(primary_ids, GROUPS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "review": review,
        "membership": membership,
        "page": page,
        "group_count": page.paginator.count,
        "groups": selectors.duplicate_groups(review=review, primary_ids=list(page.object_list)),
        "counts": selectors.library_counts(review=review),
        "actions": selectors.dedup_actions(review=review)[:10],
        "undoable": selectors.latest_undoable_action(review=review),
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
        "review": review,
        "membership": membership,
        "counts": selectors.library_counts(review=review),
        "group_count": selectors.duplicate_group_primary_ids(review=review).count(),
        "undoable": selectors.latest_undoable_action(review=review),
        "possible": _possible_context(review, membership, notice=notice, error=error, focus=focus),
    }
    return render(request, "screening/_possible_response.html", context)


@review_view(Role.REVIEWER)
@require_POST
def possible_decide(
    request: HttpRequest, *, review: Review, membership: Membership, possible_pk: int
) -> HttpResponse:
    pair = get_object_or_404(PossibleDuplicate, pk=possible_pk, review=review)
    decision = request.POST.get("decision", "")
    try:
        if decision == "confirm":
            services_possible.possible_confirm(pair=pair, user=request.user)
            notice = f"Records {pair.record_a_id} and {pair.record_b_id} are duplicates."
        elif decision == "separate":
            services_possible.possible_separate(pair=pair, user=request.user)
            notice = f"Records {pair.record_a_id} and {pair.record_b_id} are not duplicates."
        else:
            raise DomainError("Choose duplicates or not duplicates.")
    except DomainError as exc:
        return _possible_response(request, review, membership, error=exc.message, focus=pair.pk)
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


def _merge_other(review: Review, raw: str) -> Record:
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
        other = _merge_other(review, request.POST.get("other", "")) if action == "merge" else None
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
        other = _merge_other(review, request.GET.get("other", "")) if action == "merge" else None
        plan = selectors.dedup_plan(review=review, record=record, action=action, other=other)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("duplicates", review_pk=review.pk)
    context = {"review": review, "membership": membership, "record": record, "other": other,
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


# --- screening -----------------------------------------------------------------------------


def _stage(stage: str) -> str:
    if stage not in Stage.values:
        raise Http404("No such stage.")
    return stage


def _can_screen(membership: Membership) -> bool:
    return membership.has_role(Role.REVIEWER)


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
        "review": review,
        "membership": membership,
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
        "review": review,
        "membership": membership,
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
        "review": review,
        "membership": membership,
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
    error: str = "",
    notice: str = "",
) -> dict[str, object]:
    settings = selectors.stage_settings(review=review, stage=stage)
    mine = (
        selectors.my_decision(record=record, stage=stage, reviewer=request.user) if record else None
    )
    item = selectors.screening_item(record=record, stage=stage) if record else None
    previous = selectors.previous_decision(
        review=review, stage=stage, reviewer=request.user, before=mine
    )
    following = (
        selectors.following_decision(review=review, stage=stage, reviewer=request.user, after=mine)
        if mine
        else None
    )
    votes = (
        selectors.visible_votes(record=record, stage=stage, user=request.user, settings=settings)
        if record
        else []
    )
    fulltext = getattr(record, "fulltext", None) if record and stage == Stage.FULL_TEXT else None
    has_pdf = bool(fulltext and fulltext.pdf)
    return {
        "review": review,
        "membership": membership,
        "stage": stage,
        "stage_label": Stage(stage).label,
        "settings": settings,
        "record": record,
        "mine": mine,
        "item": item,
        "others": [v for v in votes if v.reviewer_id != request.user.pk],
        "locked": bool(item and item.status == ScreeningItem.Status.RESOLVED),
        "vote_locked": bool(mine and selectors.vote_is_locked(decision=mine)),
        "previous": previous,
        "following": following,
        "queues": selectors.queue_counts(review=review, stage=stage, reviewer=request.user),
        "queue_labels": selectors.QUEUES,
        "fulltext": fulltext,
        # The lead's rule: no vote on a report whose PDF is not attached.
        "needs_pdf": bool(
            record and stage == Stage.FULL_TEXT and settings.votes_need_pdf and not has_pdf
        ),
        "error": error,
        "notice": notice,
        "reasons": list(enumerate(settings.exclusion_reasons, start=1)),
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
        record: Record | None = _stage_record(review, stage, int(wanted))
    else:
        record = next_record(review=review, stage=stage, reviewer=request.user)
    return _render_screen(request, _screen_context(request, review, membership, stage, record))


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
    upcoming = next_record(review=review, stage=stage, reviewer=request.user)
    context = _screen_context(request, review, membership, stage, upcoming, notice=notice)
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
        "review": review,
        "membership": membership,
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
        "review": review,
        "membership": membership,
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
    context = {
        "review": review,
        "membership": membership,
        "stage": stage,
        "item": selectors.conflict_item(review=review, stage=stage, pk=item_pk),
        "settings": selectors.stage_settings(review=review, stage=stage),
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
    decision = get_object_or_404(
        Decision.objects.select_related("reviewer", "record"),
        pk=decision_pk,
        review=review,
        stage=stage,
    )
    if not selectors.vote_is_locked(decision=decision):
        raise Http404("This vote is not locked.")
    settings = selectors.stage_settings(review=review, stage=stage)
    error, status = "", 200
    if request.method == "POST":
        try:
            services_screening.decision_amend(
                decision=decision,
                by=request.user,
                verdict=request.POST.get("verdict", ""),
                reason=request.POST.get("reason", ""),
                why=request.POST.get("why", ""),
            )
        except DomainError as exc:
            error, status = exc.message, 400
        else:
            messages.success(
                request,
                f"The vote of {decision.reviewer.get_username()} on record "
                f"{decision.record_id} was amended.",
            )
            return redirect("conflicts", review_pk=review.pk, stage=stage)
    context = {
        "review": review,
        "membership": membership,
        "stage": stage,
        "stage_label": Stage(stage).label,
        "decision": decision,
        "settings": settings,
        "error": error,
        "posted": request.POST,
    }
    return render(request, "screening/amend_vote.html", context, status=status)


@review_view()
def fulltext_list(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    """Reports sought for retrieval: attach PDFs, mark them not retrieved, link them to studies."""
    sought = selectors.fulltext_reports(review=review, show=request.GET.get("show", ""))
    page = Paginator(sought, 25).get_page(request.GET.get("page"))
    context = {
        "review": review,
        "membership": membership,
        "page": page,
        "show": request.GET.get("show", ""),
        "filters": selectors.FULLTEXT_FILTERS,
        "studies": Study.objects.filter(review=review).order_by("label"),
        "can_screen": _can_screen(membership),
    }
    return render(request, "screening/fulltext.html", context)


@review_view(Role.REVIEWER)
@require_POST
def fulltext_action(
    request: HttpRequest, *, review: Review, membership: Membership, record_pk: int
) -> HttpResponse:
    record = get_object_or_404(Record, pk=record_pk, review=review)
    action = request.POST.get("action", "")
    try:
        if action == "upload":
            upload = request.FILES.get("pdf")
            if upload is None:
                raise DomainError("Choose the PDF to attach.")
            services_screening.fulltext_attach(record=record, pdf=upload, user=request.user)
            messages.success(request, f"PDF attached to record {record.pk}.")
        elif action == "not_retrieved":
            services_screening.fulltext_mark_not_retrieved(
                record=record, reason=request.POST.get("reason", ""), user=request.user
            )
            messages.success(request, f"Record {record.pk} marked as not retrieved.")
        elif action == "clear":
            services_screening.fulltext_clear(record=record, user=request.user)
            messages.success(request, f"Record {record.pk}: full text cleared.")
        elif action == "link":
            study_pk = request.POST.get("study", "")
            study = (
                get_object_or_404(Study, pk=int(study_pk), review=review)
                if study_pk.isdigit()
                else None
            )
            linked = services_screening.study_link_report(
                record=record, study=study, new_label=request.POST.get("label", "")
            )
            messages.success(request, f"Record {record.pk} is a report of {linked.label}.")
        elif action == "unlink":
            services_screening.study_unlink_report(record=record)
            record.refresh_from_db()
            messages.success(
                request,
                f"Record {record.pk} is now a study of its own ({record.study.label})."
                if record.study
                else f"Record {record.pk} is no longer linked to a study.",
            )
        else:
            raise DomainError("Unknown action.")
    except DomainError as exc:
        messages.error(request, f"Record {record.pk}: {exc.message}")
    target = request.POST.get("next", "")
    if target.startswith(f"/reviews/{review.pk}/"):
        return redirect(target)
    return redirect("fulltext_list", review_pk=review.pk)


@review_view()
@xframe_options_sameorigin  # shown in a frame of the full-text screening page
@csp_replace({"frame-ancestors": ["'self'"]})  # type: ignore[arg-type]  # django-csp types views as taking the request only
def fulltext_pdf(
    request: HttpRequest, *, review: Review, membership: Membership, record_pk: int
) -> HttpResponseBase:
    report = get_object_or_404(FullTextReport, record_id=record_pk, review=review)
    if not report.pdf:
        raise Http404("No PDF attached.")
    return FileResponse(
        report.pdf.open("rb"),
        content_type="application/pdf",
        filename=(report.pdf.name or "fulltext.pdf").rsplit("/", 1)[-1],
    )


@review_view()
def prisma_page(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    counts = selectors.prisma_counts(review=review)
    pending = selectors.prisma_pending(
        counts, possible_duplicates=selectors_possible.open_possible_count(review=review)
    )
    context = {
        "review": review,
        "membership": membership,
        "counts": counts,
        "svg": render_svg(counts, title=review.title),
        "pending": pending,
        "problems": [] if pending.any else counts.reconcile(),
    }
    return render(request, "screening/prisma.html", context)


@review_view()
def prisma_svg(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    counts = selectors.prisma_counts(review=review)
    response = HttpResponse(render_svg(counts, title=review.title), content_type="image/svg+xml")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="prisma-review-{review.pk}.svg"'
    return response


@review_view()
def prisma_csv(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    counts = selectors.prisma_counts(review=review)
    response = HttpResponse(prisma_to_csv(counts), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="prisma-review-{review.pk}.csv"'
    return response


@review_view()
def agreement_csv(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    rows = [
        (Stage(p.stage).label, p.reviewer_a, p.reviewer_b, p.result)
        for p in selectors.agreement_by_pair(review=review)
    ]
    response = HttpResponse(agreement_table_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="agreement-review-{review.pk}.csv"'
    return response


@review_view()
def decisions_export(
    request: HttpRequest, *, review: Review, membership: Membership, stage: str
) -> HttpResponse:
    stage = _stage(stage)
    outcome = request.GET.get("outcome", "")
    if outcome not in selectors.EXPORT_FILTERS:
        outcome = ""
    rows = selectors.decisions_export(
        review=review, stage=stage, user=request.user, outcome=outcome
    )
    name = f"screening-{stage}-review-{review.pk}" + (f"-{outcome}" if outcome else "")
    if request.GET.get("format") == "ris":
        response = HttpResponse(
            exports.decisions_ris(rows, stage=stage),
            content_type="application/x-research-info-systems",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.ris"'
    else:
        response = HttpResponse(
            exports.decisions_csv(rows, stage=stage), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


# --- prioritised screening ------------------------------------------------------------------


def _ranking_context(review: Review, stage: str) -> dict[str, object]:
    status = selectors_ranking.ranking_status(review=review, stage=stage)
    return {
        "review": review,
        "stage": stage,
        "stage_label": Stage(stage).label,
        "ranking": status,
        "curve_figure": plots_ranking.inclusion_curve(status.curve).to_plotly_json(),
        "histogram_figure": plots_ranking.score_histogram(status.score_histogram).to_plotly_json()
        if status.score_histogram
        else None,
        "curve_id": f"curve-data-{stage}",
        "histogram_id": f"histogram-data-{stage}",
    }


@review_view(Role.LEAD)
def ranking_panel(
    request: HttpRequest, *, review: Review, membership: Membership, stage: str
) -> HttpResponse:
    """The lead's ranking and stopping card of one stage (polled by htmx)."""
    stage = _stage(stage)
    return render(request, "screening/_ranking.html", _ranking_context(review, stage))


@review_view(Role.LEAD)
@require_POST
def ranking_action(
    request: HttpRequest, *, review: Review, membership: Membership, stage: str
) -> HttpResponse:
    stage = _stage(stage)
    action = request.POST.get("action", "")
    try:
        if action == "retrain":
            services_ranking.ranking_retrain_now(review=review)
            messages.success(request, "Retraining queued; screening goes on meanwhile.")
            outbox_notice(request)
        elif action == "sample":
            services_ranking.stop_sample_start(
                review=review,
                stage=stage,
                user=request.user,
                recall_target=_fraction(request.POST.get("recall", "95"), "recall_target"),
                confidence=_fraction(request.POST.get("confidence", "95"), "confidence"),
            )
            messages.success(
                request, "Stopping sample drawn: reviewers are served its records first."
            )
        elif action == "close_sample":
            services_ranking.stop_sample_close(review=review, stage=stage)
            messages.success(request, "Stopping sample closed: back to the chosen order.")
        else:
            raise DomainError(f"Unknown action '{action}'.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(f"{reverse('screening_home', args=[review.pk])}#ranking-{stage}")


def _fraction(value: str, field: str) -> float:
    """A percentage from a form ('95' or '95.5') as a fraction."""
    try:
        number = float(value)
    except ValueError:
        raise DomainError(f"'{value}' is not a percentage.", field=field) from None
    return number / 100.0


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
        upcoming = next_record(review=review, stage=stage, reviewer=request.user)
        notice = f"Skipped record {record_pk}: it comes back at the end of your queue."
        if not request.htmx:  # type: ignore[attr-defined]  # django-htmx middleware sets it
            messages.success(request, notice)
            return redirect("screen", review_pk=review.pk, stage=stage)
        context = _screen_context(request, review, membership, stage, upcoming, notice=notice)
        return _render_screen(request, context)
    return HttpResponse(f"Unknown action '{action}'.", status=400)
