"""Single-group, rate, correlation, change-score, mean and variability measures of
``metafor::escalc`` (metafor's names, definitions, defaults and argument names), and the
back-transformations that show them on their natural scale (``transform``).

References
----------
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
J Stat Softw 36(3); formulas follow ``metafor::escalc`` and its ``transf.*`` functions.
Freeman MF, Tukey JW (1950). Transformations related to the angular and the square root.
Ann Math Stat 21:607-611. Miller JJ (1978). The inverse of the Freeman-Tukey double
arcsine transformation. Am Stat 32:138.
Olkin I, Pratt JW (1958). Unbiased estimation of certain correlation coefficients.
Ann Math Stat 29:201-211 (UCOR). Fisher RA (1921). Metron 1:3-32 (ZCOR).
Gibbons RD, Hedeker DR, Davis JM (1993). Estimation of effect size from a series of
experiments involving paired comparisons. J Educ Stat 18:271-279 (SMCC).
Becker BJ (1988). Synthesizing standardized mean-change measures. Br J Math Stat Psychol
41:257-278 (SMCR). Bonett DG (2008). Confidence intervals for standardized linear
contrasts of means. Psychol Methods 13:99-109 (SMCRH).
Nakagawa S et al. (2015). Meta-analysis of variation: ecological and evolutionary
applications and beyond. Methods Ecol Evol 6:143-152 (VR, CVR).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import special

from ._checks import FloatArray, as_float_array, make_labels, require

PROPORTION_MEASURES = ("PR", "PLN", "PLO", "PAS", "PFT")
RATE_MEASURES = ("IR", "IRLN", "IRS", "IRFT")
RATE_PAIR_MEASURES = ("IRR", "IRD", "IRSD")
CORRELATION_MEASURES = ("COR", "UCOR", "ZCOR")
CHANGE_MEASURES = ("MC", "SMCC", "SMCR", "SMCRH")
MEAN_MEASURES = ("MN", "MNLN")
VARIABILITY_MEASURES = ("VR", "CVR")
OTHER_MEASURES = (
    PROPORTION_MEASURES
    + RATE_MEASURES
    + RATE_PAIR_MEASURES
    + CORRELATION_MEASURES
    + CHANGE_MEASURES
    + MEAN_MEASURES
    + VARIABILITY_MEASURES
)
BINARY_MEASURES = ("RR", "OR", "RD", "PETO")
CONTINUOUS_MEASURES = ("SMD", "MD", "ROM")
#: Every measure escalc computes (metafor's names). Defined here, not in effect_sizes, which
#: imports this module: `transform` needs the list too, and the two must not import each other.
MEASURES = BINARY_MEASURES + CONTINUOUS_MEASURES + OTHER_MEASURES

#: metafor's ``add`` is 0 for these (the transformation needs no correction), 1/2 otherwise.
_NO_ADD = ("PAS", "PFT", "IRS", "IRFT", "IRSD")

#: Measures analysed on the log scale: shown on the natural scale with exp.
LOG_MEASURES = ("RR", "OR", "PETO", "ROM", "HR", "IRR", "PLN", "IRLN", "MNLN", "VR", "CVR")

Result = tuple[FloatArray, FloatArray, tuple[str, ...], list[str | None], dict[str, Any]]


def default_add(measure: str) -> float:
    return 0.0 if measure in _NO_ADD else 0.5


def _need(measure: str, what: str, *values: Any) -> None:
    if any(v is None for v in values):
        raise ValueError(f"{measure} needs {what}")


def _arrays(
    labels: Sequence[Any] | None, **named: Any
) -> tuple[dict[str, FloatArray], tuple[str, ...]]:
    """Validated float arrays of one length; missing values are named by study."""
    out: dict[str, FloatArray] = {}
    k: int | None = None
    for name, value in named.items():
        a = as_float_array(value, name, k)
        k = a.shape[0] if k is None else k
        out[name] = a
    labs = make_labels(labels, k or 0)
    for name, a in out.items():
        require(~np.isfinite(a), labs, f"{name} is missing or not finite")
    return out, labs


def _correction(zero: np.ndarray, add: float, to: str) -> np.ndarray:
    """Which studies get ``add`` (metafor's ``to`` argument)."""
    if to not in ("only0", "all", "if0all", "none"):
        raise ValueError(f"to must be 'only0', 'all', 'if0all' or 'none', got {to!r}")
    if add == 0 or to == "none":
        return np.zeros(zero.shape, dtype=bool)
    if to == "all":
        return np.ones(zero.shape, dtype=bool)
    if to == "if0all":
        return np.full(zero.shape, bool(zero.any()))
    return zero.copy()


def _vtypes(measure: str, vtype: str, allowed: Sequence[str]) -> str:
    if vtype not in allowed:
        raise ValueError(
            f"vtype {vtype!r} is not supported for {measure}; use {', '.join(allowed)}"
        )
    return vtype


def _wmean(x: FloatArray, w: FloatArray) -> float:
    ok = np.isfinite(x) & np.isfinite(w)
    return float(np.sum(x[ok] * w[ok]) / np.sum(w[ok]))


def _hedges_j(m: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        j = np.exp(
            special.gammaln(m / 2.0) - 0.5 * np.log(m / 2.0) - special.gammaln((m - 1.0) / 2.0)
        )
    return np.where(m > 1, j, np.nan)


def escalc_other(
    measure: str,
    data: dict[str, Any],
    labels: Sequence[Any] | None,
    add: float | None,
    to: str,
    drop00: bool | None,
    vtype: str,
) -> Result:
    """Dispatch for the measures of this module; ``data`` holds escalc's keyword arguments."""
    add = default_add(measure) if add is None else float(add)
    if measure in PROPORTION_MEASURES:
        return _proportion(measure, data, labels, add, to, vtype)
    if measure in RATE_MEASURES:
        return _rate(measure, data, labels, add, to)
    if measure in RATE_PAIR_MEASURES:
        return _rate_pair(measure, data, labels, add, to, bool(drop00))
    if measure in CORRELATION_MEASURES:
        return _correlation(measure, data, labels, vtype)
    if measure in CHANGE_MEASURES:
        return _change(measure, data, labels, vtype)
    if measure in MEAN_MEASURES:
        return _mean(measure, data, labels)
    return _variability(measure, data, labels)


# --- single proportions ----------------------------------------------------------------


def _proportion(
    measure: str,
    data: dict[str, Any],
    labels: Sequence[Any] | None,
    add: float,
    to: str,
    vtype: str,
) -> Result:
    xi, mi, ni = data.get("xi"), data.get("mi"), data.get("ni")
    if xi is None or (mi is None and ni is None):
        raise ValueError(f"{measure} needs xi with ni or mi (events and total or non-events)")
    given = {
        "xi": xi,
        **({"mi": mi} if mi is not None else {}),
        **({"ni": ni} if ni is not None else {}),
    }
    a, labs = _arrays(labels, **given)
    x = a["xi"]
    require(x < 0, labs, "xi (events) is negative")
    if "ni" in a:
        require(x > a["ni"], labs, "xi (events) exceeds ni")
        if "mi" in a:
            require(a["ni"] != x + a["mi"], labs, "ni is not xi + mi")
        m = a["ni"] - x
    else:
        m = a["mi"]
    require(m < 0, labs, "mi (non-events) is negative")
    require(x + m <= 0, labs, "ni must be positive")
    allowed = {"PR": ("LS", "UB", "AV"), "PLN": ("LS", "AV"), "PLO": ("LS", "AV")}
    vt = _vtypes(measure, vtype, allowed.get(measure, ("LS",)))
    fix = _correction((x == 0) | (m == 0), add, to)
    x = np.where(fix, x + add, x)
    m = np.where(fix, m + add, m)
    n = x + m
    p = x / n
    pbar = _wmean(p, n) if vt == "AV" else math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "PR":
            yi = p
            vi = {"LS": p * (1 - p) / n, "UB": p * (1 - p) / (n - 1), "AV": pbar * (1 - pbar) / n}[
                vt
            ]
        elif measure == "PLN":
            yi = np.log(p)
            vi = 1 / x - 1 / n if vt == "LS" else 1 / (pbar * n) - 1 / n
        elif measure == "PLO":
            yi = np.log(p / (1 - p))
            vi = 1 / x + 1 / m if vt == "LS" else 1 / (pbar * n) + 1 / ((1 - pbar) * n)
        elif measure == "PAS":
            yi = np.arcsin(np.sqrt(p))
            vi = 1 / (4 * n)
        else:  # PFT
            yi = 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))
            vi = 1 / (4 * n + 2)
    notes = _notes(fix, f"{add:g} added to xi and mi (zero cell)")
    return yi, vi, labs, notes, {"add": add, "to": to, "vtype": vt}


