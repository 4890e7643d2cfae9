"""The form builder's one answer shape. Every builder action is "POST, call a service, tell the
lead what happened": from htmx the answer is only the fragment the action changed (one section,
or the list of sections) with the notice and its Undo inside it; without script it is a message
and a redirect back to the builder, so the page also works without JavaScript. A refused add or
edit answers with the bound form, every value typed and the error beside its input.

`builder_call` is the htmx sibling of `reviewapp.common.pages.call_and_redirect`: the views say
what they call and what to tell, this module says how it is answered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from extraction import selectors, services_builder
from extraction.forms import FieldEditForm, FieldForm, FormCreateForm, SectionForm, field_initial
from extraction.models import ExtractionForm, FieldType, FormField, FormSection
from reviewapp.errors import DomainError


@dataclass
class FieldRow:
    """One field's row. Its edit form is rendered only when it is open (a refused edit, or the
    page without script that opened it): the editor otherwise arrives when Edit is opened."""

    field: FormField
    edit_form: FieldEditForm | None = None
    first: bool = False
    last: bool = False


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
    where it belongs on the page. Unbound, it is an editor opened without script."""

    form: FieldForm
    section_pk: int | None = None
    field_pk: int | None = None


@dataclass(frozen=True)
class Done:
    """What an action tells the lead. `anchor` is where a reload without script scrolls to; at
    most one undo: a removed field, a removed section, or a field moved to another section."""

    notice: str = ""
    anchor: str = ""
    error: bool = False
    undo: FormField | None = None
    undo_section: FormSection | None = None
    undo_move: services_builder.FieldMoved | None = None
    adding: bool = False


def refuse(data: FieldForm, exc: DomainError) -> FieldForm:
    """Puts a service's refusal beside the input it is about (or above the form)."""
    data.add_error(exc.field if exc.field in data.fields else None, exc.message)
    return data


def section_boxes(
    form: ExtractionForm, refused: Refused | None = None
) -> tuple[list[SectionBox], list[FormField]]:
    """The active sections as the page renders them, and the removed fields apart."""
    layout, removed = selectors.form_layout(form=form)
    boxes = []
    for i, sv in enumerate(layout):
        rows = [
            FieldRow(f, first=j == 0, last=j == len(sv.fields) - 1) for j, f in enumerate(sv.fields)
        ]
        add_form = FieldForm(auto_id=f"id_s{sv.section.pk}_%s")
        box = SectionBox(sv.section, rows, add_form, i == 0, i == len(layout) - 1)
        if refused and refused.section_pk == sv.section.pk:
            box.add_form, box.adding = refused.form, True
        for row in rows:
            if refused and refused.field_pk == row.field.pk:
                row.edit_form = cast(FieldEditForm, refused.form)
        boxes.append(box)
    return boxes, removed


def edit_form(field: FormField) -> FieldEditForm:
    """The field's editor with what is saved; ids unique on the page."""
    return FieldEditForm(initial=field_initial(field), auto_id=f"id_f{field.pk}_%s")


def editor(request: HttpRequest, form: ExtractionForm, field: FormField) -> HttpResponse:
    """Edit opened: from htmx only the editor, to put in the row; without script the builder
    page with that row's editor open."""
    if not is_htmx(request):
        return builder_page(request, form, Refused(edit_form(field), field_pk=field.pk))
    context = {"form": form, "f": field, "edit_form": edit_form(field)}
    return render(request, "extraction/_field_edit.html", context)


def _choices(boxes: list[SectionBox]) -> list[tuple[int, str]]:
    """The sections a field can be moved to, for each row's "Move to section" control."""
    return [(b.section.pk, b.section.title) for b in boxes]


def builder_page(
    request: HttpRequest, form: ExtractionForm, refused: Refused | None = None
) -> HttpResponse:
    boxes, removed = section_boxes(form, refused)
    settings = {k: getattr(form, k) for k in ("name", "mode", "collects_outcomes", "description")}
    context = {
        "form": form,
        "sections": boxes,
        "section_choices": _choices(boxes),
        "removed": removed,
        "section_form": SectionForm(),
        "settings_form": FormCreateForm(initial=settings),
        "versions": form.versions.select_related("created_by")[:20],
        "has_data": form.extractions.exists(),
        "field_types": FieldType.choices,
        "templates": services_builder.template_choices(),
        "copy_sources": selectors.copy_sources(user=request.user),
    }
    status = 422 if refused and refused.form.is_bound else 200  # unbound: an editor opened
    return render(request, "extraction/builder.html", context, status=status)


def back_to_builder(form: ExtractionForm, anchor: str = "") -> HttpResponse:
    response = redirect("extraction_form_builder", review_pk=form.review_id, form_pk=form.pk)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))  # django-htmx middleware sets it


def answer(
    request: HttpRequest,
    form: ExtractionForm,
    done: Done,
    *,
    section_pk: int | None = None,
    refused: Refused | None = None,
) -> HttpResponse:
    """From htmx: the section `section_pk` (or, when None, the list of sections) with the notice
    inside it. Otherwise: a message and the builder page, as before."""
    if not is_htmx(request):
        if refused:
            return builder_page(request, form, refused)
        if done.notice:
            (messages.error if done.error else messages.success)(request, done.notice)
        return back_to_builder(form, done.anchor)
    form.refresh_from_db()
    boxes, _removed = section_boxes(form, refused)
    context: dict[str, Any] = {"form": form, "section_choices": _choices(boxes)}
    box = next((b for b in boxes if b.section.pk == section_pk), None)
    if box is None:
        context.update(sections=boxes, sections_notice=done.notice, done=done, error=done.error)
        return render(request, "extraction/_sections.html", context)
    box.notice, box.error, box.undo = done.notice, done.error, done.undo
    box.adding = box.adding or done.adding
    return render(request, "extraction/_section.html", {**context, "box": box})


def builder_call(
    request: HttpRequest,
    form: ExtractionForm,
    call: Callable[[], Done],
    *,
    section_pk: int | None = None,
    anchor: str = "",
    refused: Callable[[DomainError], Refused] | None = None,
) -> HttpResponse:
    """Runs `call` (one service call that says what to tell) and answers with `answer`. On a
    DomainError: the bound form with the error when `refused` makes one (an add or an edit),
    else the error as the notice. Nothing else is caught: a bug stays a 500."""
    try:
        done = call()
    except DomainError as exc:
        if refused is not None:
            return answer(request, form, Done(), section_pk=section_pk, refused=refused(exc))
        done = Done(exc.message, anchor=anchor, error=True)
    if anchor and not done.anchor:
        done = replace(done, anchor=anchor)
    return answer(request, form, done, section_pk=section_pk)
