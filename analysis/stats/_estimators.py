"""Weighted least squares and the tau^2 estimators (metafor ``rma.uni``).

Every quantity is computed from sums over studies and p-by-p matrices (p = number of
model coefficients), never from the k-by-k hat or projection matrices that metafor
builds: P = W - W X (X'WX)^-1 X'W is only ever used through its traces and through
P y = W (y - X b). So each iteration costs O(k p^2) time and O(k p) memory.

Conventions (metafor 3.8 - 5.1, ``MF:R/rma.uni.r``): Fisher scoring for ML/REML/EB starts
from max(0, HE), stops when the absolute change in tau^2 is <= 1e-5, halves steps that
would go below zero, gives up after 100 iterations; ML/REML fits are compared with the
log-likelihood at tau^2 = 0 ("ll0check").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from ._checks import FloatArray, dot

TAU2_METHODS = ("FE", "DL", "REML", "ML", "PM", "HS", "SJ", "HE", "EB")
_ALIASES = {"EE": "FE", "CE": "FE", "FIXED": "FE", "IV": "FE", "PAULE-MANDEL": "PM", "MP": "PM"}

#: metafor's ``control`` defaults.
THRESHOLD = 1e-5
MAXITER = 100
#: ``.Machine$double.eps^0.25``: uniroot's tolerance and the ll0check margin in metafor.
R_TOL = float(np.finfo(float).eps) ** 0.25


def normalise_method(method: str) -> str:
    m = method.upper()
    m = _ALIASES.get(m, m)
    if m not in TAU2_METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(TAU2_METHODS)}")
    return m


@dataclass
class Fit:
    """WLS fit at a given tau^2."""

    w: FloatArray
    sw: float
    beta: FloatArray
    ainv: FloatArray  # (X'WX)^-1, p x p
    resid: FloatArray
    rss: float  # sum w r^2 = y'Py


class Model:
    """Data and design of a (meta-regression) model; ``X is None`` means intercept only."""

    def __init__(self, y: FloatArray, v: FloatArray, X: FloatArray | None = None) -> None:
        self.y = y
        self.v = v
        self.X = X
        self.k = int(y.shape[0])
        self.p = 1 if X is None else int(X.shape[1])

    # -- weighted least squares ---------------------------------------------------------
    def fit(self, tau2: float) -> Fit:
        w = 1.0 / (self.v + tau2)
        return self.fit_w(w)

    def fit_w(self, w: FloatArray) -> Fit:
        y = self.y
        if self.X is None:
            sw = float(w.sum())
            mu = dot(w, y) / sw
            r = y - mu
            rss = dot(w * r, r)
            return Fit(w, sw, np.array([mu]), np.array([[1.0 / sw]]), r, rss)
        X = self.X
        Xw = X * w[:, None]
        A = X.T @ Xw
        ainv = np.linalg.inv(A).astype(np.float64, copy=False)
        beta = ainv @ (Xw.T @ y)
        r = y - X @ beta
        rss = dot(w * r, r)
        return Fit(w, float(w.sum()), beta, ainv, r, rss)

    def q(self, tau2: float) -> float:
        """Generalised Q statistic y'P(tau2)y (monotone decreasing in tau2)."""
        if self.X is None:
            w = 1.0 / (self.v + tau2)
            sw = w.sum()
            wy = w * self.y
            # sum w (y - mu)^2 = sum w y^2 - (sum w y)^2 / sum w
            r = self.y - wy.sum() / sw
            return dot(w * r, r)
        return self.fit(tau2).rss

    # -- traces of P, PP, PV... ----------------------------------------------------------
    def traces(self, fit: Fit) -> tuple[float, float]:
        """tr(P) and tr(PP) for the weights of ``fit``."""
        w = fit.w
        sw2 = dot(w, w)
        if self.X is None:
            s = fit.sw
            sw3 = dot(w * w, w)
            return s - sw2 / s, sw2 - 2.0 * sw3 / s + (sw2 / s) ** 2
        X, ainv = self.X, fit.ainv
        Xw = X * w[:, None]
        B = Xw.T @ Xw  # X'W^2X
        C = (Xw * w[:, None]).T @ Xw  # X'W^3X
        AB = ainv @ B
        trP = fit.sw - float(np.trace(AB))
        trPP = sw2 - 2.0 * float(np.sum(ainv * C)) + float(np.sum(AB * AB.T))
        return trP, trPP

    def pv_traces(self, w: FloatArray) -> tuple[float, float, float, float]:
        """tr(P), tr(PP), tr(PVPV) and tr(PVP) for P = W - WX(X'WX)^-1X'W, V = diag(v)."""
        v = self.v
        a = w * v
        if self.X is None:
            s = float(w.sum())
            sw2 = dot(w, w)
            sw3 = dot(w * w, w)
            trP = s - sw2 / s
            trPP = sw2 - 2 * sw3 / s + (sw2 / s) ** 2
            trPVPV = dot(a, a) - 2 * dot(a * a, w) / s + (dot(a, w) / s) ** 2
            svw2 = dot(v, (w * w))
            trPVP = svw2 - 2 * dot(v, (w**3)) / s + svw2 * sw2 / s**2
            return trP, trPP, trPVPV, trPVP
        X = self.X
        ainv = np.linalg.inv(X.T @ (X * w[:, None]))

        def xdx(d: FloatArray) -> FloatArray:
            return X.T @ (X * d[:, None])

        B = xdx(w * w)
        D = xdx(w * w * v)
        AB, AD = ainv @ B, ainv @ D
        trP = float(w.sum()) - float(np.trace(AB))
        trPP = dot(w, w) - 2 * float(np.sum(ainv * xdx(w**3))) + float(np.sum(AB * AB.T))
        trPVPV = dot(a, a) - 2 * float(np.sum(ainv * xdx(w**3 * v**2))) + float(np.sum(AD * AD.T))
        trPVP = dot(v, w * w) - 2 * float(np.sum(ainv * xdx(w**3 * v))) + float(np.sum(AB * AD.T))
        return trP, trPP, trPVPV, trPVP

    def ols_rss(self) -> float:
        if self.X is None:
            r = self.y - self.y.mean()
            return dot(r, r)
        beta, *_ = np.linalg.lstsq(self.X, self.y, rcond=None)
        r = self.y - self.X @ beta
        return dot(r, r)

    def loglik(self, tau2: float, reml: bool) -> float:
        """Log-likelihood as metafor's ll0check computes it (without the ln|X'X| constant)."""
        fit = self.fit(tau2)
        k, p = self.k, self.p
        if reml:
            _, logdet = np.linalg.slogdet(np.linalg.inv(fit.ainv))
            return float(
                -0.5 * (k - p) * math.log(2 * math.pi)
                - 0.5 * np.log(self.v + tau2).sum()
                - 0.5 * logdet
                - 0.5 * fit.rss
            )
        return float(
            -0.5 * k * math.log(2 * math.pi) - 0.5 * np.log(self.v + tau2).sum() - 0.5 * fit.rss
        )