# --- single rates ----------------------------------------------------------------------


def _rate(
    measure: str, data: dict[str, Any], labels: Sequence[Any] | None, add: float, to: str
) -> Result:
    _need(measure, "xi and ti (events and person-time)", data.get("xi"), data.get("ti"))
    a, labs = _arrays(labels, xi=data["xi"], ti=data["ti"])
    x, t = a["xi"], a["ti"]
    require(x < 0, labs, "xi (events) is negative")
    require(t <= 0, labs, "ti (person-time) must be positive")
    fix = _correction(x == 0, add, to)
    x = np.where(fix, x + add, x)
    rate = x / t
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "IR":
            yi, vi = rate, rate / t
        elif measure == "IRLN":
            yi, vi = np.log(rate), 1 / x
        elif measure == "IRS":
            yi, vi = np.sqrt(rate), 1 / (4 * t)
        else:  # IRFT
            yi, vi = 0.5 * (np.sqrt(rate) + np.sqrt(rate + 1 / t)), 1 / (4 * t)
    notes = _notes(fix, f"{add:g} added to xi (zero count)")
    return yi, vi, labs, notes, {"add": add, "to": to}


def _rate_pair(
    measure: str,
    data: dict[str, Any],
    labels: Sequence[Any] | None,
    add: float,
    to: str,
    drop00: bool,
) -> Result:
    names = ("x1i", "t1i", "x2i", "t2i")
    _need(measure, "x1i, t1i, x2i and t2i", *(data.get(n) for n in names))
    a, labs = _arrays(labels, **{n: data[n] for n in names})
    x1, t1, x2, t2 = (a[n] for n in names)
    require(x1 < 0, labs, "x1i (events) is negative")
    require(x2 < 0, labs, "x2i (events) is negative")
    require(t1 <= 0, labs, "t1i (person-time) must be positive")
    require(t2 <= 0, labs, "t2i (person-time) must be positive")
    both_zero = (x1 == 0) & (x2 == 0)
    fix = _correction((x1 == 0) | (x2 == 0), add, to)
    if drop00:
        fix &= ~both_zero
    x1 = np.where(fix, x1 + add, x1)
    x2 = np.where(fix, x2 + add, x2)
    r1, r2 = x1 / t1, x2 / t2
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "IRR":
            yi, vi = np.log(r1) - np.log(r2), 1 / x1 + 1 / x2
        elif measure == "IRD":
            yi, vi = r1 - r2, r1 / t1 + r2 / t2
        else:  # IRSD
            yi, vi = np.sqrt(r1) - np.sqrt(r2), 1 / (4 * t1) + 1 / (4 * t2)
    notes = _notes(fix, f"{add:g} added to x1i and x2i (zero count)")
    if drop00:
        yi = np.where(both_zero, np.nan, yi)
        vi = np.where(both_zero, np.nan, vi)
        for i in np.flatnonzero(both_zero).tolist():
            notes[i] = f"not estimable: no events in either group ({measure})"
    return yi, vi, labs, notes, {"add": add, "to": to, "drop00": drop00}


