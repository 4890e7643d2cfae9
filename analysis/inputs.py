"""The one adapter between the other stages and the analysis engine.

Extraction (consensus outcome data, study-level answers), risk of bias and screening are read
here and nowhere else in `analysis`: everything downstream sees `StudyRow`s and
`MissingStudy`s. A study whose data cannot enter the analysis is listed with the reason,
never silently dropped.
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from django.db.models import Count, Max, Min

from analysis.models import CONTINUOUS_MEASURES, DICHOTOMOUS_MEASURES, Analysis


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
    # Generic inverse variance: a reported estimate (ratios on their natural scale) with SE or CI.
    estimate: float | None = None
    se: float | None = None
    ci_lower: float | None = None
    ci_upper: float | None = None
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


def _optional(module: str, name: str) -> Any:
    """A selector another stage provides, or None while that stage has not landed."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


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
        estimate=_num(_get(item, "estimate")),
        se=_num(_get(item, "se")),
        ci_lower=_num(_get(item, "ci_lower")),
        ci_upper=_num(_get(item, "ci_upper")),
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
    from screening.models import Record

    rows = (
        Record.objects.filter(study_id__in=list(study_ids), year__isnull=False)
        .values("study_id")
        .annotate(first=Min("year"))
    )
    return {r["study_id"]: int(r["first"]) for r in rows}


def rob_by_study(analysis: Analysis) -> dict[int, str]:
    selector = _optional("extraction.rob.selectors", "rob_overall_by_study")
    if selector is None:
        return {}
    judgements = selector(review=analysis.review, outcome=analysis.outcome)
    return {int(k): str(v) for k, v in judgements.items() if v}


def load_inputs(analysis: Analysis) -> AnalysisInputs:
    """Consensus data for the analysis's outcome, with RoB judgements attached."""
    selector = _optional("extraction.selectors", "analysis_rows")
    if selector is None:
        return AnalysisInputs(rows=())
    items = list(selector(outcome=analysis.outcome))
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
    selector = _optional("extraction.rob.selectors", "rob_judgements_by_study")
    if selector is None:
        return {}
    judged = selector(review=analysis.review, outcome=analysis.outcome)
    return {
        int(study_id): {key: str(j) for key, j in rob.domains.items() if j}
        for study_id, rob in judged.items()
    }


def review_progress(review: Any, user: Any = None) -> dict[str, Any]:
    """What the dashboard shows from screening, extraction and RoB (each part only when that
    stage provides it)."""
    out: dict[str, Any] = {}
    stage_progress = _optional("screening.selectors", "stage_progress")
    if stage_progress is not None:
        from screening.models import Stage

        reviewers = _optional("screening.selectors", "reviewer_progress")
        out["stages"] = [
            {
                "progress": stage_progress(review=review, stage=stage),
                "reviewers": reviewers(review=review, stage=stage, user=user) if reviewers else [],
            }
            for stage in Stage.values
        ]
    agreement = _optional("screening.selectors", "agreement_by_pair")
    if agreement is not None:
        out["agreement"] = agreement(review=review)
    prisma = _optional("screening.selectors", "prisma_counts")
    render_svg = _optional("screening.prisma", "render_svg")
    if prisma is not None and render_svg is not None:
        out["prisma_svg"] = render_svg(prisma(review=review))
    extraction = _optional("extraction.selectors", "extraction_progress")
    if extraction is not None:
        out["extraction"] = extraction(review=review)
    tools = _optional("extraction.rob.selectors", "rob_tools")
    bar = _optional("extraction.rob.plots", "summary_bar")
    if tools is not None and bar is not None:
        from extraction.rob import selectors as rob

        figures = []
        for tool in tools(review=review):
            rows = rob.plot_rows(tool=tool)
            if rows:
                figures.append({"id": tool.pk, "name": tool.name,
                                "json": bar(rows, rob.plot_spec(tool=tool)).to_json()})  # fmt: skip
        out["rob_figures"] = figures
    return out


def progress_token(review: Any) -> str:
    """Changes whenever a screening outcome, a final extraction or a RoB assessment is saved:
    three indexed MAX() lookups, for the dashboard's cheap version poll. Blind screening and
    blind dual extraction stay blind: open screening items (votes still awaited) and
    independent extractions do not count, so a poll cannot reveal that someone voted."""
    lookups = (
        ("screening.models", "ScreeningItem", {"review": review}, {"status": "open"}),
        ("extraction.models", "Extraction", {"form__review": review}, {"kind": "independent"}),
        ("extraction.rob.models", "RobAssessment", {"review": review}, {"kind": "independent"}),
    )
    parts = []
    for module, model, filters, hidden in lookups:
        cls = _optional(module, model)
        if cls is None:
            continue
        field = "updated_at" if hasattr(cls, "updated_at") else "pk"
        qs = cls.objects.filter(**filters)
        if all(hasattr(cls, k) for k in hidden):
            qs = qs.exclude(**hidden)
        latest = qs.aggregate(latest=Max(field), n=Count("pk"))
        parts.append(f"{latest['latest']}/{latest['n']}")
    return "|".join(parts)


# --- when the other stages change ------------------------------------------------------------
#
# The other stages do not know about analyses; the adapter watches their saves and marks the
# affected analyses stale in the same transaction (the task is queued on commit). Receivers do
# nothing else: which analyses are affected is decided in analysis.services.


def _outcome_data_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    from analysis import services

    services.analyses_outcome_data_changed(outcome_id=instance.outcome_id)


def _extraction_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    from django.db import transaction

    from analysis import services

    if getattr(instance, "kind", None) not in ("single", "consensus"):
        return  # a blind independent copy never feeds analyses
    rid = sender.objects.filter(pk=instance.pk).values_list("form__review_id", flat=True).first()
    if rid is None:
        return
    # Mark what is known now in this transaction (the outcomes the record had, and analyses
    # reading study-level answers); the outcome rows are written after the record, in bulk and
    # without signals, so the outcomes it gains are marked once the transaction commits.
    marked = set(services.analyses_extraction_changed(review_id=rid, extraction_id=instance.pk))
    transaction.on_commit(
        lambda: services.analyses_extraction_changed(
            review_id=rid, extraction_id=instance.pk, skip=marked
        ),
        robust=True,  # the extraction is saved; what this misses is found as stale later
    )


def _rob_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    from analysis import services

    services.analyses_rob_changed(review_id=instance.review_id)


def watch_other_stages() -> None:
    """Connected once from AnalysisConfig.ready()."""
    from django.db.models.signals import post_delete, post_save

    for signal in (post_save, post_delete):
        signal.connect(_outcome_data_saved, sender="extraction.OutcomeData",
                       dispatch_uid=f"analysis-outcome-data-{signal is post_save}")  # fmt: skip
        signal.connect(_rob_saved, sender="rob.RobAssessment",
                       dispatch_uid=f"analysis-rob-{signal is post_save}")  # fmt: skip
    post_save.connect(_extraction_saved, sender="extraction.Extraction",
                      dispatch_uid="analysis-extraction")  # fmt: skip
