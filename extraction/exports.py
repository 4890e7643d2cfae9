"""CSV exports of the data that feeds analyses (single or consensus records) and value display."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse

from analysis import stats
from extraction import selectors
from extraction.models import Extraction, ExtractionForm, FieldType, FormField, Outcome
from reviewapp.models import Review

RATIO_MEASURES = {"OR", "RR", "HR", "IRR", "ROM"}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "export"


def display(field: FormField, value: Any) -> str:
    """An answer as one line of text (tables: one 'col: value' group per row)."""
    if value is None or value == "" or value == []:
        return ""
    if field.field_type == FieldType.TABLE and isinstance(value, list):
        labels = {c["key"]: c["label"] for c in field.columns}
        return " | ".join(
            "; ".join(
                f"{labels.get(k, k)}: {_text(v)}" for k, v in row.items() if v not in (None, "")
            )
            for row in value
            if isinstance(row, dict)
        )
    unit = (
        f" {field.unit}"
        if field.unit and field.field_type in (FieldType.INTEGER, FieldType.DECIMAL)
        else ""
    )
    return f"{_text(value)}{unit}"


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _safe(value: Any) -> Any:
    """Keep a spreadsheet from running a cell as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def _write(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe("" if v is None else v) for v in row])
    return out.getvalue()


