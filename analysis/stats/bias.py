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
    """Begg and Mazumdar rank correlation test (``metafor::ranktest``)."""

    k: int
    tau: float
    pval: float
    exact: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "test": "begg",
            "k": self.k,
            "tau": num(self.tau),
            "pval": num(self.pval),
            "exact": self.exact,
        }


#: Beyond this many studies the exact null distribution of Kendall's tau is replaced by the
#: normal approximation (the two agree to ~1e-3 in p there, and the exact one costs O(k^3)).
_EXACT_KENDALL_MAX_K = 100


def begg(yi: Any, vi: Any = None, *, labels: Sequence[Any] | None = None) -> BeggResult:
    """Kendall's tau between standardised deviates and variances.

    ``y*_i = (y_i - theta_FE) / sqrt(v_i - 1/sum(1/v))`` against ``v_i``; the p-value is
    exact without ties (as R's ``cor.test(exact=TRUE)``), the tie-corrected normal
    approximation otherwise.

    References
    ----------
    Begg & Mazumdar (1994).
    """
    y, v, _, _, _ = _unpack(yi, vi, labels, None)
    k = y.shape[0]
    if k < 3:
        raise ValueError("the rank correlation test needs at least three studies")
    w = 1.0 / v
    theta = float(w @ y) / float(w.sum())
    vstar = v - 1.0 / float(w.sum())
    ystar = (y - theta) / np.sqrt(vstar)
    ties = len(np.unique(ystar)) < k or len(np.unique(v)) < k
    exact = not ties and k <= _EXACT_KENDALL_MAX_K
    res = sps.kendalltau(ystar, v, method="exact" if exact else "asymptotic")
    return BeggResult(k=k, tau=float(res.statistic), pval=float(res.pvalue), exact=exact)


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


__all__ = ["egger", "begg", "trimfill", "EggerResult", "BeggResult", "TrimFillResult", "z_crit"]
