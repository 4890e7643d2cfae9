"""The analysis engine's driver: from an analysis's settings (`Spec`) and its studies' rows to a
`ComputedResult`. Pure: no Django, no database (an import-linter contract keeps it so).

`analysis.services` loads the rows, calls `compute` and stores `ComputedResult.to_json()`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from analysis import scales, stats
from analysis.measure_kinds import (
    CONTINUOUS_MEASURES,
    CORRELATION_MEASURES,
    DICHOTOMOUS_MEASURES,
    MEAN_MEASURES,
    MH_MEASURES,
    PAIRED_MEASURES,
    PROPORTION_MEASURES,
    RATE_MEASURES,
    SINGLE_GROUP_MEASURES,
    SINGLE_RATE_MEASURES,
)
from analysis.results import (
    BiasTests,
    ComputedResult,
    FilledStudy,
    Missing,
    Pooled,
    RobSensitivity,
    Scale,
    Sensitivity,
    Sequential,
    StudyResult,
    Subgroup,
    Subgroups,
    SubgroupTest,
    TrimFill,
)
from analysis.stats.bias import egger, trimfill, z_crit
from analysis.stats.binary import pool_mh, pool_peto
from analysis.stats.sensitivity import cumulative, leave_one_out, leave_one_out_tables
from analysis.stats.sensitivity import subgroups as pool_subgroups

if TYPE_CHECKING:
    # The rows are plain dataclasses built by analysis.inputs (the Django side).
    from analysis.inputs import AnalysisInputs, MissingStudy, StudyRow

# Part of every input hash: a change to how results are computed makes new versions.
ENGINE_VERSION = "1"
RATIO_MEASURES = ("RR", "OR", "PETO", "ROM", "IRR", "VR", "CVR")
GENERIC_RATIOS = ("OR", "RR", "HR", "IRR", "ROM")
# Analysis.model's values (analysis.models.ModelKind).
FIXED, RANDOM = "fixed", "random"


@dataclass(frozen=True)
class Spec:
    """Everything about an analysis that changes its numbers or its figures."""

    measure: str
    model: str
    tau2_method: str
    test: str
    prediction_interval: bool
    mantel_haenszel: bool
    level: float
    subgroup_field: str
    exclude_high_rob: bool
    leave_one_out: bool
    cumulative: bool
    harmonise_signs: bool
    direction: str
    generic_measure: str
    revman: bool
    intervention_label: str
    control_label: str
    # The subgroup variable's field label, for headings ("Design: cluster").
    subgroup_label: str = ""
    # Paired outcomes: the pre-post correlation used where a study reports none.
    prepost_correlation: float = 0.5
    # Three-level model over every timepoint of every study (`_multilevel` below).
    multilevel: bool = False
    robust: bool = False

    @property
    def method(self) -> str:
        return "FE" if self.model == FIXED else self.tau2_method

    @property
    def is_ratio(self) -> bool:
        if self.measure == "GEN":
            return self.generic_measure in GENERIC_RATIOS
        return self.measure in RATIO_MEASURES

    @property
    def flip(self) -> bool:
        # A single group has no comparison whose sign could be harmonised.
        single = self.measure in SINGLE_GROUP_MEASURES
        return self.harmonise_signs and self.direction == "lower" and not single


def input_hash(spec: Spec, inputs: AnalysisInputs) -> str:
    blob = json.dumps(
        {
            "engine": ENGINE_VERSION,
            "spec": spec.__dict__,
            "rows": [r.to_dict() for r in inputs.rows],
            "missing": [m.to_dict() for m in inputs.missing],
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _effect_sizes(spec: Spec, rows: Sequence[StudyRow]) -> stats.EffectSizes:
    labels = [r.label for r in rows]
    if spec.measure in CONTINUOUS_MEASURES:
        return stats.escalc(
            spec.measure,
            n1i=[r.n1 for r in rows], m1i=[r.m1 for r in rows], sd1i=[r.sd1 for r in rows],
            n2i=[r.n2 for r in rows], m2i=[r.m2 for r in rows], sd2i=[r.sd2 for r in rows],
            labels=labels,
        )  # fmt: skip
    if spec.measure in DICHOTOMOUS_MEASURES:
        return stats.escalc(
            spec.measure,
            ai=[r.events1 for r in rows], n1i=[r.total1 for r in rows],
            ci=[r.events2 for r in rows], n2i=[r.total2 for r in rows],
            labels=labels,
        )  # fmt: skip
    if spec.measure in SINGLE_GROUP_MEASURES:
        return _single_group_effect_sizes(spec.measure, rows)
    if spec.measure in ("SMCR", "SMCRH"):
        # Standardised by the baseline SD (Becker 1988): metafor divides by sd1i, so sd1i is
        # the baseline SD; SMCR needs no follow-up SD.
        return stats.escalc(
            spec.measure,
            m1i=[r.mean for r in rows], m2i=[r.mean_pre for r in rows],
            sd1i=[r.sd_pre for r in rows],
            sd2i=[r.sd for r in rows] if spec.measure == "SMCRH" else None,
            ni=[r.n for r in rows], ri=[_prepost_r(spec, r) for r in rows], labels=labels,
        )  # fmt: skip
    if spec.measure in PAIRED_MEASURES:
        return stats.escalc(
            spec.measure,
            m1i=[r.mean for r in rows], sd1i=[r.sd for r in rows],
            m2i=[r.mean_pre for r in rows], sd2i=[r.sd_pre for r in rows],
            ni=[r.n for r in rows], ri=[_prepost_r(spec, r) for r in rows], labels=labels,
        )  # fmt: skip
    if spec.measure in RATE_MEASURES:
        return stats.escalc(
            spec.measure,
            x1i=[r.events1 for r in rows], t1i=[r.pt1 for r in rows],
            x2i=[r.events2 for r in rows], t2i=[r.pt2 for r in rows],
            labels=labels,
        )  # fmt: skip
    est = [r.estimate for r in rows]
    nan = float("nan")
    return stats.generic_iv(
        est,
        se=[nan if r.se is None else r.se for r in rows],
        ci_lb=[nan if r.ci_lower is None else r.ci_lower for r in rows],
        ci_ub=[nan if r.ci_upper is None else r.ci_upper for r in rows],
        ratio=spec.is_ratio,
        level=spec.level,
        labels=labels,
    )


def _prepost_r(spec: Spec, row: StudyRow) -> float:
    return spec.prepost_correlation if row.r is None else row.r


def _imputation_notes(spec: Spec, rows: Sequence[StudyRow]) -> list[str]:
    """Which paired studies had their pre-post correlation imputed, and with what."""
    if spec.measure not in PAIRED_MEASURES:
        return []
    imputed = [r.label for r in rows if r.r is None]
    if not imputed:
        return []
    return [
        f"Pre-post correlation not reported, {spec.prepost_correlation:g} used (a setting of "
        f"this analysis) for: {', '.join(imputed)}."
    ]


def _single_group_effect_sizes(measure: str, rows: Sequence[StudyRow]) -> stats.EffectSizes:
    """Proportions (events of total) and correlations (r with n), in metafor's arguments."""
    labels = [r.label for r in rows]
    if measure in PROPORTION_MEASURES:
        return stats.escalc(
            measure, xi=[r.events for r in rows], ni=[r.total for r in rows], labels=labels
        )
    if measure in SINGLE_RATE_MEASURES:
        return stats.escalc(
            measure, xi=[r.events for r in rows], ti=[r.person_time for r in rows], labels=labels
        )
    if measure in MEAN_MEASURES:
        return stats.escalc(
            measure,
            mi=[r.mean for r in rows], sdi=[r.sd for r in rows], ni=[r.n for r in rows],
            labels=labels,
        )  # fmt: skip
    assert measure in CORRELATION_MEASURES
    return stats.escalc(measure, ri=[r.r for r in rows], ni=[r.n for r in rows], labels=labels)


