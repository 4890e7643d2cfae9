"""Pages of extraction: the form builder, outcomes, entry per study, comparison and consensus,
history and exports. Thin: parse the request, call one service or selector, render."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from extraction import entry_form, exports, selectors, services, services_builder
from extraction.builder_pages import Done, Refused, builder_call, builder_page, editor, refuse
from extraction.forms import (
    FieldEditForm,
    FieldForm,
    FormCreateForm,
    FormImportForm,
    OutcomeForm,
    SectionForm,
)
from extraction.models import (
    ExtractionForm,
    FormField,
    FormSection,
    Outcome,
)
from reviewapp.common.pages import call_and_redirect
from reviewapp.common.permissions import review_view
from reviewapp.errors import DomainError
from reviewapp.models import Membership, Review, Role
from screening.models import Study


def _form(review: Review, form_pk: int) -> ExtractionForm:
    return get_object_or_404(ExtractionForm, pk=form_pk, review=review)


def _study(review: Review, study_pk: int) -> Study:
    study = get_object_or_404(Study, pk=study_pk, review=review)
    if not selectors.included_studies_qs(review=review).filter(pk=study.pk).exists():
        raise Http404("This study is not included for extraction.")
    return study


# --- home, builder -------------------------------------------------------------------------


@review_view()
def extraction_home(
    request: HttpRequest, *, review: Review, membership: Membership
) -> HttpResponse:
    forms = list(selectors.forms(review=review))
    overview = [(f, selectors.extraction_overview(form=f, user=request.user)) for f in forms]
    context = {
        "overview": overview,
        "outcomes": selectors.outcomes(review=review),
        "studies": selectors.included_studies_qs(review=review).count(),
        "create_form": FormCreateForm(),
        "import_form": FormImportForm(),
    }
    return render(request, "extraction/home.html", context)


NAME_AND_MODE = "Give the form a name and choose single or dual extraction."


def _builder_url(form: ExtractionForm) -> str:
    return reverse("extraction_form_builder", args=[form.review_id, form.pk])


@review_view(Role.LEAD)
@require_POST
def form_create(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    def create() -> ExtractionForm:
        data = FormCreateForm(request.POST)
        if not data.is_valid():
            raise DomainError(NAME_AND_MODE)
        return services.form_create(review=review, user=request.user, **data.cleaned_data)

    return call_and_redirect(
        request,
        create,
        to=_builder_url,
        success=lambda form: f"Form '{form.name}' created: add its sections and fields.",
        error_to=reverse("extraction_home", args=[review.pk]),
    )


def _imported(request: HttpRequest, review: Review) -> ExtractionForm:
    data = FormImportForm(request.POST, request.FILES)
    if not data.is_valid():
        raise DomainError("Choose a JSON file exported from a form.")
    upload = data.cleaned_data["file"]
    if upload.size > 2_000_000:
        raise DomainError("The file is larger than 2 MB; a form export is much smaller.")
    try:
        payload = json.loads(upload.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DomainError(f"{upload.name} is not valid JSON: {exc}.") from exc
    return services.form_import(
        review=review, data=payload, user=request.user, name=data.cleaned_data["name"] or None
    )


@review_view(Role.LEAD)
@require_POST
def form_import(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    return call_and_redirect(
        request,
        lambda: _imported(request, review),
        to=_builder_url,
        success=lambda form: f"Form '{form.name}' imported.",
        error_to=reverse("extraction_home", args=[review.pk]),
        error_prefix="Nothing was imported. ",
    )


@review_view()
def form_builder(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int
) -> HttpResponse:
    return builder_page(request, _form(review, form_pk))


@review_view(Role.LEAD)
@require_POST
def form_settings(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)

    def save() -> None:
        data = FormCreateForm(request.POST)
        if not data.is_valid():
            raise DomainError(NAME_AND_MODE)
        services.form_update(form=form, user=request.user, **data.cleaned_data)

    return call_and_redirect(request, save, to=_builder_url(form), success="Form settings saved.")


@review_view(Role.LEAD)
@require_POST
def form_move(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    return call_and_redirect(
        request,
        lambda: services.form_move(form=form, direction=request.POST.get("direction", "")),
        to=reverse("extraction_home", args=[review.pk]),
    )


def _section_title(request: HttpRequest) -> dict[str, Any]:
    data = SectionForm(request.POST)
    if not data.is_valid():
        raise DomainError("Give the section a title.")
    return dict(data.cleaned_data)


def _section_added(request: HttpRequest, form: ExtractionForm) -> Done:
    section = services.section_add(form=form, user=request.user, **_section_title(request))
    return Done(f"Section '{section.title}' added.", anchor=f"section-{section.pk}")


@review_view(Role.LEAD)
@require_POST
def section_add(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    return builder_call(request, form, lambda: _section_added(request, form))


def section_step(request: HttpRequest, section: FormSection, action: str) -> Done:
    """One action on a section (move up or down, remove, rename); raises DomainError."""
    anchor = f"section-{section.pk}"
    if action in ("up", "down"):
        services.section_move(section=section, direction=action, user=request.user)
        return Done(anchor=anchor)
    if action == "remove":
        answered = services_builder.section_remove(section=section, user=request.user)
        kept = (
            f"the answers to its {answered} answered field{'s' if answered != 1 else ''} are kept"
            if answered
            else "nothing had been answered in it"
        )
        return Done(f"Section '{section.title}' removed; {kept}.", undo_section=section)
    if action == "update":
        services.section_update(section=section, user=request.user, **_section_title(request))
        return Done("Section saved.", anchor=anchor)
    raise DomainError("Unknown action.")


@review_view(Role.LEAD)
@require_POST
def section_action(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, section_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    section = get_object_or_404(FormSection, pk=section_pk, form=form)
    action = request.POST.get("action", "")
    return builder_call(request, form, lambda: section_step(request, section, action))


@review_view(Role.LEAD)
@require_POST
def field_add(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, section_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    section = get_object_or_404(FormSection, pk=section_pk, form=form)
    data = FieldForm(request.POST, auto_id=f"id_s{section.pk}_%s")

    def add() -> Done:
        if not data.is_valid():
            raise DomainError("Give the field a label and a type.")
        made = services.field_add(
            section=section, data=services_builder.field_input(data.cleaned_data), user=request.user
        )
        notice = f"Field '{made.label}' added (form version {form.version + 1})."
        return Done(notice, anchor=f"field-{made.pk}", adding=True)

    return builder_call(
        request,
        form,
        add,
        section_pk=section.pk,
        refused=lambda exc: Refused(refuse(data, exc), section_pk=section.pk),
    )


def _field_step(request: HttpRequest, target: FormField, action: str) -> Done:
    """One action on a field (move up or down, remove, undo a removal); raises DomainError."""
    if action in ("up", "down"):
        services.field_move(field=target, direction=action, user=request.user)
        return Done()
    if action == "remove":
        services.field_remove(field=target, user=request.user)
        return Done(f"'{target.label}' removed from the form; its answers are kept.", undo=target)
    if action == "restore":
        services.field_restore(field=target, user=request.user)
        return Done(f"'{target.label}' is back on the form.")
    raise DomainError("Unknown action.")


def _position(request: HttpRequest) -> int | None:
    raw = request.POST.get("position", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise DomainError("The place in the section is not a number.", field="position")
    return int(raw)


def _field_to_section(request: HttpRequest, form: ExtractionForm, target: FormField) -> Done:
    """Moves the field to the section named in the POST (at `position`, else last)."""
    raw = request.POST.get("section", "")
    if not raw.isdigit():
        raise DomainError("Choose the section to move the field to.", field="section")
    section = get_object_or_404(FormSection, pk=int(raw), form=form)
    moved = services_builder.field_move_to_section(
        field=target, section=section, position=_position(request), user=request.user
    )
    notice = (
        f"'{target.label}' moved from '{moved.from_section.title}' to "
        f"'{moved.to_section.title}' (place {moved.to_position}); its answers stay with it."
    )
    return Done(notice, anchor=f"field-{target.pk}", undo_move=moved)


@review_view(Role.LEAD)
@require_POST
def field_action(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, field_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    target = get_object_or_404(FormField, pk=field_pk, form=form)
    action = request.POST.get("action", "")
    if action == "update":
        return _field_update(request, form, target)
    if action == "section":
        # Two sections change: the answer is the whole list of sections.
        return builder_call(request, form, lambda: _field_to_section(request, form, target))
    return builder_call(
        request,
        form,
        lambda: _field_step(request, target, action),
        section_pk=target.section_id,
        anchor=f"field-{target.pk}",
    )


@review_view(Role.LEAD)
def field_edit(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, field_pk: int
) -> HttpResponse:
    """Edit opened: the field's editor, rendered only now (the rows come without it)."""
    form = _form(review, form_pk)
    target = get_object_or_404(FormField, pk=field_pk, form=form)
    if request.method != "GET":  # looked up first: another review's ids answer 404
        return HttpResponseNotAllowed(["GET"])
    return editor(request, form, target)


