"""Pages of extraction entry: one study's record on one form, its save and the derived values'
preview. The inputs are bound and their errors placed by extraction.entry_form."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from extraction import entry_form, plausibility, selectors, services
from extraction.models import Extraction, ExtractionForm, FormField
from extraction.validation import Errors
from extraction.views import _form, _study
from reviewapp.common.pages import refused_status
from reviewapp.common.permissions import review_view
from reviewapp.errors import DomainError
from reviewapp.models import Membership, Review, Role
from screening.models import Study


@review_view()
def extraction_entry(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, study_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    study = _study(review, study_pk)
    consensus_record = request.GET.get("record") == "consensus"
    if consensus_record:
        try:
            services.consensus_allowed(form=form, study=study, membership=membership)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("extraction_home", review_pk=review.pk)
    record = selectors.extraction_for(
        form=form, study=study, user=request.user, consensus_record=consensus_record
    )
    if not membership.has_role(Role.REVIEWER):
        # Viewers read the record that feeds analyses, labelled as what it is.
        consensus_record = form.is_dual
        record = record or selectors.extraction_for(
            form=form, study=study, user=None, consensus_record=consensus_record
        )
    context = entry_form.entry_context(
        review=review,
        membership=membership,
        form=form,
        study=study,
        record=record,
        consensus_record=consensus_record,
    )
    return render(request, "extraction/entry.html", context)


@review_view(Role.REVIEWER)
@require_POST
def derive_preview(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int
) -> HttpResponse:
    """The derived fields' values for the answers on the page, before saving (nothing stored)."""
    form = _form(review, form_pk)
    fields = selectors.form_fields(form=form)
    answers, _arms, _rows = entry_form.bind(request.POST, fields)
    cleaned = services.clean_answers(
        fields=fields, answers=answers, stored={}, complete=False, errors=Errors()
    )
    derived = services.compute_derived(fields, cleaned)
    return JsonResponse({k: v for k, v in derived.items()})


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))  # set by django-htmx's middleware


def _saved_fragment(
    request: HttpRequest,
    review: Review,
    form: ExtractionForm,
    study: Study,
    fields: list[FormField],
    record: Extraction,
    posted_rows: list[dict[str, Any]],
) -> HttpResponse:
    """The in-place save's answer: the new version, the record's line, the message announced to
    screen readers, the plausibility warnings beside their inputs and the derived values. The
    inputs stay as they are on the page (focus and scroll with them)."""
    rows = [selectors.outcome_row_dict(r) for r in record.outcome_data.all()]
    outcomes = {o.pk: o for o in selectors.outcomes(review=review)} if rows else {}
    warnings = plausibility.check(
        fields=fields, answers=record.answers, arms=record.arms, rows=rows, outcomes=outcomes
    )
    feedback = entry_form.save_feedback(
        fields=fields,
        answers=record.answers,
        post=request.POST,
        posted_rows=posted_rows,
        warnings=plausibility.by_key(warnings),
        stored_rows=rows,
    )
    context = {
        "form": form,
        "record": record,
        "feedback": feedback,
        "saved": _saved(record, study),
        "warning_count": feedback.warning_count,
    }
    return render(request, "extraction/_entry_saved.html", context)


def _refused_fragment(
    request: HttpRequest, form: ExtractionForm, fields: list[FormField], exc: DomainError
) -> HttpResponse:
    """A refused in-place save: the inputs keep what was typed; the errors go beside them with
    a summary, or (someone saved first, 409) both versions side by side with the stored
    version, so saving again replaces it."""
    answers, arms, rows = entry_form.bind(request.POST, fields)
    errors = getattr(exc, "errors", None) or {}
    context: dict[str, Any] = {
        "form": form,
        "failed": exc.message,
        "general_errors": [m for k in ("answers", "arms", "outcomes") for m in errors.get(k, [])],
        "feedback": entry_form.save_feedback(
            fields=fields,
            answers=entry_form.with_derived(fields, answers),
            post=request.POST,
            posted_rows=rows,
            errors=errors,
        ),
    }
    if isinstance(exc, services.ConflictError):
        context.update(conflict=exc, record=exc.current, failed="")
        context["conflict_items"] = entry_form.conflict_items(
            fields, exc.current, answers, arms, rows
        )
    return render(request, "extraction/_entry_saved.html", context, status=refused_status(exc))