class _Tables(TypedDict):
    """A 2x2 table per study, in metafor's cell names."""

    ai: list[float]
    bi: list[float]
    ci: list[float]
    di: list[float]


def _tables(rows: Sequence[StudyRow]) -> _Tables:
    return {
        "ai": [float(r.events1 or 0) for r in rows],
        "bi": [float((r.total1 or 0) - (r.events1 or 0)) for r in rows],
        "ci": [float(r.events2 or 0) for r in rows],
        "di": [float((r.total2 or 0) - (r.events2 or 0)) for r in rows],
    }


def _by_tables(spec: Spec) -> str | None:
    """'MH' or 'PETO' when the main model pools 2x2 tables directly, else None (inverse
    variance). Harmonised signs need the per-study effects, so they pool by inverse variance."""
    if spec.flip or spec.model != FIXED:
        return None
    if spec.measure == "PETO":
        return "PETO"
    if spec.mantel_haenszel and spec.measure in MH_MEASURES:
        return "MH"
    return None


def _mh_kwargs(spec: Spec) -> dict[str, Any]:
    return {
        "measure": spec.measure,
        "rd_variance": "GR" if spec.revman else "SGR",
        "zero_cell": "revman" if spec.revman else "metafor",
    }


def _pool(spec: Spec, rows: Sequence[StudyRow], yi: Any, vi: Any) -> stats.PoolResult:
    """The main model on these studies: MH/Peto on 2x2 tables, inverse variance otherwise."""
    labels = [r.label for r in rows]
    kind = _by_tables(spec)
    if kind == "PETO":
        return pool_peto(**_tables(rows), level=spec.level, labels=labels)
    if kind == "MH":
        return pool_mh(**_tables(rows), level=spec.level, labels=labels, **_mh_kwargs(spec))
    # Random-effects MH is RevMan's DL with inverse-variance weights (docs/statistical-methods.md).
    method = "DL" if spec.mantel_haenszel and spec.model == RANDOM else spec.method
    return stats.pool(
        yi, vi, method=method, test=spec.test, level=spec.level, measure=spec.measure,
        labels=labels, pi_type="default",
    )  # fmt: skip


