"""Pages of extraction entry: one study's record on one form, its save and the derived values'
preview. The inputs are bound and their errors placed by extraction.entry_form."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from extraction import entry_form, selectors, services
from extraction.models import Extraction, ExtractionForm
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


def _refused(
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


@review_view(Role.REVIEWER)
@require_POST
def extraction_save(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, study_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    study = _study(review, study_pk)
    consensus_record = request.POST.get("record") == "consensus"
    version = request.POST.get("version", "")
    try:
        if consensus_record:
            services.consensus_allowed(form=form, study=study, membership=membership)
        record = services.extraction_save(
            form=form,
            study=study,
            user=request.user,
            data=entry_form.extraction_input(request.POST, selectors.form_fields(form=form)),
            expected_version=int(version) if version.isdigit() else -1,
            kind=Extraction.Kind.CONSENSUS if consensus_record else None,
        )
    except (services.ConflictError, services.ValidationFailed) as exc:
        return _refused(request, review, membership, form, study, exc, consensus_record)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("extraction_home", review_pk=review.pk)
    state = "complete" if record.status == Extraction.Status.COMPLETE else "saved as in progress"
    messages.success(request, f"{study.label}: {state} (version {record.version}).")
    url = reverse("extraction_entry", args=[review.pk, form.pk, study.pk])
    return redirect(url + ("?record=consensus" if consensus_record else ""))
