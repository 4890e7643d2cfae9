"""The one adapter between the other stages and the analysis engine.

Extraction (consensus outcome data, study-level answers), risk of bias and screening are read
here and nowhere else in `analysis`: everything downstream sees `StudyRow`s and
`MissingStudy`s. A study whose data cannot enter the analysis is listed with the reason,
never silently dropped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from django.db.models import Count, Max, Min

from analysis.models import (
    CONTINUOUS_MEASURES,
    CORRELATION_MEASURES,
    DICHOTOMOUS_MEASURES,
    MEAN_MEASURES,
    PAIRED_MEASURES,
    PROPORTION_MEASURES,
    RATE_MEASURES,
    SINGLE_RATE_MEASURES,
    Analysis,
)
from extraction import selectors as extraction_selectors
from extraction.models import Extraction
from extraction.rob import plots as rob_plots
from extraction.rob import selectors as rob_selectors
from extraction.rob.models import RobAssessment
from screening import prisma
from screening import selectors as screening_selectors
from screening.models import Record, ScreeningItem, Stage


@dataclass(frozen=True)
class StudyRow:
    """One study's data for one outcome: intervention arm 1, control arm 2."""

    study_id: int
    label: str
    year: int | None = None
    n1: float | None = None
    m1: float | None = None
    sd1: float | None = None
    n2: float | None = None
    m2: float | None = None
    sd2: float | None = None
    events1: float | None = None
    total1: float | None = None
    events2: float | None = None
    total2: float | None = None
    # Events over person-time (rates): each arm's person-time, with events1 and events2.
    pt1: float | None = None
    pt2: float | None = None
    # Generic inverse variance: a reported estimate (ratios on their natural scale) with SE or CI.
    estimate: float | None = None
    se: float | None = None
    ci_lower: float | None = None
    ci_upper: float | None = None
    # One group per study: a proportion (events of total) or a correlation (r with n).
    events: float | None = None
    total: float | None = None
    r: float | None = None
    n: float | None = None
    # A single group's person-time (with `events`), for single-group rates.
    person_time: float | None = None
    # One group measured twice (paired): follow-up and baseline means and SDs, with `n` and
    # `r` (the pre-post correlation; None when not reported, then the analysis imputes it).
    mean: float | None = None
    sd: float | None = None
    mean_pre: float | None = None
    sd_pre: float | None = None
    timepoint: str = ""
    subgroups: Mapping[str, str] = field(default_factory=dict)
    rob: str | None = None
    # Domain key ("D1") -> judgement, in the tool's order, for the traffic-light columns.
    rob_domains: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its deep copy dominated hashing 100-study analyses.
        d = {name: getattr(self, name) for name in _ROW_FIELDS}
        d["subgroups"] = dict(self.subgroups)
        d["rob_domains"] = dict(self.rob_domains)
        return d

    @property
    def participants(self) -> int | None:
        single = self.total if self.total is not None else self.n
        if single is not None:
            return int(single)
        a, b = (self.n1, self.n2) if self.n1 is not None else (self.total1, self.total2)
        if a is None or b is None:
            return None
        return int(a + b)


_ROW_FIELDS = tuple(StudyRow.__dataclass_fields__)


@dataclass(frozen=True)
class MissingStudy:
    study_id: int
    label: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AnalysisInputs:
    rows: tuple[StudyRow, ...]
    missing: tuple[MissingStudy, ...] = ()


def _blank(x: Any) -> bool:
    return x is None or (isinstance(x, float) and not math.isfinite(x))