def _pooled(spec: Spec, res: stats.PoolResult) -> Pooled:
    d = res.to_dict()
    if not spec.prediction_interval or spec.model == FIXED or res.k < 3:
        d["pi_lb"] = d["pi_ub"] = None
    return Pooled.from_json(d)


def _study(
    row: StudyRow, y: float, v: float, z: float, weight: float | None, group: str | None
) -> StudyResult:
    se = math.sqrt(v)
    data = {k: val for k, val in row.to_dict().items() if k not in ("study_id", "label", "year")}
    return StudyResult(
        study_id=row.study_id, label=row.label, year=row.year, yi=y, vi=v,
        ci_lb=y - z * se, ci_ub=y + z * se, weight=weight, group=group, data=data,
    )  # fmt: skip


def _scale(spec: Spec, rows: Sequence[StudyRow]) -> Scale:
    return Scale(**scales.scale_fields(spec.measure), **scales.sample_sizes(spec.measure, rows))


def _estimable(
    spec: Spec, usable: Sequence[StudyRow], missing: list[Missing], note: str
) -> tuple[list[StudyRow], Any, Any]:
    """The rows whose effect is estimable, with their effects (signs harmonised) and variances;
    the others join `missing` with the engine's note."""
    if not usable:
        return [], np.array([]), np.array([])
    es = _effect_sizes(spec, usable)
    yi = np.array(es.yi, dtype=float)
    if spec.flip:
        # Harmonised signs, asked for by the lead: lower-is-better effects are negated
        # (ratios inverted on the log scale) so that right always favours intervention.
        yi = -yi
    vi = np.array(es.vi, dtype=float)
    keep = np.isfinite(yi) & np.isfinite(vi)
    for row, ok, why in zip(usable, keep, es.notes, strict=True):
        if not ok:
            missing.append(Missing(row.study_id, row.label, why or note))
    rows = [r for r, ok in zip(usable, keep, strict=True) if ok]
    return rows, yi[keep], vi[keep]


def _settings(spec: Spec) -> dict[str, Any]:
    """The result's fields that restate the settings it was computed with."""
    return {
        "measure": spec.measure,
        "measure_label": spec.generic_measure if spec.measure == "GEN" else spec.measure,
        "ratio": spec.is_ratio,
        "model": spec.model,
        "method": spec.method,
        "test": spec.test,
        "level": spec.level,
        "direction": spec.direction,
        "harmonised": spec.flip,
        "mantel_haenszel": spec.mantel_haenszel,
        "intervention_label": spec.intervention_label,
        "control_label": spec.control_label,
        "subgroup_field": spec.subgroup_field,
        "subgroup_label": spec.subgroup_label,
    }


NO_DATA = "No study has usable data for this outcome yet."


