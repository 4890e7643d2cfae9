"""Subgroup analysis, leave-one-out and cumulative meta-analysis.

References
----------
Borenstein M, Hedges LV, Higgins JPT, Rothstein HR (2009). Introduction to Meta-Analysis,
chapter 19 (subgroups: separate vs common tau^2). Deeks JJ, Higgins JPT, Altman DG,
Cochrane Handbook 10.11.3.1 (test for subgroup differences as RevMan reports it).
Lau J et al. (1992). Cumulative meta-analysis of therapeutic trials for myocardial
infarction. N Engl J Med 327:248-254.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import FloatArray, study_name
from ._dist import chi2_sf
from .pooling import _unpack, metareg, normalise_test, pool
from .results import PoolResult, num

_ROW_KEYS = (
    "k", "estimate", "se", "zval", "tval", "df", "pval", "ci_lb", "ci_ub", "pi_lb", "pi_ub",
    "tau2", "i2", "h2", "q", "q_df", "q_pval",
)  # fmt: skip


def _row(res: PoolResult) -> dict[str, Any]:
    d = {
        "k": res.k,
        "estimate": num(res.estimate),
        "se": num(res.se),
        "pval": num(res.pval),
        "ci_lb": num(res.ci_lb),
        "ci_ub": num(res.ci_ub),
        "pi_lb": num(res.pi_lb),
        "pi_ub": num(res.pi_ub),
        "tau2": num(res.tau2),
        "i2": num(res.i2),
        "h2": num(res.h2),
        "q": num(res.q),
        "q_df": res.q_df,
        "q_pval": num(res.q_pval),
        "converged": res.converged,
    }
    if res.df is None:
        d["zval"] = num(res.stat)
    else:
        d["tval"] = num(res.stat)
        d["df"] = num(res.df)
    return d


@dataclass(frozen=True, eq=False)
class SubgroupResult:
    """Per-subgroup pools, the test for subgroup differences and the overall pool."""

    method: str
    test: str
    tau2_mode: str
    measure: str | None
    subgroups: dict[str, PoolResult]
    overall: PoolResult
    q_between: float
    q_between_df: int
    q_between_pval: float
    i2_between: float
    tau2_common: float | None = None
    q_between_is_f: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "test": self.test,
            "tau2": self.tau2_mode,
            "measure": self.measure,
            "subgroups": {name: res.to_dict() for name, res in self.subgroups.items()},
            "q_between": num(self.q_between),
            "q_between_df": self.q_between_df,
            "q_between_pval": num(self.q_between_pval),
            "q_between_is_f": self.q_between_is_f,
            "i2_between": num(self.i2_between),
            "tau2_common": num(self.tau2_common),
            "overall": self.overall.to_dict(),
        }


def subgroups(
    yi: Any,
    vi: Any,
    groups: Sequence[Any],
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
    tau2: str = "separate",
    measure: str | None = None,
    labels: Sequence[Any] | None = None,
) -> SubgroupResult:
    """Subgroup meta-analysis with a test for subgroup differences.

    ``tau2="separate"`` (RevMan, meta's default): each subgroup is pooled on its own and
    ``Q_between = sum_g w_g (theta_g - theta_bar)^2`` with ``w_g = 1/SE_g^2``, df = G - 1
    (Borenstein et al. 2009; the "Test for subgroup differences" in RevMan).
    ``tau2="common"``: one tau^2 from the mixed-effects model with subgroup dummies
    (metafor ``rma(yi, vi, mods = ~ factor(g))``); ``Q_between`` is that model's QM
    (an F statistic under Knapp-Hartung) and each subgroup is pooled with the common tau^2.
    Subgroups appear in order of first appearance.
    """
    if tau2 not in ("separate", "common"):
        raise ValueError("tau2 must be 'separate' or 'common'")
    es_like = vi is None
    y, v, labs, measure, notes = _unpack(yi, vi, labels, measure)
    g = [str(x) for x in groups]
    # With EffectSizes, groups refer to all input rows; keep those still present.
    if es_like and len(g) == len(yi):
        g = [g[i] for i in np.flatnonzero(yi.estimable)]
    if len(g) != y.shape[0]:
        raise ValueError(f"got {len(g)} group labels for {y.shape[0]} studies")
    names = list(dict.fromkeys(g))
    if len(names) < 2:
        raise ValueError("a subgroup analysis needs at least two subgroups")
    garr = np.array(g, dtype=object)
    test = normalise_test(test)
    overall = pool(y, v, method=method, test=test, level=level, measure=measure, labels=labs)
    fits: dict[str, PoolResult] = {}
    tau2_common = None
    q_is_f = False
    if tau2 == "separate":
        for name in names:
            idx = np.flatnonzero(garr == name)
            fits[name] = pool(
                y[idx], v[idx], method=method, test=test, level=level, measure=measure,
                labels=[labs[i] for i in idx],
            )  # fmt: skip
        est = np.array([f.estimate for f in fits.values()])
        wg = 1.0 / np.array([f.se for f in fits.values()]) ** 2
        theta = float(wg @ est) / float(wg.sum())
        qb = float((wg * (est - theta) ** 2).sum())
        qb_df = len(names) - 1
        qb_p = chi2_sf(qb, qb_df)
    else:
        dummies = np.column_stack([(garr == name).astype(float) for name in names[1:]])
        mr = metareg(y, v, dummies, method=method, test=test, level=level, names=names[1:])
        tau2_common = mr.tau2
        for name in names:
            idx = np.flatnonzero(garr == name)
            fits[name] = pool(
                y[idx], v[idx], method=method, test=test, level=level, measure=measure,
                labels=[labs[i] for i in idx], tau2=tau2_common,
            )  # fmt: skip
        qb, qb_df, qb_p = mr.qm, mr.qm_df, mr.qm_pval
        q_is_f = mr.df is not None
    i2b = max(0.0, 100 * (qb - qb_df) / qb) if qb > 0 and not q_is_f else 0.0
    return SubgroupResult(
        method=overall.method,
        test=test,
        tau2_mode=tau2,
        measure=measure,
        subgroups=fits,
        overall=overall,
        q_between=qb,
        q_between_df=qb_df,
        q_between_pval=qb_p,
        i2_between=i2b,
        tau2_common=tau2_common,
        q_between_is_f=q_is_f,
    )


@dataclass(frozen=True, eq=False)
class SequentialResult:
    """Rows of refits: leave-one-out (``kind="leave1out"``) or cumulative."""

    kind: str
    method: str
    test: str
    measure: str | None
    studies: tuple[str, ...]
    fits: tuple[PoolResult, ...]

    def __len__(self) -> int:
        return len(self.fits)

    def column(self, name: str) -> FloatArray:
        """One quantity across rows, e.g. ``res.column("estimate")``."""
        return np.array([np.nan if (x := getattr(f, name)) is None else x for f in self.fits])

    def to_dict(self) -> dict[str, Any]:
        key = "omitted" if self.kind == "leave1out" else "added"
        return {
            "kind": self.kind,
            "method": self.method,
            "test": self.test,
            "measure": self.measure,
            "rows": [{key: s, **_row(f)} for s, f in zip(self.studies, self.fits, strict=True)],
        }


def leave_one_out(
    yi: Any,
    vi: Any = None,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
    measure: str | None = None,
    labels: Sequence[Any] | None = None,
) -> SequentialResult:
    """Refit the same model k times, each time without one study (``metafor::leave1out``)."""
    y, v, labs, measure, _ = _unpack(yi, vi, labels, measure)
    k = y.shape[0]
    if k < 2:
        raise ValueError("leave-one-out needs at least two studies")
    fits = []
    for i in range(k):
        keep = np.arange(k) != i
        fits.append(
            pool(y[keep], v[keep], method=method, test=test, level=level, measure=measure,
                 labels=[lab for j, lab in enumerate(labs) if j != i])
        )  # fmt: skip
    return SequentialResult("leave1out", fits[0].method, fits[0].test, measure, labs, tuple(fits))


def leave_one_out_tables(
    fit: Callable[..., PoolResult], ai: Any, bi: Any, ci: Any, di: Any, **kwargs: Any
) -> SequentialResult:
    """Leave-one-out for ``pool_mh`` or ``pool_peto`` on 2x2 tables."""
    a, b, c, d = (np.asarray(x, dtype=float) for x in (ai, bi, ci, di))
    k = a.shape[0]
    labs = tuple(str(x) for x in kwargs.pop("labels", range(1, k + 1)))
    fits = []
    for i in range(k):
        keep = np.arange(k) != i
        fits.append(fit(a[keep], b[keep], c[keep], d[keep], **kwargs))
    return SequentialResult("leave1out", fits[0].method, "z", fits[0].measure, labs, tuple(fits))


def cumulative(
    yi: Any,
    vi: Any = None,
    *,
    order: Sequence[Any] | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
    measure: str | None = None,
    labels: Sequence[Any] | None = None,
) -> SequentialResult:
    """Cumulative meta-analysis, adding studies by ascending ``order`` (``metafor::cumul``).

    Ties keep input order (a stable sort, as R's ``order``). Without ``order`` the input
    order is used. The first row (k = 1) is the first study with heterogeneity undefined.
    """
    y, v, labs, measure, _ = _unpack(yi, vi, labels, measure)
    k = y.shape[0]
    if order is None:
        idx = np.arange(k)
    else:
        o = np.asarray(order)
        if o.shape[0] != k:
            raise ValueError(f"order has {o.shape[0]} values for {k} studies")
        idx = np.argsort(o, kind="stable")
    fits = []
    for j in range(1, k + 1):
        sel = idx[:j]
        fits.append(
            pool(y[sel], v[sel], method=method, test=test, level=level, measure=measure,
                 labels=[labs[i] for i in sel])
        )  # fmt: skip
    return SequentialResult(
        "cumulative",
        fits[-1].method,
        fits[-1].test,
        measure,
        tuple(labs[i] for i in idx),
        tuple(fits),
    )


__all__ = ["subgroups", "leave_one_out", "leave_one_out_tables", "cumulative", "study_name"]