@dataclass
class Tau2Estimate:
    tau2: float
    se: float | None = None
    converged: bool = True
    iterations: int = 0
    warnings: list[str] = field(default_factory=list)


def _he_raw(model: Model) -> float:
    """Hedges' (HE) estimator before truncation at zero."""
    k, p = model.k, model.p
    trPV = float(model.v.sum()) * (1 - 1 / k) if model.X is None else _ols_trpv(model)
    return (model.ols_rss() - trPV) / (k - p)


def _ols_trpv(model: Model) -> float:
    X = model.X
    assert X is not None
    xtx_inv = np.linalg.inv(X.T @ X)
    return float(model.v.sum()) - float(np.sum(xtx_inv * (X.T @ (X * model.v[:, None]))))


def _mad2(y: FloatArray) -> float:
    med = np.median(y)
    return float((1.4826 * np.median(np.abs(y - med))) ** 2)


def _root_q(model: Model, target: float, lo: float, hi: float) -> tuple[float, bool]:
    """Solve Q(tau2) = target on [lo, ...); Q decreases in tau2. Returns (root, bracket_ok)."""
    f = lambda t: model.q(t) - target  # noqa: E731 -- a one-line alias reads better than a nested def
    ok = True
    tries = 0
    while f(hi) > 0:
        hi *= 10
        tries += 1
        if tries > 30:
            ok = False
            return hi, ok
    root = optimize.brentq(f, lo, hi, xtol=1e-12, rtol=4 * np.finfo(float).eps, maxiter=500)
    return float(root), ok