def compute(
    spec: Spec, usable: Sequence[StudyRow], missing: Sequence[MissingStudy]
) -> ComputedResult:
    """Run the engine. `usable` are the studies with data for this measure, `missing` those
    without, with the reason (`analysis.inputs.split_usable`). Raises ValueError on
    impossible data (events above the total, ...)."""
    left_out = [Missing(m.study_id, m.label, m.reason) for m in missing]
    if spec.multilevel:
        return _multilevel(spec, usable, left_out)
    rows, yi, vi = _estimable(spec, usable, left_out, "effect not estimable")
    if not rows:
        return ComputedResult(
            **_settings(spec), scale=_scale(spec, []), missing=tuple(left_out), warnings=(NO_DATA,)
        )
    warnings: list[str] = []
    if spec.flip and (spec.mantel_haenszel or spec.measure == "PETO"):
        warnings.append("Signs are harmonised, so studies are pooled by inverse variance.")
    tables = _by_tables(spec)
    main = _pool(spec, rows, yi, vi)
    overall = _pooled(spec, main)
    z = z_crit(1 - spec.level / 100)
    studies = tuple(
        _study(
            row, y, v, z, overall.weights[i],
            (row.subgroups.get(spec.subgroup_field) or "Not reported")
            if spec.subgroup_field else None,
        )
        for i, (row, y, v) in enumerate(zip(rows, yi.tolist(), vi.tolist(), strict=True))
    )  # fmt: skip
    prepost: float | None = None
    if spec.measure in PAIRED_MEASURES:
        prepost = spec.prepost_correlation
        warnings += _imputation_notes(spec, rows)
    labels = [r.label for r in rows]
    common: dict[str, Any] = {"method": "FE" if tables else main.method,
              "test": spec.test if spec.model == RANDOM else "z",
              "level": spec.level, "measure": spec.measure}  # fmt: skip

    subgroups: Subgroups | None = None
    if spec.subgroup_field:
        groups = [str(s.group) for s in studies]
        names = list(dict.fromkeys(groups))
        if len(names) >= 2:
            sg = pool_subgroups(yi, vi, groups, labels=labels, **common)
            per_group = []
            for name in names:
                idx = [i for i, g in enumerate(groups) if g == name]
                sub_rows = [rows[i] for i in idx]
                fit = _pool(spec, sub_rows, yi[idx], vi[idx]) if tables else sg.subgroups[name]
                per_group.append(
                    Subgroup(
                        name=name,
                        studies=tuple(rows[i].study_id for i in idx),
                        pool=_pooled(spec, fit),
                        participants=sum(r.participants or 0 for r in sub_rows),
                    )
                )
            if tables:
                # Test for subgroup differences on the MH/Peto subtotals: the common-effect Q of
                # the subgroup estimates (engine), which is RevMan's Chi² for subgroups.
                est = [g.pool.estimate for g in per_group]
                var = [(g.pool.se or 0.0) ** 2 for g in per_group]
                q = stats.pool(est, var, method="FE")
                test = SubgroupTest(q=q.q, df=q.q_df, pval=q.q_pval, i2=q.i2)
            else:
                test = SubgroupTest(
                    q=sg.q_between, df=sg.q_between_df, pval=sg.q_between_pval, i2=sg.i2_between
                )
            # Weights within the whole analysis, so that subgroup squares compare across groups.
            subgroups = Subgroups(field=spec.subgroup_field, groups=tuple(per_group), test=test)
        else:
            warnings.append(
                f"Every study falls in one subgroup of '{spec.subgroup_field}'; "
                "no subgroup analysis."
            )

    rob_sens: RobSensitivity | None = None
    if spec.exclude_high_rob:
        low = [i for i, r in enumerate(rows) if (r.rob or "").lower() != "high"]
        excluded = tuple(rows[i].label for i in range(len(rows)) if i not in low)
        if not any(r.rob for r in rows):
            rob_sens = RobSensitivity((), None, note="No risk-of-bias judgements yet.")
        elif low:
            fit = _pool(spec, [rows[i] for i in low], yi[low], vi[low])
            rob_sens = RobSensitivity(excluded, _pooled(spec, fit))
        else:
            rob_sens = RobSensitivity(excluded, None, note="Every study is at high risk of bias.")
    loo_res: Sequential | None = None
    if spec.leave_one_out and len(rows) >= 2:
        if tables:
            fit_fn = pool_peto if tables == "PETO" else pool_mh
            kwargs: dict[str, Any] = {"level": spec.level}
            if tables == "MH":
                kwargs.update(_mh_kwargs(spec))
            t = _tables(rows)
            loo = leave_one_out_tables(fit_fn, t["ai"], t["bi"], t["ci"], t["di"],
                                       labels=labels, **kwargs)  # fmt: skip
        else:
            loo = leave_one_out(yi, vi, labels=labels, **common)
        loo_res = Sequential.from_json(loo.to_dict())
    cum_res: Sequential | None = None
    if spec.cumulative:
        dated = [i for i, r in enumerate(rows) if r.year is not None]
        if len(dated) >= 1:
            cum = cumulative(
                yi[dated], vi[dated], order=[rows[i].year for i in dated],
                labels=[labels[i] for i in dated], **common,
            )  # fmt: skip
            d = cum.to_dict()
            years = {r.label: r.year for r in rows}
            for row in d["rows"]:
                row["year"] = years.get(row["added"])
            cum_res = Sequential.from_json(d)
            if len(dated) < len(rows):
                warnings.append("Studies without a year are left out of the cumulative analysis.")

    bias = BiasTests()
    if len(rows) >= 3:
        try:
            eg = egger(yi, vi, labels=labels, model="lm").to_dict()
            tf = trimfill(yi, vi, labels=labels, method=common["method"],
                          test=common["test"], level=spec.level)  # fmt: skip
            bias = BiasTests(
                egger=eg,
                trimfill=TrimFill(
                    k0=tf.k0,
                    side=tf.side,
                    filled=tuple(
                        FilledStudy(float(y), float(v), s)
                        for y, v, s in zip(tf.filled_yi, tf.filled_vi, tf.filled_from, strict=True)
                    ),
                    adjusted=_pooled(spec, tf.adjusted),
                ),
            )
        except ValueError as exc:
            warnings.append(f"Small-study tests not run: {exc}")
        if len(rows) < 10:
            warnings.append(
                "Fewer than 10 studies: tests for funnel-plot asymmetry have little power."
            )
    return ComputedResult(
        **_settings(spec),
        scale=_scale(spec, rows),
        studies=studies,
        overall=overall,
        subgroups=subgroups,
        sensitivity=Sensitivity(
            exclude_high_rob=rob_sens, leave_one_out=loo_res, cumulative=cum_res
        ),
        bias=bias,
        participants=sum(r.participants or 0 for r in rows),
        missing=tuple(left_out),
        warnings=(*warnings, *overall.warnings),
        prepost_correlation=prepost,
    )