def csv_response(body: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _finals(review: Review) -> dict[tuple[int, int], Extraction]:
    records = Extraction.objects.filter(
        form__review=review, kind__in=[Extraction.Kind.SINGLE, Extraction.Kind.CONSENSUS]
    ).select_related("form")
    return {
        (e.form_id, e.study_id): e
        for e in records
        if (e.kind == Extraction.Kind.CONSENSUS) == e.form.is_dual
    }


def wide_csv(*, review: Review) -> str:
    """One row per included study: each form's answers (removed fields too), from the records
    that feed analyses."""
    forms = list(ExtractionForm.objects.filter(review=review))
    finals = _finals(review)
    columns: list[tuple[ExtractionForm, FormField]] = []
    for form in forms:
        columns.extend((form, f) for f in selectors.form_fields(form=form))
    prefix = len(forms) > 1
    header = ["study_id", "study"]
    for form in forms:
        header.append(f"{slug(form.name)}__status" if prefix else "status")
    header += [f"{slug(form.name)}__{f.key}" if prefix else f.key for form, f in columns]
    rows = []
    for study in selectors.included_studies_qs(review=review):
        row: list[Any] = [study.pk, study.label]
        for form in forms:
            record = finals.get((form.pk, study.pk))
            row.append(record.status if record else "")
        for form, f in columns:
            record = finals.get((form.pk, study.pk))
            value = record.answers.get(f.key) if record else None
            row.append(
                display(f, value)
                if f.field_type == FieldType.TABLE
                else _text(value)
                if value is not None
                else ""
            )
        rows.append(row)
    return _write(header, rows)


LONG_HEADER = [
    "study_id",
    "study",
    "form",
    "outcome",
    "outcome_type",
    "desirable_direction",
    "timepoint",
    "timepoint_weeks",
    "arm",
    "arm_role",
    "mean",
    "sd",
    "n",
    "events",
    "total",
    "estimate",
    "ci_lower",
    "ci_upper",
    "se",
    "r",
    "person_time",
    "mean_pre",
    "sd_pre",
    "conversion",
    "conversion_inputs",
    "notes",
]


def long_csv(*, review: Review) -> str:
    """One row per study, outcome, timepoint and arm."""
    finals = _finals(review)
    included = {s.pk: s for s in selectors.included_studies_qs(review=review)}
    rows = []
    records = sorted(
        (e for e in finals.values() if e.study_id in included and e.form.collects_outcomes),
        key=lambda e: (included[e.study_id].label, e.form.position),
    )
    data = {
        e.pk: list(
            e.outcome_data.select_related("outcome").order_by(
                "outcome__position", "outcome_id", "timepoint_weeks", "timepoint", "arm"
            )
        )
        for e in records
    }
    for e in records:
        roles = {a["label"].lower(): a["role"] for a in e.arms}
        for r in data[e.pk]:
            rows.append(
                [
                    e.study_id,
                    included[e.study_id].label,
                    e.form.name,
                    r.outcome.name,
                    r.outcome.outcome_type,
                    r.outcome.desirable_direction,
                    r.timepoint,
                    None if r.timepoint_weeks is None else float(r.timepoint_weeks),
                    r.arm,
                    roles.get(r.arm.lower(), "") if r.arm else "",
                    r.mean,
                    r.sd,
                    r.n,
                    r.events,
                    r.total,
                    r.estimate,
                    r.ci_lower,
                    r.ci_upper,
                    r.se,
                    r.r,
                    r.person_time,
                    r.mean_pre,
                    r.sd_pre,
                    r.conversion,
                    json.dumps(r.conversion_inputs) if r.conversion_inputs else "",
                    r.notes,
                ]
            )
    return _write(LONG_HEADER, rows)


def metafor_columns(outcome: Outcome) -> list[str]:
    if outcome.outcome_type == Outcome.Type.CONTINUOUS:
        return ["m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"]
    if outcome.outcome_type == Outcome.Type.DICHOTOMOUS:
        return ["ai", "n1i", "ci", "n2i"]
    if outcome.outcome_type == Outcome.Type.PROPORTION:
        return ["xi", "ni"]
    if outcome.outcome_type == Outcome.Type.CORRELATION:
        return ["ri", "ni"]
    if outcome.outcome_type == Outcome.Type.RATE:
        return ["x1i", "t1i", "x2i", "t2i"]
    if outcome.outcome_type == Outcome.Type.SINGLE_RATE:
        return ["xi", "ti"]
    if outcome.outcome_type == Outcome.Type.PAIRED:
        return ["m1i", "sd1i", "m2i", "sd2i", "ni", "ri"]  # 1: follow-up, 2: baseline
    if outcome.outcome_type == Outcome.Type.MEAN:
        return ["mi", "sdi", "ni"]
    return ["yi", "sei"]


def metafor_csv(*, outcome: Outcome) -> str:
    """Ready for `escalc()` / `rma()`: group 1 is the intervention arm, group 2 the control;
    generic estimates as yi and sei (log scale for ratios). Studies without usable data are
    left out; the study variables follow as columns for subgroups and meta-regression."""
    rows = [r for r in selectors.analysis_rows(outcome=outcome) if r.usable]
    variables = sorted({k for r in rows for k in r.variables})
    header = ["study", "timepoint", *metafor_columns(outcome), "conversion", *variables]
    out = []
    for r in rows:
        if outcome.outcome_type == Outcome.Type.CONTINUOUS:
            i, c = r.intervention, r.control
            assert i is not None and c is not None
            values: list[Any] = [i.mean, i.sd, i.n, c.mean, c.sd, c.n]
        elif outcome.outcome_type == Outcome.Type.DICHOTOMOUS:
            i, c = r.intervention, r.control
            assert i is not None and c is not None
            values = [i.events, i.total, c.events, c.total]
        elif outcome.outcome_type == Outcome.Type.PROPORTION:
            values = [r.events, r.total]
        elif outcome.outcome_type == Outcome.Type.CORRELATION:
            values = [r.r, r.n]
        elif outcome.outcome_type == Outcome.Type.RATE:
            i, c = r.intervention, r.control
            assert i is not None and c is not None
            values = [i.events, i.person_time, c.events, c.person_time]
        elif outcome.outcome_type == Outcome.Type.SINGLE_RATE:
            values = [r.events, r.person_time]
        elif outcome.outcome_type == Outcome.Type.PAIRED:
            values = [r.mean, r.sd, r.mean_pre, r.sd_pre, r.n, r.r]
        elif outcome.outcome_type == Outcome.Type.MEAN:
            values = [r.mean, r.sd, r.n]
        else:
            ratio = outcome.effect_measure.upper() in RATIO_MEASURES
            es = stats.generic_iv(
                [r.estimate],
                se=[r.se if r.se is not None else math.nan],
                ci_lb=[r.ci_lower if r.ci_lower is not None else math.nan],
                ci_ub=[r.ci_upper if r.ci_upper is not None else math.nan],
                ratio=ratio,
            )
            values = [float(es.yi[0]), math.sqrt(float(es.vi[0]))]
        extra = [
            _text(r.variables.get(k)) if r.variables.get(k) is not None else "" for k in variables
        ]
        out.append([r.study_label, r.timepoint, *values, ";".join(r.conversions), *extra])
    return _write(header, out)
