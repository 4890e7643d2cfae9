"""Pages of extraction: the form builder, outcomes, entry per study, comparison and consensus,
history and exports. Thin: parse the request, call one service or selector, render."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from extraction import exports, plausibility, selectors, services, services_builder
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
    Extraction,
    ExtractionForm,
    FieldType,
    FormField,
    FormSection,
    Outcome,
)
from extraction.validation import (
    ARM_ROLES,
    CONVERSIONS,
    SINGLE_ROW_TYPES,
    YES_NO_UNCLEAR,
    Errors,
    is_blank,
)
from reviewapp.common.permissions import review_view
from reviewapp.errors import DomainError
from reviewapp.models import Membership, Review, Role
from screening.models import Study

CONVERSION_INPUT_LABELS = {
    "se_mean": "SE of mean",
    "ci_mean_lower": "CI lower",
    "ci_mean_upper": "CI upper",
    "md": "Mean difference",
    "t": "t",
    "p": "p",
    "n_other": "n other arm",
    "median": "Median",
    "q1": "Q1",
    "q3": "Q3",
    "minimum": "Min",
    "maximum": "Max",
}
MEASURES_BY_TYPE: dict[str, tuple[str, ...]] = {
    Outcome.Type.CONTINUOUS: ("mean", "sd", "n"),
    Outcome.Type.DICHOTOMOUS: ("events", "total"),
    Outcome.Type.GENERIC: ("estimate", "ci_lower", "ci_upper", "se", "n"),
    Outcome.Type.PROPORTION: ("events", "total"),
    Outcome.Type.CORRELATION: ("r", "n"),
    Outcome.Type.RATE: ("events", "person_time"),
    Outcome.Type.SINGLE_RATE: ("events", "person_time"),
    Outcome.Type.PAIRED: ("mean_pre", "sd_pre", "mean", "sd", "n", "r"),
}
MEASURE_LABELS = {
    "mean": "Mean",
    "sd": "SD",
    "n": "n",
    "events": "Events",
    "total": "Total",
    "estimate": "Estimate",
    "ci_lower": "CI lower",
    "ci_upper": "CI upper",
    "se": "SE",
    "r": "r",
    "person_time": "Person-time",
    "mean_pre": "Baseline mean",
    "sd_pre": "Baseline SD",
    "timepoint_weeks": "Weeks",
    "conversion": "Converted:",
}


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
        "review": review,
        "membership": membership,
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
        "review": review,
        "membership": membership,
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
    return {"review": review, "membership": membership, "form": form, **extra}


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
    context = _entry_context(
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
    context = {"review": review, "membership": membership, "rows": rows, "form": OutcomeForm()}
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


# --- entry ---------------------------------------------------------------------------------


@dataclass
class EntryField:
    field: FormField
    value: Any
    errors: list[str]
    warnings: list[str] = dc_field(default_factory=list)
    table_rows: list[tuple[int, list[tuple[dict[str, Any], Any, list[str]]]]] = dc_field(
        default_factory=list
    )
    next_row: int = 0

    @property
    def values(self) -> list[str]:
        if isinstance(self.value, list):
            return [str(v) for v in self.value]
        return [] if is_blank(self.value) else [str(self.value)]


@dataclass
class RowView:
    index: int
    data: dict[str, Any]
    errors: dict[str, str]
    conversion: str = ""
    inputs: dict[str, Any] = dc_field(default_factory=dict)
    warnings: dict[str, str] = dc_field(default_factory=dict)

    @property
    def messages(self) -> list[str]:
        return list(self.errors.values())


@dataclass
class OutcomeBlock:
    outcome: Outcome
    measures: list[tuple[str, str]]
    rows: list[RowView]

    @property
    def columns(self) -> int:
        """Timepoint, weeks, arm, the measures, (conversion,) notes."""
        conversion = self.outcome.outcome_type == Outcome.Type.CONTINUOUS
        return 4 + len(self.measures) + int(conversion)


def _display_number(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else value


def _entry_fields(
    fields: Sequence[FormField],
    answers: Mapping[str, Any],
    errors: Mapping[str, list[str]],
    warnings: Mapping[str, list[str]],
) -> list[EntryField]:
    out = []
    for f in fields:
        value = answers.get(f.key)
        # A table's cell warnings are listed under the whole table, where a sentence fits.
        own = [
            m
            for k, msgs in warnings.items()
            if k == f.key or k.startswith(f"{f.key}.")
            for m in msgs
        ]
        entry = EntryField(f, value, list(errors.get(f.key, [])), own)
        if f.field_type == FieldType.TABLE:
            rows = value if isinstance(value, list) else []
            rows = [r for r in rows if isinstance(r, dict)] + [{}]  # always one empty row to fill
            entry.table_rows = [
                (
                    i,
                    [
                        (
                            column,
                            _display_number(row.get(column["key"])),
                            errors.get(f"{f.key}.{i}.{column['key']}", []),
                        )
                        for column in f.columns
                    ],
                )
                for i, row in enumerate(rows)
            ]
            entry.next_row = len(rows)
        out.append(entry)
    return out


def _outcome_blocks(
    outcomes: Sequence[Outcome],
    rows: Sequence[Mapping[str, Any]],
    arms: Sequence[Mapping[str, Any]],
    errors: Mapping[str, list[str]],
    warnings: Mapping[str, list[str]],
) -> tuple[list[OutcomeBlock], int]:
    blocks = {
        o.pk: OutcomeBlock(
            o, [(m, MEASURE_LABELS[m]) for m in MEASURES_BY_TYPE[o.outcome_type]], []
        )
        for o in outcomes
    }
    index = 0
    for i, row in enumerate(rows):
        try:
            block = blocks[int(row.get("outcome"))]  # type: ignore[arg-type]  # None raises TypeError, caught
        except (KeyError, TypeError, ValueError):
            continue
        conversion = row.get("conversion") or ""
        inputs: dict[str, Any] = {}
        if isinstance(conversion, dict):
            inputs = conversion.get("inputs") or {}
            conversion = conversion.get("method") or ""
        row_errors = {
            key.split(".", 2)[2]: " ".join(msgs)
            for key, msgs in errors.items()
            if key.startswith(f"outcomes.{i}.")
        }
        row_warnings = {
            key.split(".", 2)[2]: " ".join(msgs)
            for key, msgs in warnings.items()
            if key.startswith(f"outcomes.{i}.")
        }
        data = {k: _display_number(v) for k, v in row.items() if k != "conversion"}
        block.rows.append(RowView(i, data, row_errors, str(conversion), inputs, row_warnings))
        index = max(index, i + 1)
    # Blank rows to start from: one per arm and outcome not entered yet.
    arm_labels = [a.get("label", "") for a in arms if a.get("label")] or [""]
    for block in blocks.values():
        if block.rows:
            continue
        single = block.outcome.outcome_type in SINGLE_ROW_TYPES
        labels = [""] if single else arm_labels
        for label in labels:
            block.rows.append(RowView(index, {"arm": label}, {}))
            index += 1
    return list(blocks.values()), index


def _arm_rows(
    arms: Any, errors: Mapping[str, list[str]]
) -> list[tuple[int, Mapping[str, Any], dict[str, str]]]:
    """The arms to show, renumbered: the blank row the page always offers is not an arm, so a
    refused save does not come back with one more blank row each time."""
    out: list[tuple[int, Mapping[str, Any], dict[str, str]]] = []
    for i, arm in enumerate(arms or []):
        if not isinstance(arm, Mapping):
            continue
        errs = {
            k.split(".")[2]: " ".join(v) for k, v in errors.items() if k.startswith(f"arms.{i}.")
        }
        if not errs and all(is_blank(v) for k, v in arm.items() if k != "role"):
            continue
        out.append((len(out), arm, errs))
    return out


def _with_derived(fields: Sequence[FormField], answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers as typed plus the derived values they give, for a page shown again after a
    refused save (the derived fields are not inputs, so the request does not carry them)."""
    cleaned = services.clean_answers(
        fields=fields, answers=answers, stored={}, complete=False, errors=Errors()
    )
    derived = services.compute_derived(fields, cleaned)
    return {**answers, **{k: v for k, v in derived.items() if v is not None}}


