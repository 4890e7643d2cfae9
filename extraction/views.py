"""Pages of extraction: the form builder, outcomes, entry per study, comparison and consensus,
history and exports. Thin: parse the request, call one service or selector, render."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from extraction import entry_form, exports, selectors, services, services_builder
from extraction.forms import (
    FieldEditForm,
    FieldForm,
    FormCreateForm,
    FormImportForm,
    OutcomeForm,
    SectionForm,
    field_initial,
)
from extraction.models import (
    ExtractionForm,
    FieldType,
    FormField,
    FormSection,
    Outcome,
)
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


@review_view(Role.LEAD)
@require_POST
def form_create(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    data = FormCreateForm(request.POST)
    if data.is_valid():
        try:
            form = services.form_create(review=review, user=request.user, **data.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Form '{form.name}' created: add its sections and fields.")
            return redirect("extraction_form_builder", review_pk=review.pk, form_pk=form.pk)
    else:
        messages.error(request, "Give the form a name and choose single or dual extraction.")
    return redirect("extraction_home", review_pk=review.pk)


@review_view(Role.LEAD)
@require_POST
def form_import(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    data = FormImportForm(request.POST, request.FILES)
    if not data.is_valid():
        messages.error(request, "Choose a JSON file exported from a form.")
        return redirect("extraction_home", review_pk=review.pk)
    upload = data.cleaned_data["file"]
    try:
        if upload.size > 2_000_000:
            raise DomainError("The file is larger than 2 MB; a form export is much smaller.")
        try:
            payload = json.loads(upload.read().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DomainError(f"{upload.name} is not valid JSON: {exc}.") from exc
        form = services.form_import(
            review=review, data=payload, user=request.user, name=data.cleaned_data["name"] or None
        )
    except DomainError as exc:
        messages.error(request, f"Nothing was imported. {exc.message}")
        return redirect("extraction_home", review_pk=review.pk)
    messages.success(request, f"Form '{form.name}' imported.")
    return redirect("extraction_form_builder", review_pk=review.pk, form_pk=form.pk)


@dataclass
class FieldRow:
    field: FormField
    edit_form: FieldEditForm
    first: bool = False
    last: bool = False
    editing: bool = False


@dataclass
class SectionBox:
    """One section of the builder page, as its fragment renders it."""

    section: FormSection
    rows: list[FieldRow]
    add_form: FieldForm
    first: bool = False
    last: bool = False
    adding: bool = False
    notice: str = ""
    error: bool = False
    undo: FormField | None = None


@dataclass
class Refused:
    """A refused add or edit: the bound form (every value typed, the error on its input) and
    where it belongs on the page."""

    form: FieldForm
    section_pk: int | None = None
    field_pk: int | None = None


def _edit_form(f: FormField) -> FieldEditForm:
    return FieldEditForm(initial=field_initial(f), auto_id=f"id_f{f.pk}_%s")


def _add_form(section: FormSection) -> FieldForm:
    return FieldForm(auto_id=f"id_s{section.pk}_%s")


def _refuse(data: FieldForm, exc: DomainError) -> FieldForm:
    """Puts a service's refusal beside the input it is about (or above the form)."""
    data.add_error(exc.field if exc.field in data.fields else None, exc.message)
    return data


def _section_boxes(
    form: ExtractionForm, refused: Refused | None = None
) -> tuple[list[SectionBox], list[FormField]]:
    layout, removed = selectors.form_layout(form=form)
    boxes = []
    for i, sv in enumerate(layout):
        rows = [
            FieldRow(f, _edit_form(f), first=j == 0, last=j == len(sv.fields) - 1)
            for j, f in enumerate(sv.fields)
        ]
        box = SectionBox(sv.section, rows, _add_form(sv.section), i == 0, i == len(layout) - 1)
        if refused and refused.section_pk == sv.section.pk:
            box.add_form, box.adding = refused.form, True
        for row in rows:
            if refused and refused.field_pk == row.field.pk:
                row.edit_form, row.editing = cast(FieldEditForm, refused.form), True
        boxes.append(box)
    return boxes, removed


