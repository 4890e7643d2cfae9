"""Pages of dual extraction's comparison and consensus: the two records side by side, and the
consensus built from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from extraction import exports, plausibility, selectors, services
from extraction.entry_form import MEASURE_LABELS
from extraction.models import Extraction, ExtractionForm, FieldType
from extraction.views import _form, _study
from reviewapp.common.permissions import review_view
from reviewapp.errors import DomainError
from reviewapp.models import Membership, Review, Role
from screening.models import Study


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


_NOT_EDITABLE_HERE = (FieldType.TABLE, FieldType.DERIVED, FieldType.MULTIPLE_CHOICE)


def _compare_items(comparison: selectors.ExtractionComparison) -> list[CompareItem]:
    return [
        CompareItem(
            key=i.field.key,
            label=i.field.label,
            section=i.field.section.title,
            first=exports.display(i.field, i.first),
            second=exports.display(i.field, i.second),
            agree=i.agree,
            consensus=exports.display(i.field, i.consensus),
            editable=i.field.field_type not in _NOT_EDITABLE_HERE,
            removed=i.field.removed_in_version is not None,
        )
        for i in comparison.items
    ]


def _arms_text(extraction: Extraction | None) -> str:
    return ", ".join(f"{a['label']} ({a['role']})" for a in (extraction.arms if extraction else []))


def _plausibility(
    comparison: selectors.ExtractionComparison,
) -> list[tuple[str, Extraction, list[plausibility.Finding]]]:
    """The plausibility warnings of each record compared (A, B, the consensus) that has any."""
    checked = [
        (who, record, selectors.extraction_warnings(extraction=record, fields=comparison.fields))
        for who, record in (
            ("A", comparison.first),
            ("B", comparison.second),
            ("Consensus", comparison.consensus),
        )
        if record is not None
    ]
    return [(who, record, found) for who, record, found in checked if found]


def _compare_context(
    review: Review, membership: Membership, form: ExtractionForm, study: Study
) -> dict[str, Any]:
    comparison = selectors.extraction_comparison(form=form, study=study)
    return {
        "form": form,
        "study": study,
        "comparison": comparison,
        "plausibility": _plausibility(comparison),
        "items": _compare_items(comparison),
        "derived": {f.key for f in comparison.fields if f.field_type == FieldType.DERIVED},
        "arms_first": _arms_text(comparison.first),
        "arms_second": _arms_text(comparison.second),
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
    except DomainError as exc:  # someone saved first (StaleVersion) or a rule refused it
        messages.error(request, exc.message)
        return redirect(
            "extraction_compare", review_pk=review.pk, form_pk=form.pk, study_pk=study.pk
        )
    messages.success(
        request,
        f"{study.label}: consensus saved (version {record.version}); it now feeds the analyses.",
    )
    return redirect("extraction_compare", review_pk=review.pk, form_pk=form.pk, study_pk=study.pk)
