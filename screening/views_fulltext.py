"""Pages of full text (the reports, their actions and PDFs), PRISMA and the screening exports."""

from csp.decorators import csp_replace
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from reviewapp.common.pages import call_and_redirect
from reviewapp.common.permissions import review_view
from reviewapp.errors import DomainError
from reviewapp.models import Membership, Review, Role
from screening import (
    exports,
    selectors,
    selectors_possible,
    services_screening,
)
from screening.agreement import agreement_table_csv
from screening.models import (
    FullTextReport,
    Record,
    Stage,
    Study,
)
from screening.prisma import render_svg
from screening.prisma import to_csv as prisma_to_csv
from screening.views import _can_screen, _stage


@review_view()
def fulltext_list(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    """Reports sought for retrieval: attach PDFs, mark them not retrieved, link them to studies."""
    sought = selectors.fulltext_reports(review=review, show=request.GET.get("show", ""))
    page = Paginator(sought, 25).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "show": request.GET.get("show", ""),
        "filters": selectors.FULLTEXT_FILTERS,
        "studies": Study.objects.filter(review=review).order_by("label"),
        "can_screen": _can_screen(membership),
    }
    return render(request, "screening/fulltext.html", context)


def _fulltext_run(request: HttpRequest, review: Review, record: Record) -> str:
    """Do the report action the POST names; the text of its success message."""
    action, user = request.POST.get("action", ""), request.user
    if action == "upload":
        upload = request.FILES.get("pdf")
        if upload is None:
            raise DomainError("Choose the PDF to attach.")
        services_screening.fulltext_attach(record=record, pdf=upload, user=user)
        return f"PDF attached to record {record.pk}."
    if action == "not_retrieved":
        reason = request.POST.get("reason", "")
        services_screening.fulltext_mark_not_retrieved(record=record, reason=reason, user=user)
        return f"Record {record.pk} marked as not retrieved."
    if action == "clear":
        services_screening.fulltext_clear(record=record, user=user)
        return f"Record {record.pk}: full text cleared."
    if action == "link":
        study_pk = request.POST.get("study", "")
        study = (
            get_object_or_404(Study, pk=int(study_pk), review=review)
            if study_pk.isdigit()
            else None
        )
        linked = services_screening.study_link_report(
            record=record, study=study, new_label=request.POST.get("label", "")
        )
        return f"Record {record.pk} is a report of {linked.label}."
    if action == "unlink":
        services_screening.study_unlink_report(record=record)
        record.refresh_from_db()
        if record.study:
            return f"Record {record.pk} is now a study of its own ({record.study.label})."
        return f"Record {record.pk} is no longer linked to a study."
    raise DomainError("Unknown action.")


@review_view(Role.REVIEWER)
@require_POST
def fulltext_action(
    request: HttpRequest, *, review: Review, membership: Membership, record_pk: int
) -> HttpResponse:
    record = get_object_or_404(Record, pk=record_pk, review=review)
    target = request.POST.get("next", "")
    if not target.startswith(f"/reviews/{review.pk}/"):
        target = reverse("fulltext_list", args=[review.pk])
    return call_and_redirect(
        request,
        lambda: _fulltext_run(request, review, record),
        to=target,
        success=lambda text: text,
        error_prefix=f"Record {record.pk}: ",
    )


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