def _builder_page(
    request: HttpRequest,
    review: Review,
    membership: Membership,
    form: ExtractionForm,
    refused: Refused | None = None,
) -> HttpResponse:
    sections, removed = _section_boxes(form, refused)
    context = {
        "form": form,
        "sections": sections,
        "removed": removed,
        "section_form": SectionForm(),
        "settings_form": FormCreateForm(
            initial={
                "name": form.name,
                "mode": form.mode,
                "collects_outcomes": form.collects_outcomes,
                "description": form.description,
            }
        ),
        "versions": form.versions.select_related("created_by")[:20],
        "has_data": form.extractions.exists(),
        "field_types": FieldType.choices,
        "templates": services_builder.template_choices(),
        "copy_sources": selectors.copy_sources(user=request.user),
    }
    status = 422 if refused else 200
    return render(request, "extraction/builder.html", context, status=status)


@review_view()
def form_builder(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int
) -> HttpResponse:
    return _builder_page(request, review, membership, _form(review, form_pk))


def _back_to_builder(form: ExtractionForm, anchor: str = "") -> HttpResponse:
    response = redirect("extraction_form_builder", review_pk=form.review_id, form_pk=form.pk)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


@review_view(Role.LEAD)
@require_POST
def form_settings(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    data = FormCreateForm(request.POST)
    if data.is_valid():
        try:
            services.form_update(form=form, user=request.user, **data.cleaned_data)
            messages.success(request, "Form settings saved.")
        except DomainError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "Give the form a name and choose single or dual extraction.")
    return _back_to_builder(form)