# --- correlations ----------------------------------------------------------------------


def _correlation(
    measure: str, data: dict[str, Any], labels: Sequence[Any] | None, vtype: str
) -> Result:
    _need(measure, "ri and ni (correlation and sample size)", data.get("ri"), data.get("ni"))
    a, labs = _arrays(labels, ri=data["ri"], ni=data["ni"])
    r, n = a["ri"], a["ni"]
    require(np.abs(r) > 1, labs, "ri must be between -1 and 1")
    require(n <= 0, labs, "ni must be positive")
    allowed = {"COR": ("LS", "AV"), "UCOR": ("LS", "UB", "AV"), "ZCOR": ("LS",)}
    vt = _vtypes(measure, vtype, allowed[measure])
    notes: list[str | None] = [None] * r.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "ZCOR":
            yi = np.arctanh(r)
            vi = 1 / (n - 3)
        else:
            # UCOR (Olkin-Pratt): r 2F1(1/2, 1/2; (n - 2)/2; 1 - r^2), defined for n > 4.
            yi = r.copy() if measure == "COR" else r * _hyp2f1(0.5, 0.5, (n - 2) / 2, 1 - r**2)
            if vt == "LS":
                vi = (1 - yi**2) ** 2 / (n - 1)
            elif vt == "AV":
                ybar = _wmean(yi, n)
                vi = (1 - ybar**2) ** 2 / (n - 1)
            else:  # UB (UCOR only)
                vi = yi**2 - (
                    1 - (n - 3) / (n - 2) * (1 - r**2) * _hyp2f1(1.0, 1.0, n / 2, 1 - r**2)
                )
    small = n <= (4 if measure == "UCOR" else 3)
    vi = np.where(n <= 3, np.nan, vi)
    for i in np.flatnonzero(small).tolist():
        notes[i] = (
            f"not estimable: {measure} needs more than {4 if measure == 'UCOR' else 3} participants"
        )
    return yi, vi, labs, notes, {"vtype": vt}