def estimate_tau2(
    model: Model,
    method: str,
    *,
    threshold: float = THRESHOLD,
    maxiter: int = MAXITER,
    stepadj: float = 1.0,
    tau2_init: float | None = None,
) -> Tau2Estimate:
    """Estimate tau^2 with ``method`` (already normalised)."""
    k, p = model.k, model.p
    if method == "FE" or k <= p:
        return Tau2Estimate(0.0)
    if method in ("DL", "HS"):
        f0 = model.fit(0.0)
        trP, trPP = model.traces(f0)
        if method == "DL":
            tau2 = max(0.0, (f0.rss - (k - p)) / trP)
            se = math.sqrt((2 * (k - p) + 4 * tau2 * trP + 2 * tau2**2 * trPP) / trP**2)
        else:
            tau2 = max(0.0, (f0.rss - k) / f0.sw)
            se = math.sqrt((2 * (k - p) + 4 * tau2 * trP + 2 * tau2**2 * trPP) / f0.sw**2)
        return Tau2Estimate(tau2, se)
    if method == "HE":
        tau2 = max(0.0, _he_raw(model))
        _, _, trPVPV, trPV = model.pv_traces(np.ones(k))
        # With unit weights, tr(PVP) = tr(PV) because P is idempotent.
        se = math.sqrt((2 * trPVPV + 4 * tau2 * trPV + 2 * tau2**2 * (k - p)) / (k - p) ** 2)
        return Tau2Estimate(tau2, se)
    if method == "SJ":
        yc = model.y - model.y.mean()
        t0 = dot(yc, yc) / k if tau2_init is None else tau2_init
        w = 1.0 / (model.v + t0)
        fit = model.fit_w(w)
        tau2 = max(0.0, t0 * fit.rss / (k - p))
        _, trPP, trPVPV, trPVP = model.pv_traces(w)
        se = math.sqrt(t0**2 / (k - p) ** 2 * (2 * trPVPV + 4 * tau2 * trPVP + 2 * tau2**2 * trPP))
        return Tau2Estimate(tau2, se)
    if method == "PM":
        target = float(k - p)
        if model.q(0.0) < target:
            tau2 = 0.0
        else:
            hi = max(100.0, 10 * _mad2(model.y))
            tau2, ok = _root_q(model, target, 0.0, hi)
            if not ok:
                return Tau2Estimate(
                    tau2, None, False, 0, ["Paule-Mandel: no root of Q(tau2) = k - p found"]
                )
        sw = float((1.0 / (model.v + tau2)).sum())
        return Tau2Estimate(tau2, math.sqrt(2 * k**2 / (k - p) / sw**2))
    # Fisher scoring: ML, REML, EB.
    tau2 = max(0.0, _he_raw(model)) if tau2_init is None else float(tau2_init)
    change = threshold + 1
    it = 0
    converged = True
    broke_down = False
    while change > threshold:
        it += 1
        old = tau2
        adj = _fisher_step(model, method, tau2) * stepadj
        if not math.isfinite(adj):
            # A step of NaN or infinity (sums that overflow or underflow) is a breakdown,
            # not convergence: keep the last finite iterate and say so.
            broke_down = True
            converged = False
            break
        while tau2 + adj < 0:
            adj /= 2
        tau2 = tau2 + adj
        change = abs(old - tau2)
        if it > maxiter:
            converged = False
            break
    warnings: list[str] = []
    if broke_down:
        warnings.append(
            f"{method}: Fisher scoring broke down at iteration {it} (the step is not finite; "
            "the estimates or variances are too extreme for floating point); the reported "
            "tau2 is the last finite iterate"
        )
    elif not converged:
        warnings.append(
            f"{method}: Fisher scoring did not converge in {maxiter} iterations "
            f"(last change in tau2 {change:.3g}); the reported tau2 is the last iterate"
        )
    elif method in ("ML", "REML"):
        reml = method == "REML"
        ll0 = model.loglik(0.0, reml)
        ll = model.loglik(tau2, reml)
        if ll0 - ll > R_TOL and tau2 > threshold:
            warnings.append(
                f"{method}: Fisher scoring may have stopped at a local maximum; tau2 set to 0 "
                "because the likelihood is higher there"
            )
            tau2 = 0.0
    tau2 = max(0.0, tau2)
    return Tau2Estimate(tau2, _fisher_se(model, method, tau2), converged, it, warnings)


def _fisher_step(model: Model, method: str, tau2: float) -> float:
    """One Fisher-scoring step for ML, REML or EB; NaN when a sum under- or overflows."""
    k, p = model.k, model.p
    try:
        with np.errstate(all="ignore"):
            fit = model.fit(tau2)
            w = fit.w
            if method == "EB":
                return (fit.rss * k / (k - p) - k) / fit.sw
            pr = w * fit.resid
            ypPy = dot(pr, pr)
            if method == "ML":
                return (ypPy - fit.sw) / dot(w, w)
            trP, trPP = model.traces(fit)
            return (ypPy - trP) / trPP
    except (ZeroDivisionError, np.linalg.LinAlgError, OverflowError):
        return math.nan


def _fisher_se(model: Model, method: str, tau2: float) -> float | None:
    """metafor's standard error of tau2 for ML, REML and EB; None where it is not finite."""
    k, p = model.k, model.p
    try:
        with np.errstate(all="ignore"):
            fit = model.fit(tau2)
            if method == "ML":
                se = math.sqrt(2 / dot(fit.w, fit.w))
            elif method == "REML":
                se = math.sqrt(2 / model.traces(fit)[1])
            else:
                se = math.sqrt(2 * k**2 / (k - p) / fit.sw**2)
    except (ZeroDivisionError, np.linalg.LinAlgError, OverflowError, ValueError):
        return None
    return se if math.isfinite(se) else None
