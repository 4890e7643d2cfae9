"""Pages of the reference library: records and imports. The other screening pages live in
views_duplicates, views_screening, views_fulltext and views_ranking; the helpers at the end are
shared by them."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from reviewapp.common.outbox import outbox_notice, outbox_waiting
from reviewapp.common.pages import call_and_redirect
from reviewapp.common.pagination import DeferredJoinPaginator
from reviewapp.common.permissions import review_view
from reviewapp.errors import DomainError
from reviewapp.models import Membership, Review, Role
from screening import (
    selectors,
    selectors_imports,
    selectors_possible,
    services,
    services_imports,
)
from screening.forms import ImportDeleteForm, ImportForm
from screening.models import (
    ImportBatch,
    Record,
    Stage,
)

LIBRARY_PAGE_SIZE = 50


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
        "record": record,
        "group": group[0] if group and group[0].duplicates else None,
    }
    return render(request, "screening/record_detail.html", context)


def _imports_page(
    request: HttpRequest, review: Review, form: ImportForm, status: int = 200
) -> HttpResponse:
    context = {"form": form, "batches": selectors_imports.imports_of_review(review=review)}
    return render(request, "screening/imports.html", context, status=status)


@review_view()
def imports(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    return _imports_page(request, review, ImportForm())


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
    return _imports_page(request, review, form, status=400)


@review_view()
def import_detail(
    request: HttpRequest, *, review: Review, membership: Membership, batch_pk: int
) -> HttpResponse:
    batch = get_object_or_404(ImportBatch, pk=batch_pk, review=review)
    context = {
        "batch": batch,
        "progress": services.import_progress_get(batch.pk) or {"percent": 0, "stage": "queued"},
        **_deletion_context(batch),
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


def _deletion_context(batch: ImportBatch) -> dict[str, object]:
    """What `_import_deletion.html` shows of the import's deletion (and of the import itself,
    while it waits for a worker)."""
    return {
        "waiting_for_worker": (
            batch.status == ImportBatch.Status.QUEUED
            or batch.deletion_status == ImportBatch.DeletionStatus.QUEUED
        )
        and outbox_waiting(),
        "deletion_progress": services_imports.import_delete_progress_get(batch.pk),
        "records_left": selectors_imports.import_records_kept(batch=batch),
    }


@review_view(Role.LEAD)
def import_delete(
    request: HttpRequest, *, review: Review, membership: Membership, batch_pk: int
) -> HttpResponse:
    """GET: what deleting the import would remove and lose, or, while its deletion is queued
    or running, that deletion's progress; POST: queue its deletion (a worker runs it; the
    import's page shows its progress)."""
    batch = get_object_or_404(ImportBatch, pk=batch_pk, review=review)
    if request.method == "POST":
        form = ImportDeleteForm(request.POST)
        keep = form.is_valid() and form.cleaned_data["keep_screened"]
        return call_and_redirect(
            request,
            lambda: services_imports.import_delete_request(
                batch=batch, user=request.user, keep_screened=keep
            ),
            to=reverse("import_detail", args=[review.pk, batch.pk]),
            error_to=reverse("import_delete", args=[review.pk, batch.pk]),
            success=f"Deleting the records of {batch.file_name} in the background.",
            on_success=lambda _: outbox_notice(request),
        )
    if batch.is_being_deleted:
        context = {"batch": batch, **_deletion_context(batch)}
    else:
        context = {
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


def _stage(stage: str) -> str:
    if stage not in Stage.values:
        raise Http404("No such stage.")
    return stage


def _can_screen(membership: Membership) -> bool:
    return membership.has_role(Role.REVIEWER)