@review_view(Role.LEAD)
@require_POST
def form_move(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    try:
        services.form_move(form=form, direction=request.POST.get("direction", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("extraction_home", review_pk=review.pk)


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))  # django-htmx middleware sets it


def _fragment_context(
    review: Review, membership: Membership, form: ExtractionForm, **extra: Any
) -> dict[str, Any]:
    form.refresh_from_db()
    return {"form": form, **extra}


def _done(
    request: HttpRequest,
    review: Review,
    membership: Membership,
    form: ExtractionForm,
    *,
    section_pk: int | None,
    notice: str = "",
    error: bool = False,
    undo: FormField | None = None,
    anchor: str = "",
    refused: Refused | None = None,
    adding: bool = False,
) -> HttpResponse:
    """The answer to a builder action. From htmx: only the section it changed (or the list of
    sections), with the notice inside it. Otherwise: the whole page, as before."""
    if not _is_htmx(request):
        if refused:
            return _builder_page(request, review, membership, form, refused)
        if notice:
            (messages.error if error else messages.success)(request, notice)
        return _back_to_builder(form, anchor)
    boxes, _removed = _section_boxes(form, refused)
    box = next((b for b in boxes if b.section.pk == section_pk), None)
    if box is None:
        context = _fragment_context(
            review, membership, form, sections=boxes, sections_notice=notice, error=error
        )
        return render(request, "extraction/_sections.html", context)
    box.notice, box.error, box.undo = notice, error, undo
    box.adding = box.adding or adding
    return render(
        request, "extraction/_section.html", _fragment_context(review, membership, form, box=box)
    )


@review_view(Role.LEAD)
@require_POST
def section_add(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    data = SectionForm(request.POST)
    try:
        if not data.is_valid():
            raise DomainError("Give the section a title.")
        section = services.section_add(form=form, user=request.user, **data.cleaned_data)
    except DomainError as exc:
        return _done(
            request, review, membership, form, section_pk=None, notice=exc.message, error=True
        )
    return _done(
        request,
        review,
        membership,
        form,
        section_pk=None,
        notice=f"Section '{section.title}' added.",
        anchor=f"section-{section.pk}",
    )


@review_view(Role.LEAD)
@require_POST
def section_action(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, section_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    section = get_object_or_404(FormSection, pk=section_pk, form=form)
    action = request.POST.get("action", "")
    notice = ""
    try:
        if action in ("up", "down"):
            services.section_move(section=section, direction=action, user=request.user)
        elif action == "remove":
            services.section_remove(section=section, user=request.user)
            notice = f"Section '{section.title}' removed; answers to its fields are kept."
        elif action == "update":
            data = SectionForm(request.POST)
            if not data.is_valid():
                raise DomainError("Give the section a title.")
            services.section_update(section=section, user=request.user, **data.cleaned_data)
            notice = "Section saved."
        else:
            raise DomainError("Unknown action.")
    except DomainError as exc:
        return _done(
            request, review, membership, form, section_pk=None, notice=exc.message, error=True
        )
    return _done(
        request,
        review,
        membership,
        form,
        section_pk=None,
        notice=notice,
        anchor=f"section-{section.pk}",
    )


def _field_input(data: Mapping[str, Any]) -> services.FieldInput:
    return services.FieldInput(
        label=data["label"],
        field_type=data["field_type"],
        key=data.get("key", ""),
        help_text=data.get("help_text", ""),
        required=data.get("required", False),
        min_value=data.get("min_value"),
        max_value=data.get("max_value"),
        unit=data.get("unit", ""),
        choices=data.get("choices", ""),
        columns=data.get("columns", ""),
        rule=data.get("rule", ""),
    )


@review_view(Role.LEAD)
@require_POST
def field_add(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, section_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    section = get_object_or_404(FormSection, pk=section_pk, form=form)
    data = FieldForm(request.POST, auto_id=f"id_s{section.pk}_%s")
    try:
        if not data.is_valid():
            raise DomainError("Give the field a label and a type.")
        created = services.field_add(
            section=section, data=_field_input(data.cleaned_data), user=request.user
        )
    except DomainError as exc:
        refused = Refused(_refuse(data, exc), section_pk=section.pk)
        return _done(request, review, membership, form, section_pk=section.pk, refused=refused)
    return _done(
        request,
        review,
        membership,
        form,
        section_pk=section.pk,
        notice=f"Field '{created.label}' added (form version {form.version + 1}).",
        anchor=f"field-{created.pk}",
        adding=True,
    )


@review_view(Role.LEAD)
@require_POST
def field_action(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, field_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    target = get_object_or_404(FormField, pk=field_pk, form=form)
    action = request.POST.get("action", "")
    if action == "update":
        return _field_update(request, review, membership, form, target)
    notice, undo, anchor = "", None, f"field-{target.pk}"
    try:
        if action in ("up", "down"):
            services.field_move(field=target, direction=action, user=request.user)
        elif action == "remove":
            services.field_remove(field=target, user=request.user)
            notice = f"'{target.label}' removed from the form; its answers are kept."
            undo = target
        elif action == "restore":
            services.field_restore(field=target, user=request.user)
            notice = f"'{target.label}' is back on the form."
        else:
            raise DomainError("Unknown action.")
    except DomainError as exc:
        return _done(
            request,
            review,
            membership,
            form,
            section_pk=target.section_id,
            notice=exc.message,
            error=True,
            anchor=anchor,
        )
    return _done(
        request,
        review,
        membership,
        form,
        section_pk=target.section_id,
        notice=notice,
        undo=undo,
        anchor=anchor,
    )


def _field_update(
    request: HttpRequest,
    review: Review,
    membership: Membership,
    form: ExtractionForm,
    target: FormField,
) -> HttpResponse:
    data = FieldEditForm(
        {**request.POST.dict(), "field_type": target.field_type}, auto_id=f"id_f{target.pk}_%s"
    )
    try:
        if not data.is_valid():
            raise DomainError("Give the field a label.")
        services.field_update(field=target, data=_field_input(data.cleaned_data), user=request.user)
    except DomainError as exc:
        refused = Refused(_refuse(data, exc), field_pk=target.pk)
        return _done(
            request, review, membership, form, section_pk=target.section_id, refused=refused
        )
    return _done(
        request,
        review,
        membership,
        form,
        section_pk=target.section_id,
        notice=f"'{data.cleaned_data['label']}' saved.",
        anchor=f"field-{target.pk}",
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