def _entry_context(
    *,
    review: Review,
    membership: Membership,
    form: ExtractionForm,
    study: Study | None,
    record: Extraction | None,
    answers: Mapping[str, Any] | None = None,
    arms: Any = None,
    rows: Any = None,
    errors: Mapping[str, list[str]] | None = None,
    consensus_record: bool = False,
) -> dict[str, Any]:
    sections, removed = selectors.form_layout(form=form)
    errors = errors or {}
    warnings: dict[str, list[str]] = {}
    if answers is None:
        answers = record.answers if record else {}
        arms = record.arms if record else []
        rows = [selectors.outcome_row_dict(r) for r in record.outcome_data.all()] if record else []
        if record is not None:
            warnings = plausibility.by_key(selectors.extraction_warnings(extraction=record))
    arm_rows = _arm_rows(arms, errors)
    arms = [a for _i, a, _e in arm_rows]
    arm_rows.append((len(arm_rows), {}, {}))
    outcomes = list(selectors.outcomes(review=review)) if form.collects_outcomes else []
    blocks, next_row = _outcome_blocks(outcomes, rows or [], arms, errors, warnings)
    return {
        "review": review,
        "membership": membership,
        "form": form,
        "study": study,
        "record": record,
        "consensus_record": consensus_record,
        "sections": [
            (s.section, _entry_fields(s.fields, answers, errors, warnings)) for s in sections
        ],
        "warning_count": sum(len(v) for v in warnings.values()),
        "removed": [(f, answers.get(f.key)) for f in removed if not is_blank(answers.get(f.key))],
        "arm_rows": arm_rows,
        "arm_labels": [a.get("label") for a in arms if a.get("label")],
        "blocks": blocks,
        "next_row": next_row,
        "conversions": CONVERSIONS,
        "conversion_inputs": CONVERSION_INPUT_LABELS,
        "general_errors": [
            m
            for k, msgs in errors.items()
            if k in ("answers", "arms", "outcomes", "version")
            for m in msgs
        ],
        "error_count": sum(len(v) for v in errors.values()),
        "can_edit": membership.has_role(Role.REVIEWER),
        "disabled": study is None or not membership.has_role(Role.REVIEWER),
        "yes_no_choices": YES_NO_UNCLEAR,
        "arm_roles": ARM_ROLES,
        "blank_row": RowView("IDX", {}, {}),  # type: ignore[arg-type]  # placeholder for page JS
    }


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
    context = _entry_context(
        review=review,
        membership=membership,
        form=form,
        study=study,
        record=record,
        consensus_record=consensus_record,
    )
    return render(request, "extraction/entry.html", context)