def missing_reason(row: StudyRow, measure: str) -> str | None:
    """Why this row cannot enter an analysis with this measure, in the reviewer's words."""
    if measure in CONTINUOUS_MEASURES:
        for arm, (n, m, sd) in (
            ("intervention", (row.n1, row.m1, row.sd1)),
            ("control", (row.n2, row.m2, row.sd2)),
        ):
            if _blank(n):
                return f"no sample size reported for the {arm} arm"
            if _blank(m):
                return f"no mean reported for the {arm} arm"
            if _blank(sd):
                return f"no SD reported for the {arm} arm"
        return None
    if measure in DICHOTOMOUS_MEASURES:
        for arm, (e, t) in (
            ("intervention", (row.events1, row.total1)),
            ("control", (row.events2, row.total2)),
        ):
            if _blank(e):
                return f"no event count reported for the {arm} arm"
            if _blank(t):
                return f"no total reported for the {arm} arm"
        return None
    if measure in RATE_MEASURES:
        for arm, (e, t) in (
            ("intervention", (row.events1, row.pt1)),
            ("control", (row.events2, row.pt2)),
        ):
            if _blank(e):
                return f"no event count reported for the {arm} arm"
            if _blank(t):
                return f"no person-time reported for the {arm} arm"
        return None
    if measure in PAIRED_MEASURES:
        for value, what in (
            (row.mean_pre, "baseline mean"), (row.sd_pre, "baseline SD"),
            (row.mean, "follow-up mean"), (row.sd, "follow-up SD"), (row.n, "sample size"),
        ):  # fmt: skip
            # SMCR is standardised by the baseline SD and needs no follow-up SD.
            if _blank(value) and not (measure == "SMCR" and what == "follow-up SD"):
                return f"no {what} reported"
        return None
    if measure in MEAN_MEASURES:
        for value, what in ((row.mean, "mean"), (row.sd, "SD"), (row.n, "sample size")):
            if _blank(value):
                return f"no {what} reported"
        return None
    if measure in SINGLE_RATE_MEASURES:
        if _blank(row.events):
            return "no event count reported"
        return "no person-time reported" if _blank(row.person_time) else None
    if measure in PROPORTION_MEASURES:
        if _blank(row.events):
            return "no event count reported"
        return "no total reported" if _blank(row.total) else None
    if measure in CORRELATION_MEASURES:
        if _blank(row.r):
            return "no correlation reported"
        return "no sample size reported" if _blank(row.n) else None
    if _blank(row.estimate):
        return "no effect estimate reported"
    if _blank(row.se) and (_blank(row.ci_lower) or _blank(row.ci_upper)):
        return "no standard error or confidence interval reported"
    return None


def split_usable(
    rows: Iterable[StudyRow], measure: str
) -> tuple[list[StudyRow], list[MissingStudy]]:
    usable: list[StudyRow] = []
    missing: list[MissingStudy] = []
    for row in rows:
        reason = missing_reason(row, measure)
        if reason is None:
            usable.append(row)
        else:
            missing.append(MissingStudy(row.study_id, row.label, reason))
    return usable, missing


# --- the other stages ------------------------------------------------------------------------


def _num(x: Any) -> float | None:
    if x is None or x == "":
        return None
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def row_from_extraction(item: Any, year: int | None = None) -> StudyRow | MissingStudy:
    """Map one `extraction.selectors.AnalysisRow` (or a mapping of the same shape) onto a
    `StudyRow`, or onto the reason the study is missing."""
    study_id = int(_get(item, "study_id"))
    label = str(_get(item, "study_label") or _get(item, "label") or study_id)
    reason = _get(item, "missing")
    if reason:
        return MissingStudy(study_id, label, str(reason))
    intervention = _get(item, "intervention") or {}
    control = _get(item, "control") or {}
    variables = _get(item, "variables") or _get(item, "subgroups") or {}
    return StudyRow(
        study_id=study_id,
        label=label,
        year=year if year is not None else _year_in(label),
        n1=_num(_get(intervention, "n")),
        m1=_num(_get(intervention, "mean")),
        sd1=_num(_get(intervention, "sd")),
        n2=_num(_get(control, "n")),
        m2=_num(_get(control, "mean")),
        sd2=_num(_get(control, "sd")),
        events1=_num(_get(intervention, "events")),
        total1=_num(_get(intervention, "total")),
        events2=_num(_get(control, "events")),
        total2=_num(_get(control, "total")),
        pt1=_num(_get(intervention, "person_time")),
        pt2=_num(_get(control, "person_time")),
        estimate=_num(_get(item, "estimate")),
        se=_num(_get(item, "se")),
        ci_lower=_num(_get(item, "ci_lower")),
        ci_upper=_num(_get(item, "ci_upper")),
        events=_num(_get(item, "events")),
        total=_num(_get(item, "total")),
        r=_num(_get(item, "r")),
        n=_num(_get(item, "n")),
        person_time=_num(_get(item, "person_time")),
        mean=_num(_get(item, "mean")),
        sd=_num(_get(item, "sd")),
        mean_pre=_num(_get(item, "mean_pre")),
        sd_pre=_num(_get(item, "sd_pre")),
        timepoint=str(_get(item, "timepoint") or ""),
        subgroups={str(k): _variable(v) for k, v in dict(variables).items()},
    )


