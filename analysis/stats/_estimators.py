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
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

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
_EPS = float(np.finfo(float).eps)


def normalise_method(method: str) -> str:
    m = method.upper()
    m = _ALIASES.get(m, m)
    if m not in TAU2_METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(TAU2_METHODS)}")
    return m


_SCRATCH = threading.local()
#: Largest k whose buffers are kept between calls (3 x 8 bytes x k = 48 MB).
_SCRATCH_MAX_K = 2_000_000


def _scratch(k: int) -> FloatArray:
    """Three float buffers of length k, reused by every model fitted in this thread: a
    fresh 2.4 MB block per fit at k = 100,000 cost more in page faults than the fit.
    Models use them only inside one call (root finding, Fisher scoring, the Q-profile),
    never across calls, and each thread has its own."""
    bufs = getattr(_SCRATCH, "bufs", None)
    if bufs is None or bufs.shape[1] < k:
        bufs = np.empty((3, k))
        if k <= _SCRATCH_MAX_K:
            _SCRATCH.bufs = bufs
    return bufs[:, :k]


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

    # -- the common-effect fit (tau2 = 0), shared by the estimators and Q ---------------
    @cached_property
    def fit0(self) -> Fit:
        """WLS fit with weights 1/v: Q, the DL and HS estimators and I^2 all start here."""
        return self.fit_w(1.0 / self.v)

    @cached_property
    def sums0(self) -> tuple[float, float]:
        """sum(w^2) and sum(w^3) for w = 1/v."""
        w = self.fit0.w
        w2 = w * w
        return float(w2.sum()), dot(w2, w)

    # -- weighted least squares ---------------------------------------------------------
    def fit(self, tau2: float) -> Fit:
        if tau2 == 0.0:
            return self.fit0
        w = 1.0 / (self.v + tau2)
        return self.fit_w(w)

    def fit_w(self, w: FloatArray) -> Fit:
        y = self.y
        if self.X is None:
            sw = float(w.sum())
            mu = dot(w, y) / sw
            r = y - mu
            rss = float(np.einsum("i,i,i->", w, r, r))
            return Fit(w, sw, np.array([mu]), np.array([[1.0 / sw]]), r, rss)
        X = self.X
        Xw = X * w[:, None]
        A = X.T @ Xw
        ainv = np.linalg.inv(A).astype(np.float64, copy=False)
        beta = ainv @ (Xw.T @ y)
        r = y - X @ beta
        rss = float(np.einsum("i,i,i->", w, r, r))
        return Fit(w, float(w.sum()), beta, ainv, r, rss)

    # -- intercept-only sums in scratch buffers ---------------------------------------
    # At k = 100,000 allocating a fresh 800 kB array costs about as much as the arithmetic
    # on it (page faults), so the loops below (root finding, Fisher scoring) reuse three
    # buffers per model and return only sums.
    @cached_property
    def _scratch(self) -> FloatArray:
        return _scratch(self.k)

    def _weights(self, tau2: float) -> FloatArray:
        w = np.add(self.v, tau2, out=self._scratch[0])
        return np.reciprocal(w, out=w)

    def sums(self, tau2: float) -> tuple[float, float, float, float, float]:
        """Intercept-only: sum w, y'Py (= sum w r^2), y'PPy (= sum (w r)^2), sum w^2 and
        sum w^3 for w = 1/(v + tau2), r = y - weighted mean."""
        buf = self._scratch
        w = self._weights(tau2)
        sw = float(w.sum())
        r = np.subtract(self.y, dot(w, self.y) / sw, out=buf[1])
        wr = np.multiply(w, r, out=buf[2])
        rss, ypPy = dot(wr, r), dot(wr, wr)
        w2 = np.multiply(w, w, out=buf[1])
        return sw, rss, ypPy, float(w2.sum()), dot(w2, w)

    def q_slope(self, tau2: float) -> tuple[float, float]:
        """Q(tau2) = y'P y and its derivative dQ/dtau2 = -y'PPy = -sum((w r)^2)."""
        if self.X is None:
            buf = self._scratch
            w = self._weights(tau2)
            r = np.subtract(self.y, dot(w, self.y) / float(w.sum()), out=buf[1])
            wr = np.multiply(w, r, out=buf[2])
            return dot(wr, r), -dot(wr, wr)
        f = self.fit(tau2)
        wr = f.w * f.resid
        return f.rss, -dot(wr, wr)

    def q(self, tau2: float) -> float:
        """Generalised Q statistic y'P(tau2)y (monotone decreasing in tau2)."""
        if self.X is None:
            return self.q_slope(tau2)[0]
        return self.fit(tau2).rss

    # -- traces of P, PP, PV... ----------------------------------------------------------
    def traces(self, fit: Fit) -> tuple[float, float]:
        """tr(P) and tr(PP) for the weights of ``fit``."""
        w = fit.w
        if self.X is None:
            s = fit.sw
            if fit is self.fit0:
                sw2, sw3 = self.sums0
            else:
                w2 = w * w
                sw2, sw3 = float(w2.sum()), dot(w2, w)
            return s - sw2 / s, sw2 - 2.0 * sw3 / s + (sw2 / s) ** 2
        sw2 = dot(w, w)
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
            r = np.subtract(self.y, self.y.mean(), out=self._scratch[1])
            return dot(r, r)
        beta, *_ = np.linalg.lstsq(self.X, self.y, rcond=None)
        r = self.y - self.X @ beta
        return dot(r, r)

    def loglik(self, tau2: float, reml: bool) -> float:
        """Log-likelihood as metafor's ll0check computes it (without the ln|X'X| constant)."""
        k, p = self.k, self.p
        if self.X is None:
            sw, rss, _, _, _ = self.sums(tau2)
            logv = np.log(np.add(self.v, tau2, out=self._scratch[0]), out=self._scratch[0])
            n = k - p if reml else k
            return float(
                -0.5 * n * math.log(2 * math.pi)
                - 0.5 * float(logv.sum())
                - (0.5 * math.log(sw) if reml else 0.0)
                - 0.5 * rss
            )
        fit = self.fit(tau2)
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