def _multilevel(spec: Spec, usable: Sequence[StudyRow], left_out: list[Missing]) -> ComputedResult:
    """The three-level model: several effect sizes per study (every timepoint a study
    reports), nested in studies, pooled by `analysis.stats.pool_multilevel` (metafor's
    `rma.mv(yi, vi, random = ~ 1 | study/es)`).

    `overall` carries the variance components (`sigma2_between`/`sigma2_within`) and the I²
    split (`i2_between`/`i2_within`) in its `extra`; each effect size has its study as
    `group`, so the forest plot draws them grouped by study. Subgroups, sensitivity analyses
    and small-study tests assume one effect size per study and are not run.
    """
    settings = {
        **_settings(spec),
        "method": spec.tau2_method,
        "mantel_haenszel": False,
        "subgroup_field": "",
        "subgroup_label": "",
    }
    rows, yi, vi = _estimable(spec, usable, left_out, "not estimable")
    if not rows:
        return ComputedResult(
            **settings, scale=_scale(spec, []), multilevel=True, missing=tuple(left_out),
            warnings=(NO_DATA,),
        )  # fmt: skip
    warnings: list[str] = []
    clusters = [r.study_id for r in rows]
    if len(set(clusters)) == len(clusters):
        warnings.append(
            "Every study has one effect size: the three-level model equals the usual "
            "random-effects model, with the within-study variance not identified."
        )
    fit = stats.pool_multilevel(
        yi, vi, clusters, method=spec.tau2_method, level=spec.level, robust=spec.robust
    ).to_dict()
    fit.update({"method": spec.tau2_method, "k": len(rows), "pi_lb": None, "pi_ub": None})
    # For the shared text helpers: the total variance and the total I².
    fit["tau2"] = (fit.get("sigma2_between") or 0) + (fit.get("sigma2_within") or 0)
    fit["i2"] = (fit.get("i2_between") or 0) + (fit.get("i2_within") or 0)
    overall = Pooled.from_json(fit)
    z = z_crit(1 - spec.level / 100)
    weights = overall.weights or (None,) * len(rows)
    studies = tuple(
        _study(row, y, v, z, w, row.label)
        for row, y, v, w in zip(rows, yi.tolist(), vi.tolist(), weights, strict=True)
    )
    # Participants once per study (its effect sizes share them): the largest count reported.
    largest: dict[int, int] = {}
    for r in rows:
        largest[r.study_id] = max(largest.get(r.study_id, 0), r.participants or 0)
    return ComputedResult(
        **settings,
        scale=_scale(spec, rows),
        multilevel=True,
        studies=studies,
        overall=overall,
        participants=sum(largest.values()),
        missing=tuple(left_out),
        warnings=(*warnings, *overall.warnings),
    )