def _saved(record: Extraction, study: Study) -> str:
    state = "complete" if record.status == Extraction.Status.COMPLETE else "saved as in progress"
    return f"{study.label}: {state} (version {record.version})."


def _refused_page(
    request: HttpRequest,
    review: Review,
    membership: Membership,
    form: ExtractionForm,
    study: Study,
    exc: services.ConflictError | services.ValidationFailed,
    consensus_record: bool,
) -> HttpResponse:
    """The entry page again after a refused save, every input as typed: beside the stored version
    when someone saved first (409), with each error under its input when invalid (400)."""
    fields = selectors.form_fields(form=form)
    answers, arms, rows = entry_form.bind(request.POST, fields)
    if isinstance(exc, services.ConflictError):
        stored = exc.current
    else:
        stored = selectors.extraction_for(
            form=form, study=study, user=request.user, consensus_record=consensus_record
        )
    context = entry_form.entry_context(
        review=review,
        membership=membership,
        form=form,
        study=study,
        record=stored,
        answers=entry_form.with_derived(fields, answers),
        arms=arms,
        rows=rows,
        errors=getattr(exc, "errors", None),
        consensus_record=consensus_record,
    )
    if isinstance(exc, services.ConflictError):
        context["conflict"] = exc
        context["conflict_items"] = entry_form.conflict_items(fields, stored, answers, arms, rows)
    else:
        context["failed"] = exc.message
    return render(request, "extraction/entry.html", context, status=refused_status(exc))


def _refused(
    request: HttpRequest,
    review: Review,
    membership: Membership,
    form: ExtractionForm,
    study: Study,
    fields: list[FormField],
    exc: DomainError,
    consensus_record: bool,
) -> HttpResponse:
    """In place (htmx), the refusal's fragments; without htmx, the page again with the input
    as typed, or, for any other refusal (a study not included, no consensus yet), the
    extraction home with the reason."""
    if _htmx(request):
        return _refused_fragment(request, form, fields, exc)
    if isinstance(exc, (services.ConflictError, services.ValidationFailed)):
        return _refused_page(request, review, membership, form, study, exc, consensus_record)
    messages.error(request, exc.message)
    return redirect("extraction_home", review_pk=review.pk)


@review_view(Role.REVIEWER)
@require_POST
def extraction_save(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, study_pk: int
) -> HttpResponse:
    """Save the page's record. With htmx (the page's script) the answer is the fragments the
    save changed and the page stays; without it, POST, redirect, GET as before."""
    form = _form(review, form_pk)
    form.review = review  # the service reads the form's review: it is this one, already loaded
    # The service refuses a study not included (a DomainError); no second check here.
    study = get_object_or_404(Study, pk=study_pk, review=review)
    consensus_record = request.POST.get("record") == "consensus"
    version = request.POST.get("version", "")
    fields = selectors.form_fields(form=form)
    try:
        if consensus_record:
            services.consensus_allowed(form=form, study=study, membership=membership)
        data = entry_form.extraction_input(request.POST, fields)
        record = services.extraction_save(
            form=form,
            study=study,
            user=request.user,
            data=data,
            expected_version=int(version) if version.isdigit() else -1,
            kind=Extraction.Kind.CONSENSUS if consensus_record else None,
            fields=fields,
        )
    except DomainError as exc:
        return _refused(request, review, membership, form, study, fields, exc, consensus_record)
    if _htmx(request):
        return _saved_fragment(request, review, form, study, fields, record, data.outcomes)
    messages.success(request, _saved(record, study))
    url = reverse("extraction_entry", args=[review.pk, form.pk, study.pk])
    return redirect(url + ("?record=consensus" if consensus_record else ""))