def _hyp2f1(a: float, b: float, c: FloatArray, x: FloatArray) -> FloatArray:
    """Gauss's 2F1(a, b; c; x) per study, NaN unless c > a + b (metafor's ``.Fcalc``).

    scipy's ``hyp2f1`` returns NaN for x near 1 with large c (n >= 208 here), exactly the
    UCOR case; mpmath evaluates it to full double precision there.
    """
    import mpmath

    out = np.full(c.shape, np.nan)
    for i, (ci, xi) in enumerate(zip(c.tolist(), x.tolist(), strict=True)):
        if math.isfinite(ci) and math.isfinite(xi) and ci > a + b:
            out[i] = float(mpmath.hyp2f1(a, b, ci, xi))
    return out


# --- paired designs and change scores ----------------------------------------------------


def _change(measure: str, data: dict[str, Any], labels: Sequence[Any] | None, vtype: str) -> Result:
    names = ["m1i", "m2i", "sd1i", "sd2i", "ni", "ri"]
    if measure == "SMCR":
        names.remove("sd2i")
    _need(measure, ", ".join(names[:-1]) + " and " + names[-1], *(data.get(n) for n in names))
    a, labs = _arrays(labels, **{n: data[n] for n in names})
    m1, m2, s1, n, r = a["m1i"], a["m2i"], a["sd1i"], a["ni"], a["ri"]
    s2 = a.get("sd2i")
    require(s1 < 0, labs, "sd1i must not be negative")
    if s2 is not None:
        require(s2 < 0, labs, "sd2i must not be negative")
    require(np.abs(r) > 1, labs, "ri must be between -1 and 1")
    require(n <= 0, labs, "ni must be positive")
    allowed = {"SMCC": ("LS", "LS2"), "SMCR": ("LS", "LS2")}
    vt = _vtypes(measure, vtype, allowed.get(measure, ("LS",)))
    j = _hedges_j(n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "MC":
            assert s2 is not None
            yi = m1 - m2
            vi = (s1**2 + s2**2 - 2 * r * s1 * s2) / n
        elif measure == "SMCC":
            assert s2 is not None
            d = (m1 - m2) / np.sqrt(s1**2 + s2**2 - 2 * r * s1 * s2)
            yi = j * d
            vi = 1 / n + yi**2 / (2 * n) if vt == "LS" else j**2 * (1 / n + d**2 / (2 * n))
        elif measure == "SMCR":
            d = (m1 - m2) / s1
            yi = j * d
            if vt == "LS":
                vi = 2 * (1 - r) / n + yi**2 / (2 * n)
            else:
                vi = j**2 * (2 * (1 - r) / n + d**2 / (2 * n))
        else:  # SMCRH
            assert s2 is not None
            vard = s1**2 + s2**2 - 2 * r * s1 * s2
            yi = j * (m1 - m2) / s1
            vi = j**2 * (vard / (s1**2 * (n - 1)) + yi**2 / (2 * (n - 1)))
    return yi, vi, labs, [None] * m1.shape[0], {"vtype": vt}


# --- single means and variability ratios -------------------------------------------------


def _mean(measure: str, data: dict[str, Any], labels: Sequence[Any] | None) -> Result:
    _need(
        measure,
        "mi, sdi and ni (mean, SD and sample size)",
        data.get("mi"),
        data.get("sdi"),
        data.get("ni"),
    )
    a, labs = _arrays(labels, mi=data["mi"], sdi=data["sdi"], ni=data["ni"])
    m, s, n = a["mi"], a["sdi"], a["ni"]
    require(s < 0, labs, "sdi must not be negative")
    require(n <= 0, labs, "ni must be positive")
    if measure == "MN":
        yi, vi = m, s**2 / n
    else:
        require(m <= 0, labs, "mi must be positive for the log-transformed mean (MNLN)")
        yi, vi = np.log(m), s**2 / (n * m**2)
    return yi, vi, labs, [None] * m.shape[0], {}


def _variability(measure: str, data: dict[str, Any], labels: Sequence[Any] | None) -> Result:
    names = ["m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"]
    if measure == "VR":
        names = ["sd1i", "n1i", "sd2i", "n2i"]
    _need(measure, ", ".join(names[:-1]) + " and " + names[-1], *(data.get(n) for n in names))
    a, labs = _arrays(labels, **{n: data[n] for n in names})
    s1, n1, s2, n2 = a["sd1i"], a["n1i"], a["sd2i"], a["n2i"]
    require(s1 <= 0, labs, "sd1i must be positive")
    require(s2 <= 0, labs, "sd2i must be positive")
    require(n1 < 2, labs, "n1i must be at least 2")
    require(n2 < 2, labs, "n2i must be at least 2")
    if measure == "VR":
        yi = np.log(s1 / s2) + 1 / (2 * (n1 - 1)) - 1 / (2 * (n2 - 1))
        vi = 1 / (2 * (n1 - 1)) + 1 / (2 * (n2 - 1))
    else:
        m1, m2 = a["m1i"], a["m2i"]
        require(m1 <= 0, labs, "m1i must be positive for the coefficient of variation")
        require(m2 <= 0, labs, "m2i must be positive for the coefficient of variation")
        yi = np.log(s1 / m1) + 1 / (2 * (n1 - 1)) - np.log(s2 / m2) - 1 / (2 * (n2 - 1))
        vi = 1 / (2 * (n1 - 1)) + s1**2 / (n1 * m1**2) + 1 / (2 * (n2 - 1)) + s2**2 / (n2 * m2**2)
    return yi, vi, labs, [None] * s1.shape[0], {}


def _notes(mask: np.ndarray, text: str) -> list[str | None]:
    return [text if flag else None for flag in mask.tolist()]


# --- back-transformation for display -----------------------------------------------------


def transform(
    measure: str,
    values: Any,
    *,
    ni: Any = None,
    ti: Any = None,
    harmonic: bool = True,
) -> Any:
    """Show estimates of ``measure`` on their natural scale, as metafor's ``transf.*``.

    Log measures (RR, OR, PETO, ROM, HR, IRR, PLN, IRLN, MNLN, VR, CVR) are exponentiated,
    PLO goes through the inverse logit, ZCOR through tanh (r), PAS through sin^2 and IRS by
    squaring (both kept within their range); PFT uses the inverse Freeman-Tukey
    transformation (Miller 1978) and IRFT its rate version, which need the sample sizes
    ``ni`` (PFT) or person-times ``ti`` (IRFT): with ``harmonic=True`` (default, for pooled
    values and their intervals) their harmonic mean is used, as ``transf.ipft.hm``; with
    ``harmonic=False`` they must match ``values`` one to one (``transf.ipft``, per study).
    Every other measure is returned unchanged. ``values`` may be a number (a float is
    returned), None (None is returned) or a sequence (an array is returned).
    """
    m = measure.upper()
    if m not in MEASURES and m != "GEN":
        raise ValueError(f"unknown measure {measure!r}")
    if values is None:
        return None
    scalar = np.ndim(values) == 0
    x = (
        np.asarray(values, dtype=np.float64).reshape(-1)
        if not scalar
        else np.array([float(values)])
    )
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = _back(m, x, ni, ti, harmonic)
    return float(out[0]) if scalar else out


def _back(m: str, x: FloatArray, ni: Any, ti: Any, harmonic: bool) -> FloatArray:
    if m in LOG_MEASURES:
        return np.exp(x)
    if m == "PLO":
        return special.expit(x)
    if m == "ZCOR":
        return np.tanh(x)
    if m == "PAS":
        z = np.sin(x) ** 2
        return np.where(x < 0, 0.0, np.where(x > math.pi / 2, 1.0, z))
    if m == "IRS":
        return np.where(x < 0, 0.0, x * x)
    if m == "PFT":
        n = _sizes("PFT", "ni", ni, x, harmonic)
        s = np.sin(2 * x)
        z = 0.5 * (1 - np.sign(np.cos(2 * x)) * np.sqrt(1 - (s + (s - 1 / s) / n) ** 2))
        z = np.where(x > _pft(1.0, n), 1.0, z)
        return np.where(x < _pft(0.0, n), 0.0, z)
    if m == "IRFT":
        t = _sizes("IRFT", "ti", ti, x, harmonic)
        z = (1 / t - 8 * x**2 + 16 * t * x**4) / (16 * x**2 * t)
        z = np.where(x < 0.5 * np.sqrt(1 / t), 0.0, z)
        return np.where(z <= np.finfo(float).eps, 0.0, z)
    return x.copy()


def _pft(p: float, n: FloatArray) -> FloatArray:
    x = p * n
    return 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))


def _sizes(measure: str, name: str, given: Any, x: FloatArray, harmonic: bool) -> FloatArray:
    if given is None:
        raise ValueError(
            f"the inverse of {measure} needs {name} (the studies' "
            f"{'sample sizes' if name == 'ni' else 'person-times'})"
        )
    a = np.asarray(given, dtype=np.float64).reshape(-1)
    if not (np.isfinite(a) & (a > 0)).all():
        raise ValueError(f"{name} must be positive numbers")
    if harmonic:
        return np.full(x.shape, 1.0 / np.mean(1.0 / a))
    if a.shape[0] == 1:
        return np.full(x.shape, a[0])
    if a.shape != x.shape:
        raise ValueError(f"{name} has {a.shape[0]} values for {x.shape[0]} estimates")
    return a
