"""Pages: analyses, their live results and figures, the PI dashboard, summary of findings."""

from __future__ import annotations

import csv
import io
import logging
from functools import partial
from typing import Any

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from analysis import figures, plots, selectors, services
from analysis.forms import AnalysisForm, GradeForm
from analysis.models import Analysis, AnalysisResult, GradeRating, Preset
from analysis.rscript import inputs_csv, r_script
from extraction.models import Outcome
from reviewapp.celery import app as celery_app
from reviewapp.common.outbox import outbox_notice, outbox_waiting
from reviewapp.common.pages import call_and_redirect
from reviewapp.common.permissions import review_view
from reviewapp.errors import DomainError
from reviewapp.models import Membership, Review, Role

logger = logging.getLogger(__name__)


def _result_context(analysis: Analysis, sort: str | None = None) -> dict[str, Any]:
    result = analysis.current_result
    computed = result.computed if result else None
    overall = computed.overall if computed else None
    sort = sort if sort in plots.SORTS else analysis.sort_by
    return {
        "analysis": analysis,
        "waiting_for_worker": analysis.status == "updating" and outbox_waiting(),
        "result": result,
        "computed": computed,
        "figures": figures.figures_json(result=result, sort=sort, show_rob=analysis.show_rob)
        if result
        else {},
        "sort": sort,
        "sorts": plots.SORTS,
        "left_label": plots.favours_labels(computed)[0]
        if result and computed and result.payload
        else "",
        "method_label": plots.method_label(computed) if computed and overall else "",
        "het_text": plots.heterogeneity_text(overall, computed.model == "fixed")
        if computed and overall
        else "",
        "test_text": plots.overall_test_text(overall) if overall else "",
        "card": selectors.OutcomeCard(analysis.outcome, analysis, result),
    }


