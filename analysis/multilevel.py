"""The three-level model on the analysis page: several effect sizes per study (every timepoint
a study reports), nested in studies, pooled by `analysis.stats.pool_multilevel` (metafor's
`rma.mv(yi, vi, random = ~ 1 | study/es)`). Pure: no database.

The payload has the shape `compute_payload` writes, with `multilevel: True`; `overall` holds the
engine's `to_dict()` (variance components `sigma2_between`/`sigma2_within` and the I² split
`i2_between`/`i2_within`) and the effect sizes in `studies` carry their study as `group`, so
the forest plot draws them grouped by study. Subgroups, sensitivity analyses and small-study
tests assume one effect size per study and are not run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis import scales, stats
from analysis.inputs import AnalysisInputs, MissingStudy, split_usable
from analysis.stats.bias import z_crit

if TYPE_CHECKING:
    from analysis.services import Spec


def multilevel_payload(
    spec: Spec, inputs: AnalysisInputs, *, effect_sizes: Callable[..., Any]
) -> dict[str, Any]:
    """`effect_sizes` is the services' escalc step (passed in: this module sits below them)."""
    _effect_sizes = effect_sizes
    usable, missing = split_usable(inputs.rows, spec.measure)
    missing = list(inputs.missing) + missing
    payload: dict[str, Any] = {
        "measure": spec.measure,
        "measure_label": spec.generic_measure if spec.measure == "GEN" else spec.measure,
        "ratio": spec.is_ratio,
        **scales.scale_fields(spec.measure),
        "multilevel": True,
        "model": spec.model,
        "method": spec.tau2_method,
        "test": spec.test,
        "level": spec.level,
        "direction": spec.direction,
        "harmonised": spec.flip,
        "mantel_haenszel": False,
        "intervention_label": spec.intervention_label,
        "control_label": spec.control_label,
        "subgroup_field": "",
        "subgroup_label": "",
        "studies": [],
        "overall": None,
        "subgroups": None,
        "sensitivity": {},
        "bias": {},
        "participants": 0,
    }
    rows = []
    yi = vi = np.array([])
    if usable:
        es = _effect_sizes(spec, usable)
        y = np.array(es.yi, dtype=float)
        if spec.flip:
            y = -y
        v = np.array(es.vi, dtype=float)
        keep = np.isfinite(y) & np.isfinite(v)
        for row, ok, note in zip(usable, keep, es.notes, strict=True):
            if not ok:
                missing.append(MissingStudy(row.study_id, row.label, note or "not estimable"))
        rows = [r for r, ok in zip(usable, keep, strict=True) if ok]
        yi, vi = y[keep], v[keep]
    payload["missing"] = [m.to_dict() for m in missing]
    if not rows:
        payload["warnings"] = ["No study has usable data for this outcome yet."]
        return payload
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
    z = z_crit(1 - spec.level / 100)
    studies = []
    weights = fit.get("weights") or [None] * len(rows)
    for row, y_, v_, w in zip(rows, yi.tolist(), vi.tolist(), weights, strict=True):
        se = math.sqrt(v_)
        studies.append({
            **row.to_dict(),
            "yi": y_, "vi": v_, "ci_lb": y_ - z * se, "ci_ub": y_ + z * se,
            "weight": None if w is None else float(w), "group": row.label,
        })  # fmt: skip
    payload["studies"] = studies
    payload["overall"] = fit
    payload.update(scales.sample_sizes(spec.measure, rows))
    # Participants once per study (its effect sizes share them): the largest count reported.
    largest: dict[int, int] = {}
    for r in rows:
        largest[r.study_id] = max(largest.get(r.study_id, 0), r.participants or 0)
    payload["participants"] = sum(largest.values())
    payload["warnings"] = warnings + list(fit.get("warnings") or [])
    return payload