def parse_entry(
    post: QueryDict, fields: Sequence[FormField]
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """Answers, arms and outcome rows from the entry page's inputs."""
    answers: dict[str, Any] = {}
    for f in fields:
        if f.removed_in_version is not None or f.field_type == FieldType.DERIVED:
            continue
        if f.field_type == FieldType.TABLE:
            rows: dict[int, dict[str, Any]] = {}
            prefix = f"t__{f.key}__"
            for name, value in post.items():
                if name.startswith(prefix):
                    index, _, column = name[len(prefix) :].partition("__")
                    if index.isdigit():
                        cell = post.getlist(name) if len(post.getlist(name)) > 1 else value
                        rows.setdefault(int(index), {})[column] = cell
            answers[f.key] = [rows[i] for i in sorted(rows)]
        elif f.field_type == FieldType.MULTIPLE_CHOICE:
            answers[f.key] = post.getlist(f"a__{f.key}")
        else:
            answers[f.key] = post.get(f"a__{f.key}", "")
    arms: dict[int, dict[str, Any]] = {}
    outcome_rows: dict[int, dict[str, Any]] = {}
    for name, value in post.items():
        parts = name.split("__")
        if parts[0] == "arm" and len(parts) == 3 and parts[1].isdigit():
            arms.setdefault(int(parts[1]), {})[parts[2]] = value
        elif parts[0] == "o" and len(parts) >= 3 and parts[1].isdigit():
            row = outcome_rows.setdefault(int(parts[1]), {})
            if parts[2] == "cv" and len(parts) == 4:
                if str(value).strip():
                    row.setdefault("conversion_inputs", {})[parts[3]] = value
            else:
                row[parts[2]] = value
    for row in outcome_rows.values():
        if row.get("conversion"):
            row["conversion"] = {
                "method": row["conversion"],
                "inputs": row.pop("conversion_inputs", {}),
            }
        else:
            row.pop("conversion", None)
            row.pop("conversion_inputs", None)
    return answers, [arms[i] for i in sorted(arms)], [outcome_rows[i] for i in sorted(outcome_rows)]


@review_view(Role.REVIEWER)
@require_POST
def derive_preview(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int
) -> HttpResponse:
    """The derived fields' values for the answers on the page, before saving (nothing stored)."""
    from django.http import JsonResponse

    form = _form(review, form_pk)
    fields = selectors.form_fields(form=form)
    answers, _arms, _rows = parse_entry(request.POST, fields)
    cleaned = services.clean_answers(
        fields=fields, answers=answers, stored={}, complete=False, errors=Errors()
    )
    derived = services.compute_derived(fields, cleaned)
    return JsonResponse({k: v for k, v in derived.items()})


@dataclass
class ConflictItem:
    label: str
    saved: Any
    yours: Any


def _conflict_items(
    fields: Sequence[FormField],
    current: Extraction | None,
    answers: Mapping[str, Any],
    arms: Any,
    rows: Any,
) -> list[ConflictItem]:
    from extraction.consensus import agree

    if current is None:
        return []
    items = []
    for f in fields:
        if f.field_type == FieldType.DERIVED or f.removed_in_version is not None:
            continue
        saved, yours = current.answers.get(f.key), answers.get(f.key)
        if f.field_type == FieldType.TABLE and isinstance(yours, list):
            yours = [r for r in yours if any(not is_blank(v) for v in r.values())]
        if not agree(saved, yours):
            items.append(
                ConflictItem(f.label, exports.display(f, saved), exports.display(f, yours))
            )
    saved_arms = ", ".join(f"{a['label']} ({a['role']})" for a in current.arms)
    your_arms = ", ".join(
        f"{a.get('label')} ({a.get('role')})" for a in arms or [] if a.get("label")
    )
    if saved_arms != your_arms:
        items.append(ConflictItem("Arms", saved_arms, your_arms))
    saved_rows = len(current.outcome_data.all())
    your_rows = len([r for r in rows or [] if any(not is_blank(r.get(m)) for m in MEASURE_LABELS)])
    items.append(ConflictItem("Outcome data rows", saved_rows, your_rows))
    return items


@review_view(Role.REVIEWER)
@require_POST
def extraction_save(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, study_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    study = _study(review, study_pk)
    consensus_record = request.POST.get("record") == "consensus"
    fields = selectors.form_fields(form=form)
    answers, arms, rows = parse_entry(request.POST, fields)
    version = request.POST.get("version", "")
    data = services.ExtractionInput(
        answers=answers,
        arms=arms,
        outcomes=rows,
        notes=request.POST.get("notes", ""),
        complete=request.POST.get("complete") == "on",
    )
    try:
        if consensus_record:
            services.consensus_allowed(form=form, study=study, membership=membership)
        record = services.extraction_save(
            form=form,
            study=study,
            user=request.user,
            data=data,
            expected_version=int(version) if version.isdigit() else -1,
            kind=Extraction.Kind.CONSENSUS if consensus_record else None,
        )
    except services.ConflictError as exc:
        context = _entry_context(
            review=review,
            membership=membership,
            form=form,
            study=study,
            record=exc.current,
            answers=_with_derived(fields, answers),
            arms=arms,
            rows=rows,
            consensus_record=consensus_record,
        )
        context["conflict"] = exc
        context["conflict_items"] = _conflict_items(fields, exc.current, answers, arms, rows)
        return render(request, "extraction/entry.html", context, status=409)
    except services.ValidationFailed as exc:
        stored = selectors.extraction_for(
            form=form, study=study, user=request.user, consensus_record=consensus_record
        )
        context = _entry_context(
            review=review,
            membership=membership,
            form=form,
            study=study,
            record=stored,
            answers=_with_derived(fields, answers),
            arms=arms,
            rows=rows,
            errors=exc.errors,
            consensus_record=consensus_record,
        )
        context["failed"] = exc.message
        return render(request, "extraction/entry.html", context, status=400)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("extraction_home", review_pk=review.pk)
    state = "complete" if record.status == Extraction.Status.COMPLETE else "saved as in progress"
    messages.success(request, f"{study.label}: {state} (version {record.version}).")
    url = redirect("extraction_entry", review_pk=review.pk, form_pk=form.pk, study_pk=study.pk)
    if consensus_record:
        url["Location"] += "?record=consensus"
    return url


# --- comparison and consensus --------------------------------------------------------------


@dataclass
class CompareItem:
    key: str
    label: str
    section: str
    first: str
    second: str
    agree: bool
    consensus: str
    editable: bool
    removed: bool


def _compare_context(
    review: Review, membership: Membership, form: ExtractionForm, study: Study
) -> dict[str, Any]:
    comparison = selectors.extraction_comparison(form=form, study=study)
    items = [
        CompareItem(
            key=i.field.key,
            label=i.field.label,
            section=i.field.section.title,
            first=exports.display(i.field, i.first),
            second=exports.display(i.field, i.second),
            agree=i.agree,
            consensus=exports.display(i.field, i.consensus),
            editable=i.field.field_type
            not in (FieldType.TABLE, FieldType.DERIVED, FieldType.MULTIPLE_CHOICE),
            removed=i.field.removed_in_version is not None,
        )
        for i in comparison.items
    ]
    arms_first = ", ".join(
        f"{a['label']} ({a['role']})" for a in (comparison.first.arms if comparison.first else [])
    )
    arms_second = ", ".join(
        f"{a['label']} ({a['role']})" for a in (comparison.second.arms if comparison.second else [])
    )
    checked = [
        (who, record, selectors.extraction_warnings(extraction=record, fields=comparison.fields))
        for who, record in (
            ("A", comparison.first),
            ("B", comparison.second),
            ("Consensus", comparison.consensus),
        )
        if record is not None
    ]
    return {
        "review": review,
        "membership": membership,
        "form": form,
        "study": study,
        "comparison": comparison,
        "plausibility": [(who, record, found) for who, record, found in checked if found],
        "items": items,
        "derived": {f.key for f in comparison.fields if f.field_type == FieldType.DERIVED},
        "arms_first": arms_first,
        "arms_second": arms_second,
        "measures": [
            (m, MEASURE_LABELS.get(m, m.replace("_", " "))) for m in selectors.ROW_MEASURES
        ],
    }


@review_view(Role.REVIEWER)
def extraction_compare(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, study_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    study = _study(review, study_pk)
    try:
        services.consensus_allowed(form=form, study=study, membership=membership)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("extraction_home", review_pk=review.pk)
    return render(
        request, "extraction/compare.html", _compare_context(review, membership, form, study)
    )


@review_view(Role.REVIEWER)
@require_POST
def consensus_save(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, study_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    study = _study(review, study_pk)
    post = {k: str(v) for k, v in request.POST.items()}
    choices = {k[len("choice__") :]: v for k, v in post.items() if k.startswith("choice__")}
    edits = {
        k[len("edit__") :]: v.strip()
        for k, v in post.items()
        if k.startswith("edit__") and v.strip()
    }
    version = request.POST.get("version", "")
    try:
        record = services.consensus_build(
            form=form,
            study=study,
            user=request.user,
            membership=membership,
            choices=choices,
            edits=edits,
            expected_version=int(version) if version.isdigit() else -1,
        )
    except services.ValidationFailed as exc:
        context = _compare_context(review, membership, form, study)
        context["errors"] = exc.errors
        context["failed"] = exc.message
        return render(request, "extraction/compare.html", context, status=400)
    except services.ConflictError as exc:
        messages.error(request, exc.message)
        return redirect(
            "extraction_compare", review_pk=review.pk, form_pk=form.pk, study_pk=study.pk
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(
            "extraction_compare", review_pk=review.pk, form_pk=form.pk, study_pk=study.pk
        )
    messages.success(
        request,
        f"{study.label}: consensus saved (version {record.version}); it now feeds the analyses.",
    )
    return redirect("extraction_compare", review_pk=review.pk, form_pk=form.pk, study_pk=study.pk)


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
        "review": review,
        "membership": membership,
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
