"""Pages of the reference library: imports, records, duplicates."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from reviewapp.common.pagination import DeferredJoinPaginator
from reviewapp.common.permissions import review_view
from reviewapp.errors import DomainError
from reviewapp.models import Membership, Review, Role
from screening import selectors, services
from screening.forms import ImportForm
from screening.models import DedupAction, ImportBatch, Record

LIBRARY_PAGE_SIZE = 50
GROUPS_PAGE_SIZE = 20


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
    template = "screening/_library_results.html" if request.htmx else "screening/library.html"  # type: ignore[attr-defined]
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
    batches = ImportBatch.objects.filter(review=review).select_related("created_by")
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
            )
        except DomainError as exc:
            form.add_error("file" if exc.field == "file" else None, exc.message)
        else:
            return redirect("import_detail", review_pk=review.pk, batch_pk=batch.pk)
    batches = ImportBatch.objects.filter(review=review).select_related("created_by")
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
    }
    template = "screening/_import_status.html" if request.htmx else "screening/import_detail.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@review_view()
def duplicates(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    primary_ids = selectors.duplicate_group_primary_ids(review=review)
    page = Paginator(primary_ids, GROUPS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "review": review,
        "membership": membership,
        "page": page,
        "groups": selectors.duplicate_groups(review=review, primary_ids=list(page.object_list)),
        "counts": selectors.library_counts(review=review),
        "actions": selectors.dedup_actions(review=review)[:10],
        "undoable": selectors.latest_undoable_action(review=review),
    }
    return render(request, "screening/duplicates.html", context)


def _back(request: HttpRequest, review: Review) -> HttpResponse:
    target = request.POST.get("next", "")
    if target.startswith(f"/reviews/{review.pk}/"):
        return redirect(target)
    return redirect("duplicates", review_pk=review.pk)


@review_view(Role.REVIEWER)
@require_POST
def duplicate_action(
    request: HttpRequest, *, review: Review, membership: Membership, record_pk: int
) -> HttpResponse:
    record = get_object_or_404(Record, pk=record_pk, review=review)
    action = request.POST.get("action", "")
    try:
        if action == "split":
            services.dedup_split(record=record, user=request.user)
            messages.success(request, f"Record {record.pk} is no longer marked as a duplicate.")
        elif action == "primary":
            services.dedup_make_primary(record=record, user=request.user)
            messages.success(request, f"Record {record.pk} is now the record kept.")
        elif action == "merge":
            other_pk = request.POST.get("other", "").strip()
            if not other_pk.isdigit():
                raise DomainError("Give the number of the record this one duplicates.")
            other = Record.objects.filter(pk=int(other_pk), review=review).first()
            if other is None:
                raise DomainError(f"There is no record {other_pk} in this review.")
            services.dedup_merge(record=record, other=other, user=request.user)
            messages.success(request, f"Record {record.pk} merged with record {other.pk}.")
        else:
            raise DomainError("Unknown action.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return _back(request, review)


@review_view(Role.REVIEWER)
@require_POST
def duplicate_undo(
    request: HttpRequest, *, review: Review, membership: Membership, action_pk: int
) -> HttpResponse:
    action = get_object_or_404(DedupAction, pk=action_pk, review=review)
    try:
        services.dedup_undo(action=action, user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Undone: {action.get_kind_display().lower()}.")
    return _back(request, review)