def _variable(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _year_in(label: str) -> int | None:
    match = re.search(r"\b(19|20)\d{2}\b", label)
    return int(match.group(0)) if match else None


def study_years(study_ids: Iterable[int]) -> dict[int, int]:
    """The earliest publication year among each study's reports (screening records)."""
    rows = (
        Record.objects.filter(study_id__in=list(study_ids), year__isnull=False)
        .values("study_id")
        .annotate(first=Min("year"))
    )
    return {r["study_id"]: int(r["first"]) for r in rows}


def rob_by_study(analysis: Analysis) -> dict[int, str]:
    judgements = rob_selectors.rob_overall_by_study(
        review=analysis.review, outcome=analysis.outcome
    )
    return {int(k): str(v) for k, v in judgements.items() if v}


def load_inputs(analysis: Analysis) -> AnalysisInputs:
    """Consensus data for the analysis's outcome, with RoB judgements attached."""
    if analysis.multilevel:
        items = list(
            extraction_selectors.analysis_rows(outcome=analysis.outcome, every_timepoint=True)
        )
    else:
        items = list(extraction_selectors.analysis_rows(outcome=analysis.outcome))
    years = study_years(int(_get(i, "study_id")) for i in items)
    rows: list[StudyRow] = []
    missing: list[MissingStudy] = []
    for item in items:
        mapped = row_from_extraction(item, years.get(int(_get(item, "study_id"))))
        if isinstance(mapped, MissingStudy):
            missing.append(mapped)
        else:
            rows.append(mapped)
    rob = rob_by_study(analysis)
    if rob:
        domains = rob_domains_by_study(analysis)
        rows = [
            replace(r, rob=rob.get(r.study_id), rob_domains=domains.get(r.study_id, {}))
            for r in rows
        ]
    return AnalysisInputs(rows=tuple(rows), missing=tuple(missing))


def rob_domains_by_study(analysis: Analysis) -> dict[int, dict[str, str]]:
    judged = rob_selectors.rob_judgements_by_study(review=analysis.review, outcome=analysis.outcome)
    return {
        int(study_id): {key: str(j) for key, j in rob.domains.items() if j}
        for study_id, rob in judged.items()
    }


def review_progress(review: Any, user: Any = None) -> dict[str, Any]:
    """What the dashboard shows from screening, extraction and RoB."""
    figures = []
    for tool in rob_selectors.rob_tools(review=review):
        rows = rob_selectors.plot_rows(tool=tool)
        if rows:
            # Only the domains some study was judged on: no empty bars for other variants' domains.
            bar = rob_plots.summary_bar(rows, rob_selectors.plot_spec(tool=tool, rows=rows))
            figures.append({"id": tool.pk, "name": tool.name, "json": bar.to_json()})
    return {
        "stages": [
            {
                "progress": screening_selectors.stage_progress(review=review, stage=stage),
                "reviewers": screening_selectors.reviewer_progress(
                    review=review, stage=stage, user=user
                ),
            }
            for stage in Stage.values
        ],
        "agreement": screening_selectors.agreement_by_pair(review=review),
        "prisma_svg": prisma.render_svg(screening_selectors.prisma_counts(review=review)),
        "extraction": extraction_selectors.extraction_progress(review=review),
        "rob_figures": figures,
    }


def progress_token(review: Any) -> str:
    """Changes whenever a screening outcome, a final extraction or a RoB assessment is saved:
    three indexed MAX() lookups, for the dashboard's cheap version poll. Blind screening and
    blind dual extraction stay blind: open screening items (votes still awaited) and
    independent extractions do not count, so a poll cannot reveal that someone voted."""
    lookups: tuple[tuple[Any, dict[str, Any], dict[str, Any]], ...] = (
        (ScreeningItem, {"review": review}, {"status": ScreeningItem.Status.OPEN}),
        (Extraction, {"form__review": review}, {"kind": Extraction.Kind.INDEPENDENT}),
        (RobAssessment, {"review": review}, {"kind": RobAssessment.Kind.INDEPENDENT}),
    )
    parts = []
    for model, filters, hidden in lookups:
        qs = model.objects.filter(**filters).exclude(**hidden)
        latest = qs.aggregate(latest=Max("updated_at"), n=Count("pk"))
        parts.append(f"{latest['latest']}/{latest['n']}")
    return "|".join(parts)
