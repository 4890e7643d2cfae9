"""Inverse-variance pooling (common and random effects) and meta-regression.

References
----------
DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Control Clin Trials 7:177-188.
Viechtbauer W (2005). Bias and efficiency of meta-analytic variance estimators in the
random-effects model. J Educ Behav Stat 30:261-293 (ML, REML, Fisher scoring).
Paule RC, Mandel J (1982). Consensus values and weighting factors. J Res NBS 87:377-385.
Sidik K, Jonkman JN (2005). Simple heterogeneity variance estimation for meta-analysis.
J R Stat Soc C 54:367-384.
Knapp G, Hartung J (2003). Improved tests for a random effects meta-regression with a single
covariate. Stat Med 22:2693-2710.
Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a meta-analysis. Stat Med
21:1539-1558.
Viechtbauer W (2007). Confidence intervals for the amount of heterogeneity in meta-analysis.
Stat Med 26:37-52 (Q-profile).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._checks import FloatArray, as_float_array, check_yi_vi, study_name
from ._dist import alpha_from_level, chi2_sf, f_sf, t_crit, t_pval, z_crit, z_pval
from ._estimators import Model, Tau2Estimate, estimate_tau2, normalise_method
from .effect_sizes import EffectSizes
from .results import PoolResult, num

TESTS = ("z", "t", "knha", "adhoc")
PI_TYPES = ("default", "z", "t", "hts")
_EPS = float(np.finfo(float).eps)


def normalise_test(test: str) -> str:
    t = test.lower()
    if t == "hksj":
        t = "knha"
    if t not in TESTS:
        raise ValueError(f"unknown test {test!r}; expected one of {', '.join(TESTS)}")
    return t


def _unpack(
    yi: Any, vi: Any, labels: Sequence[Any] | None, measure: str | None
) -> tuple[FloatArray, FloatArray, tuple[str, ...], str | None, list[str]]:
    notes: list[str] = []
    if isinstance(yi, EffectSizes):
        es = yi
        if vi is not None:
            raise ValueError("pass either an EffectSizes object or yi and vi, not both")
        dropped = [study_name(es.labels, i) for i in np.flatnonzero(~es.estimable).tolist()]
        if dropped:
            notes.append("not estimable, left out: " + ", ".join(dropped))
            es = es.dropna()
        measure = measure or es.measure
        labels = es.labels if labels is None else labels
        yi, vi = es.yi, es.vi
    elif vi is None:
        raise ValueError("vi (sampling variances) is required")
    y, v, labs = check_yi_vi(yi, vi, labels)
    return y, v, labs, measure, notes


def pool(
    yi: Any,
    vi: Any = None,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
    measure: str | None = None,
    labels: Sequence[Any] | None = None,
    pi_type: str = "default",
    maxiter: int = 100,
    threshold: float = 1e-5,
    stepadj: float = 1.0,
    tau2: float | None = None,
) -> PoolResult:
    """Pool study estimates by inverse-variance weighting (``metafor::rma.uni``).

    Parameters
    ----------
    yi, vi
        Estimates (log scale for ratios) and sampling variances, or an
        :class:`EffectSizes` as ``yi`` (non-estimable studies are then left out, with a
        warning in the result).
    method
        ``"FE"`` (common effect), ``"DL"``, ``"REML"`` (default), ``"ML"``, ``"PM"``,
        ``"HS"``, ``"SJ"``, ``"HE"`` or ``"EB"``.
    test
        ``"z"`` (Wald), ``"knha"`` (Knapp-Hartung, t with k - 1 df), ``"t"`` (t without the
        variance rescaling) or ``"adhoc"`` (Knapp-Hartung with the scale floored at 1).
    level
        Confidence level, 95 or 0.95.
    pi_type
        Prediction interval critical value: ``"default"`` (metafor: z for ``test="z"``,
        t with k - 1 df otherwise), ``"z"``, ``"t"`` (k - 1 df) or ``"hts"``
        (Higgins-Thompson-Spiegelhalter 2009, t with k - 2 df; Cochrane Handbook 10.10.4.3).
    maxiter, threshold, stepadj
        Fisher-scoring controls for ML, REML and EB (metafor's defaults).
    tau2
        Fix tau^2 at this value instead of estimating it (as metafor's ``tau2=``).

    Returns
    -------
    PoolResult
        ``converged`` is False (with a message in ``warnings``) when Fisher scoring did not
        converge; the estimate then uses the last iterate.

    Raises
    ------
    ValueError
        For k = 0 or a non-finite estimate or non-positive variance, naming the study.

    References
    ----------
    Viechtbauer (2010), J Stat Softw 36(3); DerSimonian & Laird (1986); Knapp & Hartung (2003);
    Higgins & Thompson (2002); Viechtbauer (2007).
    """
    y, v, labs, measure, notes = _unpack(yi, vi, labels, measure)
    method = normalise_method(method)
    test = normalise_test(test)
    if pi_type not in PI_TYPES:
        raise ValueError(f"unknown pi_type {pi_type!r}; expected one of {', '.join(PI_TYPES)}")
    alpha = alpha_from_level(level)
    k = y.shape[0]
    if k == 1:
        return _single_study(y, v, labs, measure, method, test, level, alpha, notes)
    model = Model(y, v)
    if tau2 is not None and method != "FE":
        if not (math.isfinite(tau2) and tau2 >= 0):
            raise ValueError(f"a fixed tau2 must be >= 0, got {tau2!r}")
        est = Tau2Estimate(float(tau2))
    else:
        est = estimate_tau2(model, method, threshold=threshold, maxiter=maxiter, stepadj=stepadj)
    notes.extend(est.warnings)
    tau2 = est.tau2
    fit = model.fit(tau2)  # the common-effect fit is cached and shared with Q below
    w, sw, mu = fit.w, fit.sw, float(fit.beta[0])
    var = 1.0 / sw
    df: float | None = None
    if test in ("knha", "adhoc"):
        rss = fit.rss
        s2 = 0.0 if rss <= _EPS else rss / (k - 1)
        if test == "adhoc":
            s2 = max(1.0, s2)
        var *= s2
        df = k - 1
        if method == "FE":
            notes.append("Knapp-Hartung adjustment is not meant for a common-effect model")
    elif test == "t":
        df = k - 1
    se = math.sqrt(var)
    stat = mu / se if se > 0 else math.copysign(math.inf, mu) if mu else math.nan
    if df is None:
        crit = z_crit(alpha)
        pval = z_pval(stat)
    else:
        crit = t_crit(alpha, df)
        pval = t_pval(stat, df)
    ci_lb, ci_ub = mu - crit * se, mu + crit * se
    # Heterogeneity: Q always with common-effect weights 1/v.
    fit0 = model.fit0
    q = max(0.0, fit0.rss)
    sw0 = fit0.sw
    sw02 = model.sums0[0]
    vt = (k - 1) * sw0 / (sw0 * sw0 - sw02)
    if method == "FE":
        i2 = max(0.0, 100.0 * (q - (k - 1)) / q) if q > 0 else 0.0
        h2 = q / (k - 1)
    else:
        i2 = 100.0 * tau2 / (vt + tau2)
        h2 = (tau2 + vt) / vt
    pi_lb, pi_ub, used_pi = _prediction(mu, var, tau2, k, alpha, df, pi_type, crit)
    return PoolResult(
        k=k,
        measure=measure,
        method=method,
        test=test,
        level=level,
        estimate=mu,
        se=se,
        stat=stat,
        pval=pval,
        ci_lb=ci_lb,
        ci_ub=ci_ub,
        pi_lb=pi_lb,
        pi_ub=pi_ub,
        tau2=tau2,
        tau2_se=est.se,
        i2=i2,
        h2=h2,
        q=q,
        q_df=k - 1,
        q_pval=chi2_sf(q, k - 1),
        # The final fit's weights are not needed again: scale them in place (the shared
        # common-effect fit keeps its own).
        weights=w * (100.0 / sw) if fit is model.fit0 else np.multiply(w, 100.0 / sw, out=w),
        labels=labs,
        df=df,
        pi_type=used_pi,
        converged=est.converged,
        iterations=est.iterations,
        warnings=tuple(notes),
        _model=model,
        _vt=vt,
        _alpha=alpha,
    )


def _prediction(
    mu: float,
    var: float,
    tau2: float,
    k: int,
    alpha: float,
    df: float | None,
    pi_type: str,
    crit: float,
) -> tuple[float | None, float | None, str]:
    if pi_type == "default":
        pcrit = crit  # metafor: the model's own z or t_{k-1} quantile
    elif pi_type == "z":
        pcrit = z_crit(alpha)
    elif pi_type == "t":
        pcrit = t_crit(alpha, k - 1)
    else:
        if k < 3:
            return None, None, pi_type
        pcrit = t_crit(alpha, k - 2)
    half = pcrit * math.sqrt(var + tau2)
    return mu - half, mu + half, pi_type


def _single_study(
    y: FloatArray,
    v: FloatArray,
    labs: tuple[str, ...],
    measure: str | None,
    method: str,
    test: str,
    level: float,
    alpha: float,
    notes: list[str],
) -> PoolResult:
    """k = 1: the study itself, Wald inference, heterogeneity undefined (metafor forces z)."""
    if test != "z":
        notes.append(f"k = 1: test {test!r} needs at least two studies; a z test is used")
    mu = float(y[0])
    se = math.sqrt(float(v[0]))
    crit = z_crit(alpha)
    stat = mu / se
    return PoolResult(
        k=1,
        measure=measure,
        method=method,
        test="z",
        level=level,
        estimate=mu,
        se=se,
        stat=stat,
        pval=z_pval(stat),
        ci_lb=mu - crit * se,
        ci_ub=mu + crit * se,
        pi_lb=None,
        pi_ub=None,
        tau2=0.0 if method == "FE" else None,
        tau2_se=None,
        i2=None,
        h2=None,
        q=None,
        q_df=0,
        q_pval=None,
        weights=np.array([100.0]),
        labels=labs,
        warnings=tuple(notes + ["k = 1: heterogeneity is undefined"]),
        _alpha=alpha,
    )


# --- meta-regression -----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MetaRegResult:
    """Mixed-effects (or common-effect) meta-regression, as ``rma(yi, vi, mods=X)``."""

    k: int
    p: int
    measure: str | None
    method: str
    test: str
    level: float
    names: tuple[str, ...]
    beta: FloatArray
    se: FloatArray
    stat: FloatArray
    pval: FloatArray
    ci_lb: FloatArray
    ci_ub: FloatArray
    vcov: FloatArray
    tau2: float
    tau2_se: float | None
    i2: float | None
    h2: float | None
    r2: float | None
    qe: float
    qe_df: int
    qe_pval: float
    qm: float
    qm_df: int
    qm_pval: float
    df: float | None
    converged: bool
    warnings: tuple[str, ...] = ()
    labels: tuple[str, ...] = field(default=())

    def coefficients(self) -> list[dict[str, Any]]:
        key = "zval" if self.df is None else "tval"
        return [
            {
                "name": n,
                "estimate": num(b),
                "se": num(s),
                key: num(z),
                "pval": num(pv),
                "ci_lb": num(lo),
                "ci_ub": num(hi),
            }
            for n, b, s, z, pv, lo, hi in zip(
                self.names,
                self.beta,
                self.se,
                self.stat,
                self.pval,
                self.ci_lb,
                self.ci_ub,
                strict=True,
            )
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "p": self.p,
            "measure": self.measure,
            "method": self.method,
            "test": self.test,
            "level": self.level,
            "coefficients": self.coefficients(),
            "tau2": num(self.tau2),
            "tau2_se": num(self.tau2_se),
            "i2": num(self.i2),
            "h2": num(self.h2),
            "r2": num(self.r2),
            "qe": num(self.qe),
            "qe_df": self.qe_df,
            "qe_pval": num(self.qe_pval),
            "qm": num(self.qm),
            "qm_df": self.qm_df,
            "qm_pval": num(self.qm_pval),
            "df": num(self.df),
            "converged": self.converged,
            "warnings": list(self.warnings),
        }


def metareg(
    yi: Any,
    vi: Any,
    X: Any,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
    intercept: bool = True,
    names: Sequence[str] | None = None,
    btt: Sequence[int] | None = None,
    measure: str | None = None,
    labels: Sequence[Any] | None = None,
    maxiter: int = 100,
) -> MetaRegResult:
    """Meta-regression with moderators ``X`` (k x q), as ``metafor::rma(yi, vi, mods=X)``.

    An intercept column is prepended unless ``intercept=False``. The omnibus test QM covers
    the coefficients ``btt`` (default: all but the intercept): a Wald chi-square with m df,
    or F(m, k - p) = QM/m under ``test="knha"``/``"t"``. QE is the residual heterogeneity
    test with common-effect weights. R^2 is the proportional reduction of tau^2 relative
    to the intercept-only model fitted with the same method (Raudenbush 2009).

    References
    ----------
    Thompson SG, Higgins JPT (2002). How should meta-regression analyses be undertaken and
    interpreted? Stat Med 21:1559-1573. Viechtbauer (2010); Knapp & Hartung (2003).
    """
    y, v, labs, measure, notes = _unpack(yi, vi, labels, measure)
    k = y.shape[0]
    Xm = np.asarray(X, dtype=np.float64)
    if Xm.ndim == 1:
        Xm = Xm[:, None]
    if Xm.shape[0] != k:
        raise ValueError(f"X has {Xm.shape[0]} rows but there are {k} studies")
    bad = ~np.isfinite(Xm).all(axis=1)
    if bad.any():
        raise ValueError(
            f"{study_name(labs, int(np.flatnonzero(bad)[0]))}: moderator value is missing"
        )
    if names is None:
        names = [f"x{j + 1}" for j in range(Xm.shape[1])]
    names = list(names)
    if intercept:
        Xm = np.column_stack([np.ones(k), Xm])
        names = ["intrcpt", *names]
    p = Xm.shape[1]
    if np.linalg.matrix_rank(Xm) < p:
        raise ValueError("the moderator matrix is rank deficient (collinear moderators)")
    if k <= p:
        raise ValueError(f"meta-regression with {p} coefficients needs more than {p} studies")
    method = normalise_method(method)
    test = normalise_test(test)
    alpha = alpha_from_level(level)
    model = Model(y, v, Xm)
    est = estimate_tau2(model, method, maxiter=maxiter)
    notes.extend(est.warnings)
    fit = model.fit(est.tau2)
    vb = fit.ainv.copy()
    df: float | None = None
    if test in ("knha", "adhoc"):
        s2 = 0.0 if fit.rss <= _EPS else fit.rss / (k - p)
        if test == "adhoc":
            s2 = max(1.0, s2)
        vb *= s2
        df = k - p
    elif test == "t":
        df = k - p
    se = np.sqrt(np.diag(vb))
    stat = fit.beta / se
    if df is None:
        crit = z_crit(alpha)
        pval = np.array([z_pval(s) for s in stat])
    else:
        crit = t_crit(alpha, df)
        pval = np.array([t_pval(s, df) for s in stat])
    if btt is None:
        btt = list(range(1, p)) if intercept else list(range(p))
    bt = np.asarray(btt, dtype=int)
    m = len(bt)
    b_bt = fit.beta[bt]
    qm = float(b_bt @ np.linalg.solve(vb[np.ix_(bt, bt)], b_bt)) if m else 0.0
    if df is None:
        qm_pval = chi2_sf(qm, m) if m else 1.0
    else:
        qm = qm / m if m else 0.0
        qm_pval = f_sf(qm, m, df) if m else 1.0
    f0 = model.fit(0.0)
    qe = max(0.0, f0.rss)
    trP0, _ = model.traces(f0)
    vt = (k - p) / trP0
    tau2 = est.tau2
    if method == "FE":
        i2 = max(0.0, 100 * (qe - (k - p)) / qe) if qe > 0 else 0.0
        h2 = qe / (k - p)
        r2 = None
    else:
        i2 = 100 * tau2 / (vt + tau2)
        h2 = (tau2 + vt) / vt
        r2 = None
        if intercept:
            t_re = estimate_tau2(Model(y, v), method, maxiter=maxiter).tau2
            r2 = 0.0 if t_re <= 0 else max(0.0, 100 * (t_re - tau2) / t_re)
    return MetaRegResult(
        k=k,
        p=p,
        measure=measure,
        method=method,
        test=test,
        level=level,
        names=tuple(names),
        beta=fit.beta,
        se=se,
        stat=stat,
        pval=pval,
        ci_lb=fit.beta - crit * se,
        ci_ub=fit.beta + crit * se,
        vcov=vb,
        tau2=tau2,
        tau2_se=est.se,
        i2=i2,
        h2=h2,
        r2=r2,
        qe=qe,
        qe_df=k - p,
        qe_pval=chi2_sf(qe, k - p),
        qm=qm,
        qm_df=m,
        qm_pval=qm_pval,
        df=df,
        converged=est.converged,
        warnings=tuple(notes),
        labels=labs,
    )


__all__ = ["pool", "metareg", "PoolResult", "MetaRegResult", "as_float_array"]
