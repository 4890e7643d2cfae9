"""Small-study effects: Egger's regression test, Begg's rank correlation, trim and fill.

References
----------
Egger M, Davey Smith G, Schneider M, Minder C (1997). Bias in meta-analysis detected by a
simple, graphical test. BMJ 315:629-634.
Sterne JAC, Egger M (2005). Regression methods to detect publication and other bias in
meta-analysis. In: Publication Bias in Meta-Analysis, Wiley (the mixed-effects variant).
Begg CB, Mazumdar M (1994). Operating characteristics of a rank correlation test for
publication bias. Biometrics 50:1088-1101.
Duval S, Tweedie R (2000). Trim and fill: a simple funnel-plot-based method of testing and
adjusting for publication bias in meta-analysis. Biometrics 56:455-463.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

from ._checks import FloatArray, as_float_array
from ._dist import alpha_from_level, t_crit, t_pval, z_crit
from ._estimators import normalise_method
from .pooling import _unpack, metareg, normalise_test, pool
from .results import PoolResult, num

PREDICTORS = ("sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv")
_LIMIT_PREDICTORS = ("sei", "vi", "ninv", "sqrtninv")


@dataclass(frozen=True)
class EggerResult:
    """Regression test for funnel-plot asymmetry (``metafor::regtest``)."""

    model: str
    method: str | None
    predictor: str
    k: int
    stat: float
    df: float | None
    pval: float
    slope: float
    slope_se: float
    limit: float | None
    limit_ci_lb: float | None
    limit_ci_ub: float | None
    tau2: float | None

    @property
    def zval(self) -> float | None:
        return self.stat if self.df is None else None

    @property
    def tval(self) -> float | None:
        return self.stat if self.df is not None else None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "test": "egger",
            "model": self.model,
            "method": self.method,
            "predictor": self.predictor,
            "k": self.k,
        }
        if self.df is None:
            d["zval"] = num(self.stat)
        else:
            d["tval"] = num(self.stat)
            d["df"] = num(self.df)
        d.update(
            pval=num(self.pval),
            slope=num(self.slope),
            slope_se=num(self.slope_se),
            limit=num(self.limit),
            limit_ci_lb=num(self.limit_ci_lb),
            limit_ci_ub=num(self.limit_ci_ub),
            tau2=num(self.tau2),
        )
        return d


def _predictor(name: str, v: FloatArray, ni: Any) -> FloatArray:
    if name == "sei":
        return np.sqrt(v)
    if name == "vi":
        return v
    if ni is None:
        raise ValueError(f"predictor {name!r} needs the total sample sizes ni")
    n = as_float_array(ni, "ni", v.shape[0])
    return {"ni": n, "ninv": 1 / n, "sqrtni": np.sqrt(n), "sqrtninv": 1 / np.sqrt(n)}[name]


def egger(
    yi: Any,
    vi: Any = None,
    *,
    model: str = "rma",
    method: str = "REML",
    test: str = "z",
    predictor: str = "sei",
    ni: Any = None,
    level: float = 95,
    labels: Sequence[Any] | None = None,
) -> EggerResult:
    """Egger's regression test.

    ``model="rma"`` (metafor's ``regtest`` default): mixed-effects meta-regression of yi on
    the predictor (default the standard error) with residual tau^2 estimated by ``method``;
    the test is the z (or t, with ``test="knha"``) test of the slope. ``model="lm"``: the
    classical Egger test, weighted least squares with weights 1/vi and an estimated
    multiplicative dispersion, t test with k - 2 df (Egger et al. 1997). The intercept is
    the "limit estimate" as the predictor goes to 0 (reported for sei, vi, ninv, sqrtninv).

    References
    ----------
    Egger et al. (1997); Sterne & Egger (2005); Viechtbauer (2010).
    """
    y, v, labs, _, _ = _unpack(yi, vi, labels, None)
    if predictor not in PREDICTORS:
        raise ValueError(f"predictor must be one of {', '.join(PREDICTORS)}")
    k = y.shape[0]
    if k < 3:
        raise ValueError("Egger's test needs at least three studies")
    x = _predictor(predictor, v, ni)
    alpha = alpha_from_level(level)
    if model == "rma":
        mr = metareg(y, v, x, method=method, test=test, level=level, labels=labs)
        has_limit = predictor in _LIMIT_PREDICTORS
        return EggerResult(
            model="rma",
            method=mr.method,
            predictor=predictor,
            k=k,
            stat=float(mr.stat[1]),
            df=mr.df,
            pval=float(mr.pval[1]),
            slope=float(mr.beta[1]),
            slope_se=float(mr.se[1]),
            limit=float(mr.beta[0]) if has_limit else None,
            limit_ci_lb=float(mr.ci_lb[0]) if has_limit else None,
            limit_ci_ub=float(mr.ci_ub[0]) if has_limit else None,
            tau2=mr.tau2,
        )
    if model != "lm":
        raise ValueError("model must be 'rma' or 'lm'")
    w = 1.0 / v
    X = np.column_stack([np.ones(k), x])
    Xw = X * w[:, None]
    ainv = np.linalg.inv(X.T @ Xw)
    beta = ainv @ (Xw.T @ y)
    r = y - X @ beta
    s2 = float((w * r) @ r) / (k - 2)
    se = np.sqrt(np.diag(ainv) * s2)
    df = k - 2
    stat = float(beta[1] / se[1])
    crit = t_crit(alpha, df)
    has_limit = predictor in _LIMIT_PREDICTORS
    return EggerResult(
        model="lm",
        method=None,
        predictor=predictor,
        k=k,
        stat=stat,
        df=df,
        pval=t_pval(stat, df),
        slope=float(beta[1]),
        slope_se=float(se[1]),
        limit=float(beta[0]) if has_limit else None,
        limit_ci_lb=float(beta[0] - crit * se[0]) if has_limit else None,
        limit_ci_ub=float(beta[0] + crit * se[0]) if has_limit else None,
        tau2=None,
    )


@dataclass(frozen=True)
class BeggResult:
    """Begg and Mazumdar rank correlation test (``metafor::ranktest``).

    ``tau`` and ``pval`` are None, with the reason in ``message``, where Kendall's tau is
    undefined (every study has the same sampling variance, or the same standardised
    deviate).
    """

    k: int
    tau: float | None
    pval: float | None
    exact: bool
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "test": "begg",
            "k": self.k,
            "tau": num(self.tau),
            "pval": num(self.pval),
            "exact": self.exact,
            "message": self.message,
        }


#: Work (array elements touched) up to which the recursion is used; beyond it the
#: characteristic-function inversion is faster (about 0.1 s on the development machine).
_RECURSION_BUDGET = 30_000_000
#: Total size bound of the neglected Fourier terms (the CDF is a probability).
_FOURIER_TOL = 1e-18


def kendall_exact_cdf(n: int, q: int, *, method: str = "auto") -> float:
    """P(D <= q) for the number D of discordant pairs among n untied pairs under H0.

    D is the number of inversions of a random permutation of n (the Mahonian
    distribution, Kendall 1970). ``method="recursion"`` convolves the uniform
    distributions on {0, ..., j - 1}, j = 2..n (Kendall's recursion, kept as
    probabilities so that it does not overflow where R's counts do, at n > 170), in
    O(n q) time; ``"fourier"`` sums the exact discrete Fourier inversion of its
    characteristic function prod_j sin(j t/2) / (j sin(t/2)), leaving out only terms whose
    total is provably below 1e-18, in O(n sqrt(n)) time. ``"auto"`` takes the recursion
    while it is cheap.
    """
    m = n * (n - 1) // 2
    if q < 0:
        return 0.0
    if q >= m:
        return 1.0
    if method == "auto":
        method = "recursion" if _recursion_work(n, q) <= _RECURSION_BUDGET else "fourier"
    if method == "recursion":
        return _cdf_recursion(n, q)
    if method == "fourier":
        return _cdf_fourier(n, q)
    raise ValueError("method must be 'auto', 'recursion' or 'fourier'")


def _recursion_work(n: int, q: int) -> int:
    # sum over j of min(q + 1, j (j - 1) / 2 + 1), in closed form up to the crossover.
    j0 = min(n, int(math.isqrt(2 * q)) + 1)
    small = sum(j * (j - 1) // 2 + 1 for j in range(2, j0 + 1))
    return small + (n - j0) * (q + 1)


def _cdf_recursion(n: int, q: int) -> float:
    """P(D <= q) by the recursion, for q <= m/2 (the caller mirrors larger q).

    Only the left half of each intermediate distribution is kept, the right half being its
    mirror image. A running sum over a decreasing right tail would subtract nearly equal
    numbers and lose the relative accuracy of small tail probabilities; the left half only
    increases, so every tail probability keeps about 12 significant digits.
    """
    m_n = n * (n - 1) // 2
    if 2 * q > m_n:
        return 1.0 - _cdf_recursion(n, m_n - q - 1)
    left = np.ones(1)  # j = 1: D = 0
    m_prev = 0
    for j in range(2, n + 1):
        m_j = m_prev + j - 1
        size = min(q, m_j // 2) + 1
        ext = np.zeros(size)
        keep = min(size, left.shape[0])
        ext[:keep] = left[:keep]
        # Entries past the old mode, up to the old maximum, mirror the left half.
        lo, hi = m_prev // 2 + 1, min(size - 1, m_prev)
        if hi >= lo:
            ext[lo : hi + 1] = left[m_prev - hi : m_prev - lo + 1][::-1]
        cum = np.cumsum(ext)
        if size > j:
            cum[j:] -= cum[: size - j].copy()
        left = cum / j
        m_prev = m_j
    return float(min(1.0, left[: q + 1].sum()))


def _cf_bound(n: int, t: float) -> float:
    """An upper bound on |phi(u)| for all u in [t, pi], decreasing in t."""
    h = math.sin(t / 2)
    j = np.arange(2, n + 1, dtype=np.float64)
    exact = j * t <= math.pi
    factors = np.where(exact, np.sin(j * t / 2) / (j * h), np.minimum(1.0, 1.0 / (j * h)))
    return float(np.prod(factors))


def _cdf_fourier(n: int, q: int) -> float:
    m = n * (n - 1) // 2
    size = m + 1
    half = (size - 1) // 2
    # Smallest s (by doubling) beyond which every neglected term is below the tolerance.
    s_max = 1
    while s_max < half:
        t = 2 * math.pi * s_max / size
        if _cf_bound(n, t) / math.sin(t / 2) < _FOURIER_TOL:
            break
        s_max *= 2
    s_max = min(s_max, half)
    j = np.arange(2, n + 1, dtype=np.float64)
    chunk = max(1, 2_000_000 // n)
    total = 0.0
    for start in range(1, s_max + 1, chunk):
        steps = np.arange(start, min(s_max, start + chunk - 1) + 1, dtype=np.float64)
        ts = 2 * math.pi * steps / size
        sin_half = np.sin(ts / 2)
        cf = np.prod(np.sin(np.outer(ts / 2, j)) / (j * sin_half[:, None]), axis=1)
        total += float(np.sum(cf * np.cos(ts * (m - q) / 2) * np.sin((q + 1) * ts / 2) / sin_half))
    total *= 2
    if size % 2 == 0 and s_max == half:  # the Nyquist term t = pi, counted once
        cf_pi = float(np.prod(np.sin(j * math.pi / 2) / j))
        total += cf_pi * math.cos(math.pi * (m - q) / 2) * math.sin((q + 1) * math.pi / 2)
    return float(min(1.0, max(0.0, (q + 1 + total) / size)))


def begg(yi: Any, vi: Any = None, *, labels: Sequence[Any] | None = None) -> BeggResult:
    """Kendall's tau between standardised deviates and variances (``metafor::ranktest``).

    ``y*_i = (y_i - theta_FE) / sqrt(v_i - 1/sum(1/v))`` against ``v_i``. Without ties the
    p-value is exact at every k, from the null distribution of the number of discordant
    pairs (metafor uses R's ``cor.test(exact = TRUE)``, exact too but NaN from k = 171,
    where R's permutation counts overflow); with ties it is the tie-corrected normal
    approximation without continuity correction, as R's. Where tau is undefined (all
    variances, or all deviates, equal) ``tau`` and ``pval`` are None and ``message`` says
    why.

    References
    ----------
    Begg & Mazumdar (1994); Kendall MG (1970). Rank Correlation Methods, 4th ed.
    """
    y, v, _, _, _ = _unpack(yi, vi, labels, None)
    k = y.shape[0]
    if k < 3:
        raise ValueError("the rank correlation test needs at least three studies")
    w = 1.0 / v
    theta = float(w @ y) / float(w.sum())
    vstar = v - 1.0 / float(w.sum())
    ystar = (y - theta) / np.sqrt(vstar)
    if np.ptp(v) == 0:
        return BeggResult(k, None, None, False, _UNDEFINED_SAME_V)
    if np.ptp(y) == 0 or np.ptp(ystar) == 0:
        return BeggResult(k, None, None, False, _UNDEFINED_SAME_Y)
    ties = len(np.unique(ystar)) < k or len(np.unique(v)) < k
    res = sps.kendalltau(ystar, v, method="asymptotic")
    tau = float(res.statistic)
    if ties:
        return BeggResult(k=k, tau=tau, pval=float(res.pvalue), exact=False)
    m = k * (k - 1) // 2
    concordant = round((tau + 1) * m / 2)
    pval = min(1.0, 2 * kendall_exact_cdf(k, min(concordant, m - concordant)))
    return BeggResult(k=k, tau=tau, pval=pval, exact=True)


_UNDEFINED_SAME_V = (
    "Begg's test is undefined: every study has the same sampling variance, so the studies "
    "cannot be ranked by precision (Kendall's tau has no value)"
)
_UNDEFINED_SAME_Y = (
    "Begg's test is undefined: every study has the same estimate, so there is no "
    "ranking of the deviates from the pooled estimate (Kendall's tau has no value)"
)


@dataclass(frozen=True, eq=False)
class TrimFillResult:
    """Trim-and-fill: estimated number of missing studies and the filled model."""

    estimator: str
    side: str
    k0: int
    k0_se: float
    k0_pval: float | None
    filled_yi: FloatArray
    filled_vi: FloatArray
    filled_from: tuple[str, ...]
    original: PoolResult
    adjusted: PoolResult

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimator": self.estimator,
            "side": self.side,
            "k0": self.k0,
            "k0_se": num(self.k0_se),
            "k0_pval": num(self.k0_pval),
            "filled": [
                {"mirrors": s, "yi": num(y), "vi": num(v)}
                for s, y, v in zip(self.filled_from, self.filled_yi, self.filled_vi, strict=True)
            ],
            "original": self.original.to_dict(),
            "adjusted": self.adjusted.to_dict(),
        }


def trimfill(
    yi: Any,
    vi: Any = None,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
    estimator: str = "L0",
    side: str | None = None,
    maxiter: int = 100,
    measure: str | None = None,
    labels: Sequence[Any] | None = None,
) -> TrimFillResult:
    """Duval and Tweedie's trim and fill (``metafor::trimfill``).

    The side is chosen as metafor does: regress yi on sqrt(vi) with the same method; a
    negative slope means studies are missing on the right. The same model (method, test)
    is used to trim and to fit the filled data. k0 is rounded half to even, as R does.

    References
    ----------
    Duval & Tweedie (2000).
    """
    y, v, labs, measure, _ = _unpack(yi, vi, labels, measure)
    k = y.shape[0]
    estimator = estimator.upper()
    if estimator not in ("L0", "R0"):
        raise ValueError("estimator must be 'L0' or 'R0'")
    method = normalise_method(method)
    test = normalise_test(test)
    if k < 3:
        raise ValueError("trim and fill needs at least three studies")
    if side is None:
        slope = metareg(y, v, np.sqrt(v), method=method, test=test).beta[1]
        side = "right" if slope < 0 else "left"
    if side not in ("left", "right"):
        raise ValueError("side must be 'left' or 'right'")
    ys = -y if side == "right" else y
    idx = np.argsort(ys, kind="stable")
    ys, vs = ys[idx], v[idx]
    k0, k0_prev, it = 0, -1, 0
    k0_se = 0.0
    beta = 0.0
    while k0 != k0_prev:
        k0_prev = k0
        it += 1
        if it > maxiter:
            raise ValueError("trim and fill did not converge")
        beta = pool(ys[: k - k0], vs[: k - k0], method=method, test=test).estimate
        yc = ys - beta
        ranks = np.empty(k)
        ranks[np.argsort(np.abs(yc), kind="stable")] = np.arange(1, k + 1)
        signed = np.sign(yc) * ranks
        if estimator == "R0":
            neg = -signed[signed < 0]
            k0f = (k - (neg.max() if neg.size else 0)) - 1
            k0_se = math.sqrt(2 * max(0.0, k0f) + 2)
        else:
            sr = float(signed[signed > 0].sum())
            k0f = (4 * sr - k * (k + 1)) / (2 * k - 1)
            var_sr = (
                k * (k + 1) * (2 * k + 1) + 10 * k0f**3 + 27 * k0f**2 + 17 * k0f
                - 18 * k * k0f**2 - 18 * k * k0f + 6 * k**2 * k0f
            ) / 24  # fmt: skip
            k0_se = 4 * math.sqrt(max(0.0, var_sr)) / (2 * k - 1)
        k0 = max(0, int(np.round(k0f)))  # numpy rounds half to even, as R does
    k0_pval = None
    if estimator == "R0":
        k0_pval = 1 - sum(0.5 ** (m + 2) for m in range(-1, k0)) if k0 >= 0 else None
    original = pool(y, v, method=method, test=test, level=level, measure=measure, labels=labs)
    if k0 > 0:
        sel = np.arange(k - k0, k)
        fill_y = 2 * beta - ys[sel]
        if side == "right":
            fill_y = -fill_y
        fill_v = vs[sel]
        from_labs = tuple(labs[i] for i in idx[sel])
    else:
        fill_y = np.array([])
        fill_v = np.array([])
        from_labs = ()
    adjusted = pool(
        np.concatenate([y, fill_y]),
        np.concatenate([v, fill_v]),
        method=method,
        test=test,
        level=level,
        measure=measure,
        labels=list(labs) + [f"filled ({s})" for s in from_labs],
    )
    return TrimFillResult(
        estimator=estimator,
        side=side,
        k0=k0,
        k0_se=k0_se,
        k0_pval=k0_pval,
        filled_yi=fill_y,
        filled_vi=fill_v,
        filled_from=from_labs,
        original=original,
        adjusted=adjusted,
    )


__all__ = [
    "egger",
    "begg",
    "kendall_exact_cdf",
    "trimfill",
    "EggerResult",
    "BeggResult",
    "TrimFillResult",
    "z_crit",
]