def _field_update(request: HttpRequest, form: ExtractionForm, target: FormField) -> HttpResponse:
    data = FieldEditForm(
        {**request.POST.dict(), "field_type": target.field_type}, auto_id=f"id_f{target.pk}_%s"
    )

    def update() -> Done:
        if not data.is_valid():
            raise DomainError("Give the field a label.")
        services.field_update(
            field=target, data=services_builder.field_input(data.cleaned_data), user=request.user
        )
        return Done(f"'{data.cleaned_data['label']}' saved.", anchor=f"field-{target.pk}")

    return builder_call(
        request,
        form,
        update,
        section_pk=target.section_id,
        refused=lambda exc: Refused(refuse(data, exc), field_pk=target.pk),
    )


@review_view()
def form_export(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    body = json.dumps(selectors.form_schema(form=form), indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = (
        f'attachment; filename="{exports.slug(form.name)}-v{form.version}.json"'
    )
    return response


@review_view()
def form_preview(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    context = entry_form.entry_context(
        review=review, membership=membership, form=form, study=None, record=None
    )
    context["preview"] = True
    return render(request, "extraction/entry.html", context)


# --- outcomes ------------------------------------------------------------------------------


@review_view()
def outcomes_page(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    rows = [
        (
            o,
            OutcomeForm(
                initial={k: getattr(o, k) for k in OutcomeForm.base_fields}, prefix=f"o{o.pk}"
            ),
        )
        for o in selectors.outcomes(review=review)
    ]
    context = {"rows": rows, "form": OutcomeForm()}
    return render(request, "extraction/outcomes.html", context)


@review_view(Role.LEAD)
@require_POST
def outcome_save(
    request: HttpRequest, *, review: Review, membership: Membership, outcome_pk: int = 0
) -> HttpResponse:
    outcome = get_object_or_404(Outcome, pk=outcome_pk, review=review) if outcome_pk else None
    action = request.POST.get("action", "save")
    try:
        if outcome is not None and action in ("up", "down"):
            services.outcome_move(outcome=outcome, direction=action)
        elif outcome is not None and action == "delete":
            services.outcome_delete(outcome=outcome)
            messages.success(request, f"Outcome '{outcome.name}' deleted.")
        else:
            data = OutcomeForm(request.POST, prefix=f"o{outcome.pk}" if outcome else None)
            if not data.is_valid():
                raise DomainError(
                    "Give the outcome a name, a type, a direction and a timepoint rule."
                )
            saved = services.outcome_save(review=review, outcome=outcome, **data.cleaned_data)
            messages.success(request, f"Outcome '{saved.name}' saved.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("extraction_outcomes", review_pk=review.pk)


# --- history and exports -------------------------------------------------------------------


@review_view()
def extraction_history(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, study_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    study = _study(review, study_pk)
    visible = selectors.visible_extractions(review=review, user=request.user, membership=membership)
    records = list(visible.filter(form=form, study=study))
    context = {
        "form": form,
        "study": study,
        "entries": selectors.extraction_history(records=records),
    }
    return render(request, "extraction/history.html", context)


@review_view()
def export_csv(
    request: HttpRequest, *, review: Review, membership: Membership, kind: str
) -> HttpResponse:
    if kind == "wide":
        body = exports.wide_csv(review=review)
    elif kind == "long":
        body = exports.long_csv(review=review)
    else:
        raise Http404("No such export.")
    return exports.csv_response(body, f"{exports.slug(review.title)}-extraction-{kind}.csv")


@review_view()
def export_metafor(
    request: HttpRequest, *, review: Review, membership: Membership, outcome_pk: int
) -> HttpResponse:
    outcome = get_object_or_404(Outcome, pk=outcome_pk, review=review)
    body = exports.metafor_csv(outcome=outcome)
    return exports.csv_response(body, f"{exports.slug(outcome.name)}-metafor.csv")
