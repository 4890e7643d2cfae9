"""How each measure is shown: the back-transformation from the scale the engine pools on to
the natural scale a reader expects, the axis and the null line.

The engine pools every measure on its analysis scale (log for ratios, logit for PLO, Fisher's
z for ZCOR, ...). Figures, tables and the headline estimate show the natural scale: ratios
exponentiated, proportions in percent, correlations as r. The back-transformations are
`analysis.stats.transform` (metafor's `transf.*`); this module only decides which one a stored
payload needs, so old payloads (without the keys written here) keep their `ratio` flag.

Freeman-Tukey (PFT): a study's own value and interval are back-transformed with its own n
(`transf.ipft`), pooled values with the harmonic mean of the pooled studies' n
(`transf.ipft.hm`, Miller 1978), stored in the payload as `transform_ni`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from analysis import stats
from analysis.measure_kinds import (
    CORRELATION_MEASURES,
    MEAN_MEASURES,
    PAIRED_MEASURES,
    PROPORTION_MEASURES,
    SINGLE_GROUP_MEASURES,
    SINGLE_RATE_MEASURES,
)

#: Single-group rates are shown per this many units of person-time (the unit extracted).
RATE_PER = 1000

#: Label of the effect column and axis for measures shown on a natural scale of their own.
NATURAL_LABELS = {
    **{m: "Proportion (%)" for m in PROPORTION_MEASURES},
    **{m: "Correlation (r)" for m in CORRELATION_MEASURES},
    **{m: f"Rate per {RATE_PER:,} person-time" for m in SINGLE_RATE_MEASURES},
    **{m: "Mean" for m in MEAN_MEASURES},
}


def scale_fields(measure: str) -> dict[str, Any]:
    """The payload keys that tell plots and tables how to show this measure."""
    if measure in PAIRED_MEASURES:
        # A change within one group: on its own scale, with a line at no change.
        return {"transform": None, "percent": False, "single_group": True}
    if measure not in SINGLE_GROUP_MEASURES:
        return {"transform": None, "percent": False, "single_group": False}
    return {
        "transform": measure,
        "percent": measure in PROPORTION_MEASURES,
        "single_group": True,
        "natural_label": NATURAL_LABELS[measure],
        "per": RATE_PER if measure in SINGLE_RATE_MEASURES else 1,
    }


def sample_sizes(measure: str, rows: Sequence[Any]) -> dict[str, Any]:
    """`transform_ni`: the harmonic mean of the studies' n, which PFT's inverse needs (and
    `transform_ti`, of their person-times, for IRFT)."""
    if measure == "IRFT":
        times = [float(r.person_time) for r in rows if r.person_time]
        return {"transform_ti": len(times) / sum(1.0 / t for t in times)} if times else {}
    if measure != "PFT":
        return {}
    sizes = [float(r.total) for r in rows if r.total]
    if not sizes:
        return {}
    return {"transform_ni": len(sizes) / sum(1.0 / s for s in sizes)}


def study_size(payload: Mapping[str, Any], study: Mapping[str, Any]) -> float | None:
    """A study's own n (PFT) or person-time (IRFT) for a per-study back-transformation."""
    key = {"PFT": "total", "IRFT": "person_time"}.get(payload.get("transform") or "")
    if key is None:
        return None
    value = study.get(key)
    return float(value) if value else None


def natural(payload: Mapping[str, Any], x: float | None, n: float | None = None) -> float | None:
    """`x` (analysis scale) on the natural scale this payload is shown on."""
    if x is None:
        return None
    measure = payload.get("transform")
    if not measure:
        return math.exp(x) if payload.get("ratio") else x
    extra: dict[str, Any] = {}
    if measure == "PFT":
        size = n if n is not None else payload.get("transform_ni")
        if not size:
            return None
        extra = {"ni": [size]}
    if measure == "IRFT":
        size = n if n is not None else payload.get("transform_ti")
        if not size:
            return None
        extra = {"ti": [size]}
    value = float(stats.transform(measure, x, **extra))
    return value * (100 if payload.get("percent") else payload.get("per") or 1)


def digits(payload: Mapping[str, Any]) -> int:
    """Decimals for natural-scale numbers: one for percentages, two otherwise."""
    return 1 if payload.get("percent") else 2


def null_value(payload: Mapping[str, Any]) -> float | None:
    """Where the line of no effect is drawn; None for proportions (no comparison)."""
    measure = payload.get("transform")
    if measure in PROPORTION_MEASURES + SINGLE_RATE_MEASURES + MEAN_MEASURES:
        return None
    if measure in CORRELATION_MEASURES:
        return 0.0
    return 1.0 if payload.get("ratio") else 0.0


def bounds(payload: Mapping[str, Any]) -> tuple[float, float] | None:
    """The range a natural-scale value can take, or None when unbounded."""
    measure = payload.get("transform")
    if measure in PROPORTION_MEASURES:
        return (0.0, 100.0) if payload.get("percent") else (0.0, 1.0)
    if measure in CORRELATION_MEASURES:
        return (-1.0, 1.0)
    if measure in SINGLE_RATE_MEASURES or measure == "MNLN":
        return (0.0, math.inf)
    return None


def axis_range(payload: Mapping[str, Any], xs: Sequence[float | None]) -> tuple[float, float]:
    """The data's range with a margin, kept within the measure's bounds."""
    finite = [x for x in xs if x is not None and math.isfinite(x)]
    lo_b, hi_b = bounds(payload) or (-math.inf, math.inf)
    if not finite:
        return (lo_b, hi_b) if math.isfinite(lo_b) else (-1.0, 1.0)
    null = null_value(payload)
    lo, hi = min(finite), max(finite)
    if null is not None:
        lo, hi = min(lo, null), max(hi, null)
    pad = max(hi - lo, 1e-9) * 0.08
    return max(lo - pad, lo_b), min(hi + pad, hi_b)
