"""Study-level effect sizes (metafor's ``escalc``), generic inverse variance and
the Cochrane Handbook conversions for missing SDs.

References
----------
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
J Stat Softw 36(3). Formulas follow ``metafor::escalc``.
Hedges LV (1981). Distribution theory for Glass's estimator of effect size.
J Educ Stat 6:107-128 (exact small-sample correction).
Lajeunesse MJ (2015). Bias and correction for the log response ratio. Ecology 96:2056-2063.
Higgins JPT et al. (eds). Cochrane Handbook, section 6.5.2 (SDs from SE, CI, t and p).
Wan X, Wang W, Liu J, Tong T (2014). Estimating the sample mean and standard deviation from
the sample size, median, range and/or interquartile range. BMC Med Res Methodol 14:135.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special

from ._checks import FloatArray, as_float_array, make_labels, require
from ._dist import alpha_from_level
from .measures import BINARY_MEASURES, CONTINUOUS_MEASURES, MEASURES, OTHER_MEASURES, escalc_other

RATIO_MEASURES = ("RR", "OR", "PETO", "ROM", "HR")

#: Measures whose estimate is undefined when both arms have zero events (or zero
#: non-events). RevMan reports such studies as "not estimable"; RD stays defined (0).
_UNDEFINED_FOR_DOUBLE_ZERO = ("RR", "OR", "PETO")


@dataclass(frozen=True)
class EffectSizes:
    """Per-study effect sizes with their sampling variances.

    ``yi`` and ``vi`` are read-only arrays in input order; a study whose effect is
    not estimable has ``NaN`` in both and the reason in ``notes``. Ratio measures
    are on the log scale.
    """

    measure: str
    yi: FloatArray
    vi: FloatArray
    labels: tuple[str, ...]
    notes: tuple[str | None, ...] = field(default=())
    settings: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for arr in (self.yi, self.vi):
            arr.setflags(write=False)
        if not self.notes:
            object.__setattr__(self, "notes", (None,) * len(self.yi))

    def __len__(self) -> int:
        return int(self.yi.shape[0])

    @property
    def sei(self) -> FloatArray:
        return np.sqrt(self.vi)

    @property
    def estimable(self) -> np.ndarray:
        return np.isfinite(self.yi) & np.isfinite(self.vi)

    def dropna(self) -> EffectSizes:
        """Keep only the estimable studies."""
        keep = self.estimable
        return EffectSizes(
            measure=self.measure,
            yi=self.yi[keep].copy(),
            vi=self.vi[keep].copy(),
            labels=tuple(lab for lab, k in zip(self.labels, keep, strict=True) if k),
            notes=tuple(n for n, k in zip(self.notes, keep, strict=True) if k),
            settings=dict(self.settings),
        )

    def to_dict(self) -> dict[str, Any]:
        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {
            "measure": self.measure,
            "settings": dict(self.settings),
            "studies": [
                {"study": lab, "yi": num(y), "vi": num(v), "note": note}
                for lab, y, v, note in zip(
                    self.labels, self.yi.tolist(), self.vi.tolist(), self.notes, strict=True
                )
            ],
        }


def _opt(x: Any, name: str, k: int | None) -> FloatArray | None:
    return None if x is None else as_float_array(x, name, k)


def _hedges_j(m: FloatArray) -> FloatArray:
    # Gamma ratio through lgamma: Gamma(m/2) overflows for m >= ~344.
    with np.errstate(invalid="ignore", divide="ignore"):
        j = np.exp(
            special.gammaln(m / 2.0) - 0.5 * np.log(m / 2.0) - special.gammaln((m - 1.0) / 2.0)
        )
    return np.where(m > 1, j, np.nan)


def escalc(
    measure: str,
    *,
    ai: Any = None,
    bi: Any = None,
    ci: Any = None,
    di: Any = None,
    n1i: Any = None,
    n2i: Any = None,
    m1i: Any = None,
    sd1i: Any = None,
    m2i: Any = None,
    sd2i: Any = None,
    xi: Any = None,
    mi: Any = None,
    ni: Any = None,
    ti: Any = None,
    x1i: Any = None,
    x2i: Any = None,
    t1i: Any = None,
    t2i: Any = None,
    ri: Any = None,
    sdi: Any = None,
    labels: Sequence[Any] | None = None,
    add: float | None = None,
    to: str = "only0",
    drop00: bool | None = None,
    vtype: str = "LS",
    correct: bool = True,
) -> EffectSizes:
    """Compute study effect sizes and sampling variances as ``metafor::escalc``.

    Parameters
    ----------
    measure
        Two groups: ``"SMD"`` (Hedges' g with the exact correction), ``"MD"``, ``"ROM"``
        (log ratio of means), ``"RR"``, ``"OR"`` (log scale), ``"RD"``, ``"PETO"`` (Peto log
        odds ratio), ``"IRR"``, ``"IRD"``, ``"IRSD"`` (rates), ``"VR"``, ``"CVR"``
        (variability). One group: ``"PR"``, ``"PLN"``, ``"PLO"``, ``"PAS"``, ``"PFT"``
        (proportions from ``xi`` with ``ni`` or ``mi``), ``"IR"``, ``"IRLN"``, ``"IRS"``,
        ``"IRFT"`` (rates from ``xi``, ``ti``), ``"MN"``, ``"MNLN"`` (``mi``, ``sdi``,
        ``ni``). Correlations ``"COR"``, ``"UCOR"``, ``"ZCOR"`` (``ri``, ``ni``). Paired
        designs ``"MC"``, ``"SMCC"``, ``"SMCR"``, ``"SMCRH"`` (``m1i m2i sd1i sd2i ni ri``;
        time 1 minus time 2). Definitions and defaults as metafor's; see
        docs/statistical-methods.md.
    xi, mi, ni, ti, x1i, x2i, t1i, t2i, ri, sdi
        metafor's arguments for the measures above.
    ai, bi, ci, di
        2x2 table: events and non-events in arm 1, events and non-events in arm 2.
        ``bi``/``di`` may be replaced by the arm totals ``n1i``/``n2i``.
    m1i, sd1i, n1i, m2i, sd2i, n2i
        Means, SDs and sizes of the two arms for continuous measures.
    labels
        Study labels used in messages and results.
    add, to
        Continuity correction: ``to="only0"`` (default) adds ``add`` to all four cells of a
        table with any zero cell; ``"all"``, ``"if0all"`` and ``"none"`` as in metafor.
        ``add`` defaults to 1/2, and to 0 for PAS, PFT, IRS, IRFT and IRSD (metafor).
    drop00
        Report studies with no events (or only events) in both arms as not estimable.
        Default: True for RR, OR and PETO (as RevMan), False for RD. metafor's ``escalc``
        default corresponds to ``drop00=False``.
    vtype
        Variance estimator: ``"LS"`` (default), ``"UB"``, ``"LS2"`` (SMD), ``"HO"`` (MD, ROM).
    correct
        SMD: apply Hedges' exact correction J. ROM: apply Lajeunesse's (2015) bias
        correction (metafor >= 5.0 default).

    Returns
    -------
    EffectSizes
        ``yi`` (log scale for ratios) and ``vi``; not-estimable studies carry NaN and a note.

    Raises
    ------
    ValueError
        Naming the study, for negative or missing counts, events > total, n < 2 (continuous),
        SD <= 0, or non-positive means for ROM.

    References
    ----------
    Viechtbauer (2010), J Stat Softw 36(3); Hedges (1981); Lajeunesse (2015).
    """
    measure = measure.upper()
    if measure in OTHER_MEASURES:
        data = {
            "xi": xi, "mi": mi, "ni": ni, "ti": ti, "x1i": x1i, "x2i": x2i, "t1i": t1i,
            "t2i": t2i, "ri": ri, "sdi": sdi, "m1i": m1i, "m2i": m2i, "sd1i": sd1i,
            "sd2i": sd2i, "n1i": n1i, "n2i": n2i,
        }  # fmt: skip
        yi, vi, labs, notes, settings = escalc_other(measure, data, labels, add, to, drop00, vtype)
        return _finish(measure, yi, vi, labs, notes, settings)
    add = 0.5 if add is None else add
    if measure in BINARY_MEASURES:
        return _escalc_binary(measure, ai, bi, ci, di, n1i, n2i, labels, add, to, drop00, vtype)
    if measure in CONTINUOUS_MEASURES:
        return _escalc_continuous(measure, m1i, sd1i, n1i, m2i, sd2i, n2i, labels, vtype, correct)
    raise ValueError(f"unknown measure {measure!r}; expected one of {', '.join(MEASURES)}")


def _finish(
    measure: str,
    yi: Any,
    vi: Any,
    labs: tuple[str, ...],
    notes: list[str | None],
    settings: dict[str, Any],
) -> EffectSizes:
    """NaN (with a note) wherever the estimate or a positive variance does not exist."""
    y = np.array(yi, dtype=np.float64)
    v = np.array(vi, dtype=np.float64)
    bad = ~(np.isfinite(y) & np.isfinite(v) & (v > 0))
    for i in np.flatnonzero(bad).tolist():
        note = notes[i]
        if note is None or not note.startswith("not estimable"):
            reason = "zero sampling variance" if np.isfinite(v[i]) and v[i] == 0 else "undefined"
            notes[i] = f"not estimable: {measure} {reason} for this study" + (
                f" ({note})" if note else ""
            )
    y[bad] = np.nan
    v[bad] = np.nan
    return EffectSizes(
        measure=measure, yi=y, vi=v, labels=labs, notes=tuple(notes), settings=settings
    )


def table_2x2(
    ai: Any, bi: Any, ci: Any, di: Any, n1i: Any, n2i: Any, labels: Sequence[Any] | None
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, tuple[str, ...]]:
    """Validate a 2x2 table given as (ai, bi, ci, di) or (ai, n1i, ci, n2i)."""
    if ai is None or ci is None:
        raise ValueError("2x2 measures need ai and ci (events in each arm)")
    a = as_float_array(ai, "ai")
    k = a.shape[0]
    c = as_float_array(ci, "ci", k)
    labs = make_labels(labels, k)
    for arr, name in ((a, "ai"), (c, "ci")):
        require(~np.isfinite(arr), labs, f"{name} is missing or not finite")
        require(arr < 0, labs, f"{name} (events) is negative")
    if bi is not None and di is not None:
        b = as_float_array(bi, "bi", k)
        d = as_float_array(di, "di", k)
        for arr, name in ((b, "bi"), (d, "di")):
            require(~np.isfinite(arr), labs, f"{name} is missing or not finite")
            require(arr < 0, labs, f"{name} (non-events) is negative")
    elif n1i is not None and n2i is not None:
        n1 = as_float_array(n1i, "n1i", k)
        n2 = as_float_array(n2i, "n2i", k)
        for arr, name in ((n1, "n1i"), (n2, "n2i")):
            require(~np.isfinite(arr), labs, f"{name} is missing or not finite")
            require(arr < 1, labs, f"{name} (arm size) must be at least 1")
        require(a > n1, labs, "events ai exceed the arm total n1i")
        require(c > n2, labs, "events ci exceed the arm total n2i")
        b, d = n1 - a, n2 - c
    else:
        raise ValueError("2x2 measures need bi and di, or the arm totals n1i and n2i")
    require(a + b < 1, labs, "arm 1 has no participants")
    require(c + d < 1, labs, "arm 2 has no participants")
    return a, b, c, d, labs


def _escalc_binary(
    measure: str,
    ai: Any,
    bi: Any,
    ci: Any,
    di: Any,
    n1i: Any,
    n2i: Any,
    labels: Sequence[Any] | None,
    add: float,
    to: str,
    drop00: bool | None,
    vtype: str,
) -> EffectSizes:
    a, b, c, d, labs = table_2x2(ai, bi, ci, di, n1i, n2i, labels)
    k = a.shape[0]
    if drop00 is None:
        drop00 = measure in _UNDEFINED_FOR_DOUBLE_ZERO
    if to not in ("only0", "all", "if0all", "none"):
        raise ValueError(f"to must be 'only0', 'all', 'if0all' or 'none', got {to!r}")
    if vtype not in ("LS", "UB"):
        raise ValueError(f"vtype {vtype!r} is not supported for {measure}")
    notes: list[str | None] = [None] * k
    double_zero = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))
    a, b, c, d = a.copy(), b.copy(), c.copy(), d.copy()
    any_zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    if to == "all":
        corrected = np.ones(k, dtype=bool)
    elif to == "only0":
        corrected = any_zero.copy()
    elif to == "if0all":
        corrected = np.full(k, bool(any_zero.any()))
    else:
        corrected = np.zeros(k, dtype=bool)
    if add == 0:
        corrected[:] = False
    if drop00:
        corrected &= ~double_zero
    a[corrected] += add
    b[corrected] += add
    c[corrected] += add
    d[corrected] += add
    n1, n2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "RR":
            yi = np.log(a / n1) - np.log(c / n2)
            vi = 1 / a - 1 / n1 + 1 / c - 1 / n2
        elif measure == "OR":
            yi = np.log(a * d / (b * c))
            vi = 1 / a + 1 / b + 1 / c + 1 / d
        elif measure == "RD":
            p1, p2 = a / n1, c / n2
            yi = p1 - p2
            if vtype == "UB":
                vi = p1 * (1 - p1) / (n1 - 1) + p2 * (1 - p2) / (n2 - 1)
            else:
                vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
        else:  # PETO
            n = n1 + n2
            xt = a + c
            yt = b + d
            e = xt * n1 / n
            var = xt * yt * (n1 / n) * (n2 / n) / (n - 1)
            yi = (a - e) / var
            vi = 1 / var
    yi = np.asarray(yi, dtype=np.float64)
    vi = np.asarray(vi, dtype=np.float64)
    for i in range(k):
        if corrected[i]:
            notes[i] = f"{add:g} added to each cell (zero cell)"
    if drop00:
        for i in np.flatnonzero(double_zero).tolist():
            notes[i] = f"not estimable: no events (or no non-events) in either arm ({measure})"
        yi[double_zero] = np.nan
        vi[double_zero] = np.nan
    bad = ~(np.isfinite(yi) & np.isfinite(vi) & (vi > 0))
    for i in np.flatnonzero(bad).tolist():
        note = notes[i]
        if note is None or not note.startswith("not estimable"):
            notes[i] = f"not estimable: {measure} undefined for this table"
    yi[bad] = np.nan
    vi[bad] = np.nan
    return EffectSizes(
        measure=measure,
        yi=yi,
        vi=vi,
        labels=labs,
        notes=tuple(notes),
        settings={"add": add, "to": to, "drop00": drop00, "vtype": vtype},
    )


def _escalc_continuous(
    measure: str,
    m1i: Any,
    sd1i: Any,
    n1i: Any,
    m2i: Any,
    sd2i: Any,
    n2i: Any,
    labels: Sequence[Any] | None,
    vtype: str,
    correct: bool,
) -> EffectSizes:
    if any(x is None for x in (m1i, sd1i, n1i, m2i, sd2i, n2i)):
        raise ValueError(f"{measure} needs m1i, sd1i, n1i, m2i, sd2i and n2i")
    m1 = as_float_array(m1i, "m1i")
    k = m1.shape[0]
    s1, n1, m2, s2, n2 = (
        as_float_array(x, name, k)
        for x, name in ((sd1i, "sd1i"), (n1i, "n1i"), (m2i, "m2i"), (sd2i, "sd2i"), (n2i, "n2i"))
    )
    labs = make_labels(labels, k)
    for arr, name in (
        (m1, "m1i"),
        (s1, "sd1i"),
        (n1, "n1i"),
        (m2, "m2i"),
        (s2, "sd2i"),
        (n2, "n2i"),
    ):
        require(~np.isfinite(arr), labs, f"{name} is missing or not finite")
    require(n1 < 2, labs, "n1i must be at least 2")
    require(n2 < 2, labs, "n2i must be at least 2")
    require(s1 <= 0, labs, "sd1i must be positive")
    require(s2 <= 0, labs, "sd2i must be positive")
    nt = n1 + n2
    m = nt - 2
    sp2 = ((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / m
    settings: dict[str, Any] = {"vtype": vtype, "correct": correct}
    if measure == "MD":
        yi = m1 - m2
        if vtype in ("LS", "UB"):
            vi = s1**2 / n1 + s2**2 / n2
        elif vtype == "HO":
            vi = sp2 * (1 / n1 + 1 / n2)
        else:
            raise ValueError(f"vtype {vtype!r} is not supported for MD")
        settings.pop("correct")
    elif measure == "SMD":
        j = _hedges_j(m) if correct else np.ones(k)
        dval = (m1 - m2) / np.sqrt(sp2)
        yi = j * dval
        if vtype == "LS":
            vi = 1 / n1 + 1 / n2 + yi**2 / (2 * nt)
        elif vtype == "LS2":
            vi = j**2 * (1 / n1 + 1 / n2 + dval**2 / (2 * nt))
        elif vtype == "UB":
            vi = 1 / n1 + 1 / n2 + (1 - (m - 2) / (m * j**2)) * yi**2
        else:
            raise ValueError(f"vtype {vtype!r} is not supported for SMD")
    else:  # ROM
        require(m1 <= 0, labs, "m1i must be positive for the ratio of means")
        require(m2 <= 0, labs, "m2i must be positive for the ratio of means")
        if vtype in ("LS", "UB"):
            t1, t2 = s1**2 / (n1 * m1**2), s2**2 / (n2 * m2**2)
        elif vtype == "HO":
            t1, t2 = sp2 / (n1 * m1**2), sp2 / (n2 * m2**2)
        else:
            raise ValueError(f"vtype {vtype!r} is not supported for ROM")
        yi = np.log(m1 / m2)
        if correct:
            yi = yi + 0.5 * (s1**2 / (n1 * m1**2) - s2**2 / (n2 * m2**2))
        vi = t1 + t2
    return EffectSizes(
        measure=measure,
        yi=np.asarray(yi, dtype=np.float64),
        vi=np.asarray(vi, dtype=np.float64),
        labels=labs,
        settings=settings,
    )


def generic_iv(
    estimate: Any,
    *,
    se: Any = None,
    ci_lb: Any = None,
    ci_ub: Any = None,
    pval: Any = None,
    ratio: bool = False,
    level: float = 95,
    measure: str = "GEN",
    labels: Sequence[Any] | None = None,
) -> EffectSizes:
    """Generic inverse-variance input from a reported estimate with its SE, CI or p-value.

    Per study the first available of SE, the two CI bounds, the upper bound alone and the
    two-sided p-value is used (metafor ``conv.wald`` prefers the CI over the p-value).
    Ratio estimates (OR, RR, HR) are taken to the log scale first (Handbook 6.3.2):
    ``SE = (ln U - ln L) / (2 z)`` with ``z = qnorm(1 - alpha/2)``.

    References
    ----------
    Higgins JPT et al. Cochrane Handbook section 6.3; metafor ``conv.wald``.
    """
    est = as_float_array(estimate, "estimate")
    k = est.shape[0]
    labs = make_labels(labels, k)
    nan = np.full(k, np.nan)
    se_ = _opt(se, "se", k)
    lb = _opt(ci_lb, "ci_lb", k)
    ub = _opt(ci_ub, "ci_ub", k)
    p = _opt(pval, "pval", k)
    se_ = nan if se_ is None else se_
    lb = nan if lb is None else lb
    ub = nan if ub is None else ub
    p = nan if p is None else p
    require(~np.isfinite(est), labs, "the estimate is missing")
    if ratio:
        require(est <= 0, labs, "a ratio estimate must be positive")
        require(lb <= 0, labs, "a ratio CI bound must be positive")
        require(ub <= 0, labs, "a ratio CI bound must be positive")
        with np.errstate(divide="ignore", invalid="ignore"):
            y, lb, ub = np.log(est), np.log(lb), np.log(ub)
    else:
        y = est.copy()
    crit = float(special.ndtri(1 - alpha_from_level(level) / 2))
    require(se_ <= 0, labs, "the standard error must be positive")
    require(
        np.isfinite(lb) & np.isfinite(ub) & (ub <= lb),
        labs,
        "the CI upper bound must exceed the lower bound",
    )
    require(
        np.isfinite(ub) & ~np.isfinite(lb) & (ub <= y),
        labs,
        "the CI upper bound must exceed the estimate",
    )
    require((p <= 0) | (p > 1), labs, "the p-value must be in (0, 1]")
    vi = np.full(k, np.nan)
    notes: list[str | None] = [None] * k
    for i in range(k):
        if np.isfinite(se_[i]):
            vi[i] = se_[i] ** 2
        elif np.isfinite(lb[i]) and np.isfinite(ub[i]):
            vi[i] = ((ub[i] - lb[i]) / (2 * crit)) ** 2
            if abs((lb[i] + ub[i]) / 2 - y[i]) / (ub[i] - lb[i]) > 0.10:
                notes[i] = "CI is not symmetric around the estimate on the analysis scale"
        elif np.isfinite(ub[i]):
            vi[i] = ((ub[i] - y[i]) / crit) ** 2
        elif np.isfinite(p[i]) and y[i] != 0:
            z = float(special.ndtri(1 - p[i] / 2))
            vi[i] = (y[i] / z) ** 2 if z > 0 else np.nan
        if not np.isfinite(vi[i]):
            raise ValueError(
                f"{_name(labs, i)}: need a standard error, a confidence interval or a p-value"
            )
    return EffectSizes(
        measure=measure,
        yi=np.asarray(y, dtype=np.float64),
        vi=vi,
        labels=labs,
        notes=tuple(notes),
        settings={"level": level, "ratio": ratio},
    )


def _name(labs: Sequence[str], i: int) -> str:
    from ._checks import study_name

    return study_name(labs, i)


# --- Cochrane Handbook 6.5.2 conversions -------------------------------------------------


def _crit_for_n(n: FloatArray, level: float, dist: str) -> FloatArray:
    alpha = alpha_from_level(level)
    if dist not in ("auto", "t", "z"):
        raise ValueError(f"dist must be 'auto', 't' or 'z', got {dist!r}")
    z = special.ndtri(1 - alpha / 2)
    t = special.stdtrit(n - 1, 1 - alpha / 2)
    if dist == "z":
        return np.full_like(n, z)
    if dist == "t":
        return np.asarray(t, dtype=np.float64)
    # The Handbook: small samples (fewer than about 60 per group) used a t quantile.
    return np.where(n < 60, t, z)


def sd_from_se(se: Any, n: Any) -> FloatArray:
    """SD of a group mean from its standard error: ``SD = SE * sqrt(n)`` (Handbook 6.5.2.2)."""
    s = as_float_array(se, "se")
    nn = as_float_array(n, "n", s.shape[0])
    _positive(s, "se")
    _positive(nn - 1, "n - 1")
    return s * np.sqrt(nn)


def sd_from_ci(
    ci_lb: Any, ci_ub: Any, n: Any, *, level: float = 95, dist: str = "auto"
) -> FloatArray:
    """SD of a group from the CI of its mean: ``SD = sqrt(n) (U - L) / (2 crit)``.

    ``dist="auto"`` uses ``t`` with n - 1 df below 60 participants and ``z`` above, as the
    Handbook (6.5.2.2) suggests; ``"t"`` or ``"z"`` force one.
    """
    lb = as_float_array(ci_lb, "ci_lb")
    ub = as_float_array(ci_ub, "ci_ub", lb.shape[0])
    nn = as_float_array(n, "n", lb.shape[0])
    _positive(ub - lb, "ci_ub - ci_lb")
    _positive(nn - 1, "n - 1")
    return np.sqrt(nn) * (ub - lb) / (2 * _crit_for_n(nn, level, dist))


def sd_from_md_ci(
    ci_lb: Any, ci_ub: Any, n1: Any, n2: Any, *, level: float = 95, dist: str = "auto"
) -> FloatArray:
    """Pooled within-group SD from the CI of a difference in means (Handbook 6.5.2.3).

    ``SE = (U - L) / (2 crit)`` with ``crit`` from t with n1 + n2 - 2 df (``dist="auto"``
    switches to z when n1 + n2 - 1 >= 60); ``SD = SE / sqrt(1/n1 + 1/n2)``.
    """
    lb = as_float_array(ci_lb, "ci_lb")
    k = lb.shape[0]
    ub = as_float_array(ci_ub, "ci_ub", k)
    a = as_float_array(n1, "n1", k)
    b = as_float_array(n2, "n2", k)
    _positive(ub - lb, "ci_ub - ci_lb")
    crit = _crit_for_n(a + b - 1, level, dist)
    se = (ub - lb) / (2 * crit)
    return se / np.sqrt(1 / a + 1 / b)


def sd_from_t(md: Any, t: Any, n1: Any, n2: Any) -> FloatArray:
    """Pooled SD from a two-sample t statistic: ``SE = MD / t``, ``SD = SE / sqrt(1/n1 + 1/n2)``."""
    d = as_float_array(md, "md")
    k = d.shape[0]
    tt = as_float_array(t, "t", k)
    a = as_float_array(n1, "n1", k)
    b = as_float_array(n2, "n2", k)
    _positive(np.abs(tt), "|t|")
    return np.abs(d / tt) / np.sqrt(1 / a + 1 / b)


def sd_from_p(md: Any, p: Any, n1: Any, n2: Any) -> FloatArray:
    """Pooled SD from a two-sided p-value of a two-sample t test (Handbook 6.5.2.3).

    The t value is the ``1 - p/2`` quantile of t with n1 + n2 - 2 df.
    """
    d = as_float_array(md, "md")
    k = d.shape[0]
    pp = as_float_array(p, "p", k)
    a = as_float_array(n1, "n1", k)
    b = as_float_array(n2, "n2", k)
    if np.any((pp <= 0) | (pp >= 1)):
        raise ValueError("p-values must be in (0, 1)")
    t = special.stdtrit(a + b - 2, 1 - pp / 2)
    return sd_from_t(d, t, a, b)


def mean_sd_from_median_iqr(q1: Any, median: Any, q3: Any, n: Any) -> tuple[FloatArray, FloatArray]:
    """Wan et al. (2014) scenario C3: mean ~ (q1 + m + q3)/3, SD ~ (q3 - q1)/eta(n),
    eta(n) = 2 Phi^-1((0.75 n - 0.125)/(n + 0.25))."""
    a = as_float_array(q1, "q1")
    k = a.shape[0]
    m = as_float_array(median, "median", k)
    b = as_float_array(q3, "q3", k)
    nn = as_float_array(n, "n", k)
    _ordered(a, m, b, "q1 <= median <= q3")
    _positive(nn - 1, "n - 1")
    eta = 2 * special.ndtri((0.75 * nn - 0.125) / (nn + 0.25))
    return (a + m + b) / 3, (b - a) / eta


def mean_sd_from_median_range(
    minimum: Any, median: Any, maximum: Any, n: Any
) -> tuple[FloatArray, FloatArray]:
    """Wan et al. (2014) scenario C1: mean ~ (a + 2m + b)/4, SD ~ (b - a)/xi(n),
    xi(n) = 2 Phi^-1((n - 0.375)/(n + 0.25))."""
    a = as_float_array(minimum, "minimum")
    k = a.shape[0]
    m = as_float_array(median, "median", k)
    b = as_float_array(maximum, "maximum", k)
    nn = as_float_array(n, "n", k)
    _ordered(a, m, b, "minimum <= median <= maximum")
    _positive(nn - 1, "n - 1")
    xi = 2 * special.ndtri((nn - 0.375) / (nn + 0.25))
    return (a + 2 * m + b) / 4, (b - a) / xi


def mean_sd_from_five_numbers(
    minimum: Any, q1: Any, median: Any, q3: Any, maximum: Any, n: Any
) -> tuple[FloatArray, FloatArray]:
    """Wan et al. (2014) scenario C2: mean ~ (a + 2q1 + 2m + 2q3 + b)/8,
    SD ~ (b - a)/(2 xi(n)) + (q3 - q1)/(2 eta(n))."""
    a = as_float_array(minimum, "minimum")
    k = a.shape[0]
    lo = as_float_array(q1, "q1", k)
    m = as_float_array(median, "median", k)
    hi = as_float_array(q3, "q3", k)
    b = as_float_array(maximum, "maximum", k)
    nn = as_float_array(n, "n", k)
    _ordered(a, lo, m, "minimum <= q1 <= median")
    _ordered(m, hi, b, "median <= q3 <= maximum")
    _positive(nn - 1, "n - 1")
    xi = 2 * special.ndtri((nn - 0.375) / (nn + 0.25))
    eta = 2 * special.ndtri((0.75 * nn - 0.125) / (nn + 0.25))
    return (a + 2 * lo + 2 * m + 2 * hi + b) / 8, (b - a) / (2 * xi) + (hi - lo) / (2 * eta)


def _positive(x: FloatArray, name: str) -> None:
    bad = ~(np.isfinite(x) & (x > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"study {i + 1}: {name} must be positive")


def _ordered(a: FloatArray, b: FloatArray, c: FloatArray, what: str) -> None:
    bad = ~((a <= b) & (b <= c))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"study {i + 1}: need {what}")


__all__ = [
    "EffectSizes",
    "escalc",
    "generic_iv",
    "sd_from_se",
    "sd_from_ci",
    "sd_from_md_ci",
    "sd_from_t",
    "sd_from_p",
    "mean_sd_from_median_iqr",
    "mean_sd_from_median_range",
    "mean_sd_from_five_numbers",
    "MEASURES",
    "RATIO_MEASURES",
]