def _root_q(
    model: Model,
    target: float,
    lo: float,
    hi: Callable[[], float],
    start: float | None = None,
) -> tuple[float, bool]:
    """Solve Q(tau2) = target for tau2 >= lo, where Q(lo) >= target. Returns (root, ok).

    Q is decreasing and convex in tau2 (y'P(tau2)y is the minimum over the coefficients of
    sums of (y - Xb)^2 / (v + tau2), each jointly convex), so Newton's method started at
    ``lo``, left of the root, climbs to it monotonically and converges quadratically, in
    about 5 to 10 evaluations of Q and its derivative -y'PPy. Started at ``start`` right
    of the root instead, the first step lands left of it (the tangent of a convex function
    lies below it) or is clamped at ``lo``, and the climb goes on from there; a good
    ``start`` (PM: the DerSimonian-Laird estimate, free from the common-effect fit) saves
    a few evaluations. Brent's method on [lo, hi] (hi widened until it brackets the root)
    is the fallback.
    """
    t = lo if start is None else max(lo, start)
    q, slope = model.q_slope(t)
    for _ in range(100):
        if not (math.isfinite(q) and math.isfinite(slope)) or slope >= 0:
            break
        step = (q - target) / -slope
        t_new = max(lo, t + step)
        # Quadratic convergence: once a step is 1e-12 of tau2 the error left is far below
        # rounding (noise near the root also gives tiny steps of either sign).
        if abs(t_new - t) <= 1e-12 * t_new + 1e-300:
            return t_new, True
        t = t_new
        q, slope = model.q_slope(t)
    return _brent_q(model, target, lo, max(hi(), t))


def _dl_start(model: Model) -> float | None:
    """The DerSimonian-Laird estimate (intercept only), from sums already computed."""
    if model.X is not None:
        return None
    f0 = model.fit0
    sw2 = model.sums0[0]
    return max(0.0, (f0.rss - (model.k - 1)) / (f0.sw - sw2 / f0.sw))


def _brent_q(model: Model, target: float, lo: float, hi: float) -> tuple[float, bool]:
    f = lambda t: model.q(t) - target  # noqa: E731 -- a one-line alias reads better than a nested def
    tries = 0
    while f(hi) > 0:
        hi *= 10
        tries += 1
        if tries > 30:
            return hi, False
    root = optimize.brentq(f, lo, hi, xtol=1e-12, rtol=4 * _EPS, maxiter=500)
    return float(root), True


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
        if model.fit0.rss < target:
            tau2 = 0.0
        else:
            tau2, ok = _root_q(
                model, target, 0.0, lambda: max(100.0, 10 * _mad2(model.y)), _dl_start(model)
            )
            if not ok:
                return Tau2Estimate(
                    tau2, None, False, 0, ["Paule-Mandel: no root of Q(tau2) = k - p found"]
                )
        sw = float(model._weights(tau2).sum()) if model.X is None else model.fit(tau2).sw
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
            if model.X is None:
                sw, rss, ypPy, sw2, sw3 = model.sums(tau2)
                if method == "EB":
                    return (rss * k / (k - p) - k) / sw
                if method == "ML":
                    return (ypPy - sw) / sw2
                trP, trPP = sw - sw2 / sw, sw2 - 2.0 * sw3 / sw + (sw2 / sw) ** 2
                return (ypPy - trP) / trPP
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
            if model.X is None:
                sw, _, _, sw2, sw3 = model.sums(tau2)
                trPP = sw2 - 2.0 * sw3 / sw + (sw2 / sw) ** 2
                se = {
                    "ML": lambda: math.sqrt(2 / sw2),
                    "REML": lambda: math.sqrt(2 / trPP),
                }.get(method, lambda: math.sqrt(2 * k**2 / (k - p) / sw**2))()
                return se if math.isfinite(se) else None
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