@review_view()
def analysis_list(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    context = {
        "review": review,
        "membership": membership,
        "analyses": selectors.analyses(review=review),
        "outcomes": Outcome.objects.filter(review=review),
        "form": AnalysisForm(review=review),
        "version": selectors.version(review=review),
    }
    return render(request, "analysis/analysis_list.html", context)


@review_view(Role.LEAD)
@require_POST
def analysis_create(
    request: HttpRequest, *, review: Review, membership: Membership
) -> HttpResponse:
    form = AnalysisForm(request.POST, review=review)
    if form.is_valid():
        try:
            analysis = services.analysis_create(
                review=review,
                outcome=form.cleaned_data["outcome"],
                created_by=request.user,
                **form.settings(),
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Analysis '{analysis.name}' created; computing now.")
            outbox_notice(request)
            return redirect("analysis_detail", review.pk, analysis.pk)
    context = {
        "review": review,
        "membership": membership,
        "analyses": selectors.analyses(review=review),
        "outcomes": Outcome.objects.filter(review=review),
        "form": form,
        "version": selectors.version(review=review),
    }
    return render(request, "analysis/analysis_list.html", context, status=400)


@review_view()
def analysis_detail(
    request: HttpRequest, *, review: Review, membership: Membership, analysis_pk: int
) -> HttpResponse:
    analysis = selectors.analysis_get(review=review, pk=analysis_pk)
    form = AnalysisForm(
        instance=analysis, review=review, editing=True, initial={"version": analysis.version}
    )
    context = {
        "review": review,
        "membership": membership,
        "form": form,
        "versions": selectors.results(analysis=analysis)[:20],
        "preset_note": services.PRESET_NOTES.get(analysis.preset, ""),
        "version": selectors.version(review=review),
        **_result_context(analysis, request.GET.get("sort")),
    }
    return render(request, "analysis/analysis_detail.html", context)


@review_view()
def analysis_result(
    request: HttpRequest, *, review: Review, membership: Membership, analysis_pk: int
) -> HttpResponse:
    """The live part of the analysis page (htmx)."""
    analysis = selectors.analysis_get(review=review, pk=analysis_pk)
    context = {"review": review, "membership": membership,
               **_result_context(analysis, request.GET.get("sort"))}  # fmt: skip
    return render(request, "analysis/_result.html", context)


@review_view(Role.LEAD)
@require_POST
def analysis_settings(
    request: HttpRequest, *, review: Review, membership: Membership, analysis_pk: int
) -> HttpResponse:
    analysis = selectors.analysis_get(review=review, pk=analysis_pk)
    form = AnalysisForm(request.POST, instance=analysis, review=review, editing=True)
    # ModelForm validation writes onto the instance; the service works on a fresh copy.
    if form.is_valid():
        try:
            services.analysis_update(
                analysis=selectors.analysis_get(review=review, pk=analysis_pk),
                version=form.cleaned_data.get("version"),
                **form.settings(),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Settings saved; the result is being recomputed.")
            outbox_notice(request)
    else:
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(map(str, errors))}")
    return redirect("analysis_detail", review.pk, analysis_pk)


@review_view(Role.LEAD)
@require_POST
def analysis_delete(
    request: HttpRequest, *, review: Review, membership: Membership, analysis_pk: int
) -> HttpResponse:
    analysis = selectors.analysis_get(review=review, pk=analysis_pk)
    services.analysis_delete(analysis=analysis)
    messages.success(request, f"Analysis '{analysis.name}' deleted.")
    return redirect("analysis_list", review.pk)


@review_view(Role.LEAD)
@require_POST
def analysis_retry(
    request: HttpRequest, *, review: Review, membership: Membership, analysis_pk: int
) -> HttpResponse:
    analysis = selectors.analysis_get(review=review, pk=analysis_pk)
    services.analysis_retry_now(analysis=analysis)
    messages.success(request, "Recomputing.")
    outbox_notice(request)
    return redirect("analysis_detail", review.pk, analysis_pk)


def _filename(analysis: Analysis, suffix: str) -> str:
    return f"{slugify(analysis.outcome.name)}-{slugify(analysis.name)}.{suffix}"


def _figure_not_drawn(eager: bool) -> HttpResponse:
    if eager:
        return HttpResponse(
            "Image export needs Chromium on the server and it failed here. Use the camera "
            "button on the plot to save a PNG from your browser.",
            status=503,
            content_type="text/plain",
        )
    response = HttpResponse(
        "The background worker is drawing this figure; try again in a few seconds.",
        status=202,
        content_type="text/plain",
    )
    response["Retry-After"] = "5"
    return response


def _figure_download(
    request: HttpRequest, analysis: Analysis, result: AnalysisResult, name: str, fmt: str
) -> HttpResponse | FileResponse:
    """Serve the file the worker drew; ask for it (and to come back) when it is not there."""
    sort = figures.figure_sort(analysis, request.GET.get("sort"))
    stored = partial(
        figures.figure_stored, analysis=analysis, result=result, name=name, fmt=fmt, sort=sort
    )
    path = stored()
    eager = celery_app.conf.task_always_eager
    if path is None and eager:
        # No worker (development without a broker): draw here, as the task would.
        try:
            figures.figures_render(analysis_id=analysis.pk, result_id=result.pk, sort=sort)
        except Exception:  # kaleido raises its own types when Chromium is missing
            logger.warning("figure export failed", exc_info=True)
        path = stored()
    elif path is None:
        figures.figures_request(analysis=analysis, result=result, sort=sort)
    if path is None:
        return _figure_not_drawn(eager)
    return FileResponse(
        default_storage.open(path, "rb"),
        as_attachment=True,
        filename=_filename(analysis, f"{name}.{fmt}"),
        content_type=figures.FORMATS[fmt],
    )


@review_view()
def analysis_download(
    request: HttpRequest, *, review: Review, membership: Membership, analysis_pk: int, kind: str
) -> HttpResponse | FileResponse:
    """csv (inputs), R (metafor script), json (result), or <figure>.<png|svg|pdf>."""
    analysis = selectors.analysis_get(review=review, pk=analysis_pk)
    result = analysis.current_result
    if result is None:
        raise Http404("No result yet.")
    title = f"{analysis.outcome.name}: {analysis.name}"
    if kind == "csv":
        body: bytes | str = inputs_csv(result.computed, result.inputs)
        content_type, filename = "text/csv", _filename(analysis, "csv")
    elif kind == "R":
        body = r_script(
            result.computed, result.inputs, title=title, revman=analysis.preset == Preset.REVMAN5
        )
        content_type, filename = "text/plain", _filename(analysis, "R")
    elif "." in kind and kind.split(".", 1)[0] in plots.FIGURES:
        name, fmt = kind.split(".", 1)
        if fmt not in figures.FORMATS or name not in figures.figure_names(result.computed):
            raise Http404("No such figure.")
        return _figure_download(request, analysis, result, name, fmt)
    else:
        raise Http404("No such download.")
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@review_view()
def version_poll(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    """Cheap: one aggregate. Unchanged: 204 (htmx keeps polling). Changed: a new poller and
    an `analysis-changed` event the page's live regions listen for."""
    current = selectors.version(review=review)
    if request.GET.get("v") == current:
        return HttpResponse(status=204)
    html = render_to_string("analysis/_poller.html", {"review": review, "version": current})
    response = HttpResponse(html)
    response["HX-Trigger"] = "analysis-changed"
    return response


def _dashboard_context(review: Review, membership: Membership) -> dict[str, Any]:
    data = selectors.dashboard(review=review, user=membership.user)
    for card in data["cards"]:
        result = card.result
        forest = (
            figures.figures_json(
                result=result, sort=card.analysis.sort_by, show_rob=False, names=["forest"]
            )
            if result and card.analysis
            else {}
        )
        card.forest_json = forest.get("forest", "")
    return {"review": review, "membership": membership, **data}


@review_view()
def dashboard(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    return render(request, "analysis/dashboard.html", _dashboard_context(review, membership))


@review_view()
def dashboard_body(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    return render(request, "analysis/_dashboard_body.html", _dashboard_context(review, membership))


@review_view()
def summary_of_findings(
    request: HttpRequest, *, review: Review, membership: Membership
) -> HttpResponse:
    rows = selectors.summary_of_findings(review=review)
    fmt = request.GET.get("format")
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(SOF_HEADER)
        writer.writerows(_sof_cells(rows))
        response = HttpResponse(out.getvalue(), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="summary-of-findings.csv"'
        return response
    if fmt == "docx":
        response = HttpResponse(
            _sof_docx(review, rows),
            content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )
        response["Content-Disposition"] = 'attachment; filename="summary-of-findings.docx"'
        return response
    context = {"review": review, "membership": membership, "rows": rows,
               "levels": GradeRating.Level.choices}  # fmt: skip
    if fmt == "html":
        html = render_to_string("analysis/_sof_table.html", context, request=request)
        response = HttpResponse(
            f"<!doctype html><meta charset='utf-8'><title>Summary of findings</title>{html}"
        )
        response["Content-Disposition"] = 'attachment; filename="summary-of-findings.html"'
        return response
    return render(request, "analysis/summary_of_findings.html", context)


SOF_HEADER = ["Outcome", "Effect", "Estimate", "95% CI lower", "95% CI upper", "Participants",
              "Studies", "I2", "Certainty (GRADE)", "Reasons"]  # fmt: skip


def _sof_cells(rows: list[selectors.FindingRow]) -> list[list[Any]]:
    cells = []
    for r in rows:
        res = r.card.result
        cells.append(
            [
                r.outcome.name,
                res.computed.measure_label if res else "",
                *(_natural(r.card, x) for x in ("estimate", "ci_lb", "ci_ub")),
                res.participants if res else "",
                res.k if res else "",
                "" if not res or res.i2 is None else round(res.i2),
                r.grade.certainty if r.grade else "Not rated",
                "; ".join(
                    f"{k.replace('_', ' ')}: {v}"
                    for k, v in (r.grade.reasons if r.grade else {}).items()
                ),
            ]
        )
    return cells


def _sof_docx(review: Review, rows: list[selectors.FindingRow]) -> bytes:
    """The summary of findings as a Word table, for the paper's supplement."""
    from docx import Document

    document = Document()
    document.add_heading(f"Summary of findings: {review.title}", level=1)
    table = document.add_table(rows=1, cols=len(SOF_HEADER))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, SOF_HEADER, strict=True):
        cell.text = text
    for values in _sof_cells(rows):
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = "" if value is None else str(value)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _natural(card: selectors.OutcomeCard, key: str) -> str:
    return card._natural(getattr(card.result, key, None) if card.result else None)


@review_view(Role.LEAD)
@require_POST
def grade_save(
    request: HttpRequest, *, review: Review, membership: Membership, outcome_pk: int
) -> HttpResponse:
    outcome = Outcome.objects.filter(review=review, pk=outcome_pk).first()
    if outcome is None:
        raise Http404("No such outcome.")
    form = GradeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a judgement for each domain.")
        return redirect("summary_of_findings", review.pk)
    data = form.cleaned_data
    return call_and_redirect(
        request,
        lambda: services.grade_save(
            outcome=outcome,
            updated_by=request.user,
            ratings={d: data[d] for d in GradeRating.DOMAINS},
            reasons={d: data[f"{d}_reason"] for d in GradeRating.DOMAINS},
            version=data.get("version"),
        ),
        to=reverse("summary_of_findings", args=[review.pk]),
        success=f"GRADE rating saved for {outcome.name}.",
        error_prefix=f"{outcome.name}: ",
    )
