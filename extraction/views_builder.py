"""The form builder's block actions as pages: reorder (drag, keyboard), duplicate, remove a
section with undo, template blocks, and copy from another review. Each answers through
`builder_pages.builder_call`: htmx gets the fragment it changed (a section, or the list of
sections), anything else a redirect to the builder, so the page also works without script."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_POST

from extraction import selectors, services_builder
from extraction.builder_pages import Done, builder_call
from extraction.models import ExtractionForm, FormField, FormSection
from extraction.views import _form, section_step
from reviewapp.common.pages import call_and_redirect
from reviewapp.common.permissions import review_view
from reviewapp.errors import DomainError
from reviewapp.models import Membership, Review, Role


def _order(request: HttpRequest) -> list[int]:
    raw = request.POST.get("order", "")
    try:
        return [int(pk) for pk in raw.split(",") if pk.strip()]
    except ValueError as exc:
        raise DomainError("The new order is not a list of ids.", field="order") from exc


@review_view(Role.LEAD)
@require_POST
def fields_reorder(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, section_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    section = get_object_or_404(FormSection, pk=section_pk, form=form)

    def reorder() -> Done:
        services_builder.field_reorder(section=section, order=_order(request), user=request.user)
        return Done("Order saved.")

    return builder_call(request, form, reorder, section_pk=section.pk)


@review_view(Role.LEAD)
@require_POST
def sections_reorder(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)

    def reorder() -> Done:
        services_builder.section_reorder(form=form, order=_order(request), user=request.user)
        return Done("Order of sections saved.")

    return builder_call(request, form, reorder)


@review_view(Role.LEAD)
@require_POST
def field_duplicate(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, field_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    target = get_object_or_404(FormField, pk=field_pk, form=form)

    def duplicate() -> Done:
        copy = services_builder.field_duplicate(field=target, user=request.user)
        notice = f"'{copy.label}' added below the original, key {copy.key}."
        return Done(notice, anchor=f"field-{copy.pk}")

    return builder_call(request, form, duplicate, section_pk=target.section_id)


@review_view(Role.LEAD)
@require_POST
def section_duplicate(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, section_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    section = get_object_or_404(FormSection, pk=section_pk, form=form)

    def duplicate() -> Done:
        copy = services_builder.section_duplicate(section=section, user=request.user)
        notice = f"Section '{copy.title}' added below the original."
        return Done(notice, anchor=f"section-{copy.pk}")

    return builder_call(request, form, duplicate)


@review_view(Role.LEAD)
@require_POST
def section_remove(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, section_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    section = get_object_or_404(FormSection, pk=section_pk, form=form)
    return builder_call(request, form, lambda: section_step(request, section, "remove"))


@review_view(Role.LEAD)
@require_POST
def section_restore(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, section_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    section = get_object_or_404(FormSection, pk=section_pk, form=form)

    def restore() -> Done:
        services_builder.section_restore(section=section, user=request.user)
        notice = f"Section '{section.title}' is back with its fields."
        return Done(notice, anchor=f"section-{section.pk}")

    return builder_call(request, form, restore)


@review_view(Role.LEAD)
@require_POST
def template_add(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)

    def add() -> Done:
        section = services_builder.template_add(
            form=form, template=request.POST.get("template", ""), user=request.user
        )
        notice = f"Section '{section.title}' added with {section.fields.count()} fields."
        return Done(notice, anchor=f"section-{section.pk}")

    return builder_call(request, form, add)


def _copy_source(request: HttpRequest) -> dict[str, Any]:
    """The form or section named by `source` ("form:12" or "section:34"): 404 unless the user
    is a member of its review, so another review's forms are not revealed."""
    kind, _, pk = request.POST.get("source", "").partition(":")
    if not pk.isdigit():
        raise DomainError("Choose a form or a section to copy.", field="source")
    if kind == "form":
        source = selectors.copy_source_form(user=request.user, form_pk=int(pk))
        if source is not None:
            return {"source_form": source}
    elif kind == "section":
        section = selectors.copy_source_section(user=request.user, section_pk=int(pk))
        if section is not None:
            return {"source_section": section}
    raise Http404("No such form or section.")


@review_view(Role.LEAD)
@require_POST
def copy_into(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)

    def copy() -> Done:
        added = services_builder.copy_into(form=form, user=request.user, **_copy_source(request))
        names = ", ".join(f"'{s.title}'" for s in added)
        count = sum(s.fields.count() for s in added)
        return Done(f"Copied {names} ({count} fields).", anchor=f"section-{added[0].pk}")

    return builder_call(request, form, copy)


def _copied(request: HttpRequest, review: Review) -> tuple[ExtractionForm, ExtractionForm]:
    """The new form, and the form it copies."""
    source = _copy_source(request).get("source_form")
    if source is None:
        raise DomainError("Choose a whole form to copy.", field="source")
    name = request.POST.get("name", "").strip() or None
    copy = services_builder.form_copy(review=review, source=source, user=request.user, name=name)
    return copy, source


@review_view(Role.LEAD)
@require_POST
def form_copy(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    """A new form in this review with the structure of a form from another of the user's
    reviews."""
    return call_and_redirect(
        request,
        lambda: _copied(request, review),
        to=lambda done: reverse("extraction_form_builder", args=[review.pk, done[0].pk]),
        success=lambda done: f"Form '{done[0].name}' copied from '{done[1].review.title}'.",
        error_to=reverse("extraction_home", args=[review.pk]),
        error_prefix="Nothing was copied. ",
    )
