"""The form builder's block actions as pages: reorder (drag, keyboard), duplicate, remove a
section with undo, template blocks, and copy from another review. Each answers htmx with the
fragment it changed (a section, or the list of sections) and anything else with a redirect to
the builder, so the page also works without script."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from extraction import selectors, services, services_builder
from extraction.models import ExtractionForm, FormField, FormSection
from extraction.views import (
    _back_to_builder,
    _done,
    _form,
    _fragment_context,
    _is_htmx,
    _section_boxes,
)
from reviewapp.common.permissions import review_view
from reviewapp.errors import DomainError
from reviewapp.models import Membership, Review, Role


def _order(request: HttpRequest) -> list[int]:
    raw = request.POST.get("order", "")
    try:
        return [int(pk) for pk in raw.split(",") if pk.strip()]
    except ValueError as exc:
        raise DomainError("The new order is not a list of ids.", field="order") from exc


def _sections(
    request: HttpRequest,
    review: Review,
    membership: Membership,
    form: ExtractionForm,
    *,
    notice: str = "",
    error: bool = False,
    anchor: str = "",
    undo_section: FormSection | None = None,
) -> HttpResponse:
    """The list of sections (htmx) or the builder page, with the notice and its Undo."""
    if not _is_htmx(request):
        if notice:
            (messages.error if error else messages.success)(request, notice)
        return _back_to_builder(form, anchor)
    boxes, _removed = _section_boxes(form)
    context = _fragment_context(
        review,
        membership,
        form,
        sections=boxes,
        sections_notice=notice,
        error=error,
        undo_section=undo_section,
    )
    return render(request, "extraction/_sections.html", context)


@review_view(Role.LEAD)
@require_POST
def fields_reorder(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, section_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    section = get_object_or_404(FormSection, pk=section_pk, form=form)
    try:
        services_builder.field_reorder(section=section, order=_order(request), user=request.user)
    except DomainError as exc:
        return _done(
            request, review, membership, form, section_pk=section.pk, notice=exc.message, error=True
        )
    return _done(request, review, membership, form, section_pk=section.pk, notice="Order saved.")


@review_view(Role.LEAD)
@require_POST
def sections_reorder(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    try:
        services_builder.section_reorder(form=form, order=_order(request), user=request.user)
    except DomainError as exc:
        return _sections(request, review, membership, form, notice=exc.message, error=True)
    return _sections(request, review, membership, form, notice="Order of sections saved.")


@review_view(Role.LEAD)
@require_POST
def field_duplicate(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, field_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    target = get_object_or_404(FormField, pk=field_pk, form=form)
    try:
        copy = services_builder.field_duplicate(field=target, user=request.user)
    except DomainError as exc:
        return _done(
            request,
            review,
            membership,
            form,
            section_pk=target.section_id,
            notice=exc.message,
            error=True,
        )
    return _done(
        request,
        review,
        membership,
        form,
        section_pk=target.section_id,
        notice=f"'{copy.label}' added below the original, key {copy.key}.",
        anchor=f"field-{copy.pk}",
    )


@review_view(Role.LEAD)
@require_POST
def section_duplicate(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, section_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    section = get_object_or_404(FormSection, pk=section_pk, form=form)
    try:
        copy = services_builder.section_duplicate(section=section, user=request.user)
    except DomainError as exc:
        return _sections(request, review, membership, form, notice=exc.message, error=True)
    return _sections(
        request,
        review,
        membership,
        form,
        notice=f"Section '{copy.title}' added below the original.",
        anchor=f"section-{copy.pk}",
    )


@review_view(Role.LEAD)
@require_POST
def section_remove(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, section_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    section = get_object_or_404(FormSection, pk=section_pk, form=form)
    answered = selectors.answered_keys(form=form)
    with_answers = [f for f in section.fields.all() if f.key in answered]
    try:
        services.section_remove(section=section, user=request.user)
    except DomainError as exc:
        return _sections(request, review, membership, form, notice=exc.message, error=True)
    kept = (
        f"the answers to its {len(with_answers)} answered field"
        f"{'s' if len(with_answers) != 1 else ''} are kept"
        if with_answers
        else "nothing had been answered in it"
    )
    return _sections(
        request,
        review,
        membership,
        form,
        notice=f"Section '{section.title}' removed; {kept}.",
        undo_section=section,
    )


@review_view(Role.LEAD)
@require_POST
def section_restore(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int, section_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    section = get_object_or_404(FormSection, pk=section_pk, form=form)
    services_builder.section_restore(section=section, user=request.user)
    return _sections(
        request,
        review,
        membership,
        form,
        notice=f"Section '{section.title}' is back with its fields.",
        anchor=f"section-{section.pk}",
    )


@review_view(Role.LEAD)
@require_POST
def template_add(
    request: HttpRequest, *, review: Review, membership: Membership, form_pk: int
) -> HttpResponse:
    form = _form(review, form_pk)
    try:
        section = services_builder.template_add(
            form=form, template=request.POST.get("template", ""), user=request.user
        )
    except DomainError as exc:
        return _sections(request, review, membership, form, notice=exc.message, error=True)
    return _sections(
        request,
        review,
        membership,
        form,
        notice=f"Section '{section.title}' added with {section.fields.count()} fields.",
        anchor=f"section-{section.pk}",
    )


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
    try:
        added = services_builder.copy_into(form=form, user=request.user, **_copy_source(request))
    except DomainError as exc:
        return _sections(request, review, membership, form, notice=exc.message, error=True)
    names = ", ".join(f"'{s.title}'" for s in added)
    return _sections(
        request,
        review,
        membership,
        form,
        notice=f"Copied {names} ({sum(s.fields.count() for s in added)} fields).",
        anchor=f"section-{added[0].pk}",
    )


@review_view(Role.LEAD)
@require_POST
def form_copy(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    """A new form in this review with the structure of a form from another of the user's
    reviews."""
    try:
        source = _copy_source(request).get("source_form")
        if source is None:
            raise DomainError("Choose a whole form to copy.", field="source")
        form = services_builder.form_copy(
            review=review,
            source=source,
            user=request.user,
            name=request.POST.get("name", "").strip() or None,
        )
    except DomainError as exc:
        messages.error(request, f"Nothing was copied. {exc.message}")
        return redirect("extraction_home", review_pk=review.pk)
    messages.success(request, f"Form '{form.name}' copied from '{source.review.title}'.")
    return redirect("extraction_form_builder", review_pk=review.pk, form_pk=form.pk)
