"""Immutable result objects.

Results are frozen dataclasses: attribute access for code, ``to_dict()`` (JSON-safe:
NaN and infinities become ``None``) for storage and the API. Each carries the method,
test and measure that produced it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from ._checks import FloatArray
from ._dist import chi2_ppf
from ._estimators import Model, _root_q


def num(x: Any) -> float | None:
    """JSON-safe float: None for missing, NaN or infinite values."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _float_list(a: FloatArray) -> list[float | None]:
    if bool(np.isfinite(a).all()):
        return a.tolist()
    return [num(x) for x in a.tolist()]


def _freeze(a: FloatArray) -> FloatArray:
    a = np.asarray(a, dtype=np.float64)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class QProfile:
    """Q-profile confidence intervals for tau^2, I^2 (percent) and H^2."""

    tau2_ci_lb: float | None
    tau2_ci_ub: float | None
    i2_ci_lb: float | None
    i2_ci_ub: float | None
    h2_ci_lb: float | None
    h2_ci_ub: float | None
    null_set: bool = False


_NO_QP = QProfile(None, None, None, None, None, None)


@dataclass(frozen=True, eq=False)
class PoolResult:
    """Result of :func:`pool`, :func:`pool_mh` or :func:`pool_peto`.

    ``i2`` and ``h2`` are tau^2-based for random-effects methods (metafor; equal to the
    Q-based values for DL) and Q-based for FE, MH and Peto. Heterogeneity fields are
    ``None`` when undefined (k = 1). ``weights`` are percentages in input order.
    The Q-profile intervals (``tau2_ci_lb`` ... ``h2_ci_ub``) are computed on first access.
    """

    k: int
    measure: str | None
    method: str
    test: str
    level: float
    estimate: float
    se: float
    stat: float
    pval: float
    ci_lb: float
    ci_ub: float
    pi_lb: float | None
    pi_ub: float | None
    tau2: float | None
    tau2_se: float | None
    i2: float | None
    h2: float | None
    q: float | None
    q_df: int
    q_pval: float | None
    weights: FloatArray
    labels: tuple[str, ...]
    df: float | None = None
    pi_type: str = "default"
    converged: bool = True
    iterations: int = 0
    warnings: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    _model: Model | None = field(default=None, repr=False)
    _vt: float | None = field(default=None, repr=False)
    _alpha: float = field(default=0.05, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _freeze(self.weights))

    # -- test statistic under its conventional name --------------------------------------
    @property
    def zval(self) -> float | None:
        return self.stat if self.df is None else None

    @property
    def tval(self) -> float | None:
        return self.stat if self.df is not None else None

    @property
    def tau(self) -> float | None:
        return None if self.tau2 is None else math.sqrt(self.tau2)

    # -- lazily computed Q-profile interval ----------------------------------------------
    @cached_property
    def qprofile(self) -> QProfile:
        model = self._model
        if model is None or self._vt is None or self.method in ("FE", "MH", "PETO"):
            return _NO_QP
        return q_profile(model, self._vt, self._alpha, self.tau2 or 0.0)

    @property
    def tau2_ci_lb(self) -> float | None:
        return self.qprofile.tau2_ci_lb

    @property
    def tau2_ci_ub(self) -> float | None:
        return self.qprofile.tau2_ci_ub

    @property
    def i2_ci_lb(self) -> float | None:
        return self.qprofile.i2_ci_lb

    @property
    def i2_ci_ub(self) -> float | None:
        return self.qprofile.i2_ci_ub

    @property
    def h2_ci_lb(self) -> float | None:
        return self.qprofile.h2_ci_lb

    @property
    def h2_ci_ub(self) -> float | None:
        return self.qprofile.h2_ci_ub

    def to_dict(self, *, qprofile: bool = True) -> dict[str, Any]:
        """Every result as JSON-safe values. ``qprofile=False`` leaves out the Q-profile
        intervals (their keys hold None), which are the only part that needs more than the
        fit itself: two root searches over Q(tau2)."""
        qp = self.qprofile if qprofile else _NO_QP
        d: dict[str, Any] = {
            "k": self.k,
            "measure": self.measure,
            "method": self.method,
            "test": self.test,
            "level": self.level,
            "estimate": num(self.estimate),
            "se": num(self.se),
        }
        if self.df is None:
            d["zval"] = num(self.stat)
        else:
            d["tval"] = num(self.stat)
            d["df"] = num(self.df)
        d.update(
            {
                "pval": num(self.pval),
                "ci_lb": num(self.ci_lb),
                "ci_ub": num(self.ci_ub),
                "pi_lb": num(self.pi_lb),
                "pi_ub": num(self.pi_ub),
                "pi_type": self.pi_type,
                "tau2": num(self.tau2),
                "tau2_se": num(self.tau2_se),
                "tau2_ci_lb": num(qp.tau2_ci_lb),
                "tau2_ci_ub": num(qp.tau2_ci_ub),
                "i2": num(self.i2),
                "i2_ci_lb": num(qp.i2_ci_lb),
                "i2_ci_ub": num(qp.i2_ci_ub),
                "h2": num(self.h2),
                "h2_ci_lb": num(qp.h2_ci_lb),
                "h2_ci_ub": num(qp.h2_ci_ub),
                "q": num(self.q),
                "q_df": self.q_df,
                "q_pval": num(self.q_pval),
                "weights": _float_list(self.weights),
                "studies": list(self.labels),
                "converged": self.converged,
                "warnings": list(self.warnings)
                + (["Q-profile CI for tau2 is the null set"] if qp.null_set else []),
            }
        )
        for key, val in self.extra.items():
            d[key] = num(val) if isinstance(val, (float, np.floating)) else val
        return d


def q_profile(model: Model, vt: float, alpha: float, tau2_hat: float) -> QProfile:
    """Q-profile CI for tau^2 (Viechtbauer 2007), as ``metafor::confint.rma.uni``.

    The bounds solve Q(tau2) = chi2 quantiles with k - p df; Q(tau2) is decreasing and
    convex, so each bound is found by Newton's method from its left (Brent as fallback).
    metafor's uniroot stops at a tolerance of 1.2e-4; we solve to about 1e-12 relative.
    """
    df = model.k - model.p
    if df < 1:
        return _NO_QP
    crit_u = chi2_ppf(1 - alpha / 2, df)
    crit_l = chi2_ppf(alpha / 2, df)
    q0 = model.fit0.rss
    hi = max(100.0, 10.0 * tau2_hat)
    null_set = False
    if q0 < crit_l:
        lb = ub = 0.0
        null_set = True
    else:
        # Both bounds start from the estimate (Newton converges from either side on the
        # convex Q); the upper bound lies right of the lower one.
        lb = 0.0 if q0 < crit_u else _root_q(model, crit_u, 0.0, lambda: hi, tau2_hat)[0]
        ub, _ = _root_q(model, crit_l, lb, lambda: max(hi, lb), max(lb, tau2_hat))

    def i2(t: float) -> float:
        return 100.0 * t / (vt + t)

    def h2(t: float) -> float:
        return t / vt + 1.0

    return QProfile(lb, ub, i2(lb), i2(ub), h2(lb), h2(ub), null_set)
