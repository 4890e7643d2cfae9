"""Three-level meta-analysis: several effect sizes within each study.

The model is metafor's ``rma.mv(yi, vi, random = ~ 1 | study/es)``::

    y_ij = mu + u_i + w_ij + e_ij
    u_i ~ N(0, s2_between),  w_ij ~ N(0, s2_within),  e_ij ~ N(0, v_ij)

so the marginal covariance is block diagonal, one block per study:
``V_i = diag(s2_within + v_i) + s2_between * 1 1'``. Every quantity the fit needs is a sum
over blocks, computed with the Sherman-Morrison inverse of each block; nothing of size k x k
is ever formed, so a fit of 1,000 effect sizes costs a few milliseconds.

The variance components maximise the restricted (REML) or full (ML) log-likelihood with an
analytic gradient, within their bounds (zero allowed). The multilevel I^2 splits the total as
in the metafor documentation (Cheung 2014): each component over the components plus the
"typical" sampling variance ``(k - 1) / tr(P)``, with ``P = W - W 1 (1'W1)^-1 1'W`` and
``W = diag(1/v)``.

``robust=True`` gives cluster-robust inference with studies as clusters and the small-sample
CR2 correction with Satterthwaite degrees of freedom (Pustejovsky and Tipton 2018), as
metafor's ``robust(fit, cluster = study, clubSandwich = TRUE)``: the working model is the
fitted one, so its inverse supplies the weights and its covariance the adjustment's target.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize

from ._dist import alpha_from_level, chi2_sf, t_crit, t_pval, z_crit, z_pval
from .results import num

_LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class MultilevelResult:
    """Result of :func:`pool_multilevel`. ``df`` is set (and ``tval`` used) for robust tests."""

    k: int
    n_studies: int
    method: str
    robust: bool
    level: float
    estimate: float
    se: float
    stat: float
    pval: float
    ci_lb: float
    ci_ub: float
    df: float | None
    sigma2_between: float
    sigma2_within: float
    i2_between: float
    i2_within: float
    q: float
    q_df: int
    q_pval: float
    loglik: float
    weights: tuple[float, ...]
    studies: tuple[str, ...]

    @property
    def zval(self) -> float | None:
        return self.stat if self.df is None else None

    @property
    def tval(self) -> float | None:
        return self.stat if self.df is not None else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "k": self.k,
            "n_studies": self.n_studies,
            "method": self.method,
            "robust": self.robust,
            "level": self.level,
            "estimate": num(self.estimate),
            "se": num(self.se),
            "zval": num(self.zval),
            "tval": num(self.tval),
            "df": num(self.df),
            "pval": num(self.pval),
            "ci_lb": num(self.ci_lb),
            "ci_ub": num(self.ci_ub),
            "sigma2_between": num(self.sigma2_between),
            "sigma2_within": num(self.sigma2_within),
            "i2_between": num(self.i2_between),
            "i2_within": num(self.i2_within),
            "q": num(self.q),
            "q_df": self.q_df,
            "q_pval": num(self.q_pval),
            "loglik": num(self.loglik),
            "weights": [num(w) for w in self.weights],
        }
        return out


class _Blocks:
    """The data grouped by study, and sums over each study's block of the model."""

    def __init__(self, yi: np.ndarray, vi: np.ndarray, codes: np.ndarray, n_studies: int):
        self.y = yi
        self.v = vi
        self.codes = codes
        self.n = n_studies

    def per_study(self, x: np.ndarray) -> np.ndarray:
        return np.bincount(self.codes, weights=x, minlength=self.n)

    def parts(self, s2b: float, s2w: float) -> dict[str, Any]:
        """V^-1 applied to 1 and to y, and the sums the likelihood and its gradient need."""
        wd = 1.0 / (self.v + s2w)
        s = self.per_study(wd)  # 1_i' D_i^-1 1_i
        c = s2b / (1.0 + s2b * s)  # Sherman-Morrison factor of each block
        denom = 1.0 + s2b * s
        u = wd / denom[self.codes]  # V^-1 1
        b = float(np.sum(s / denom))  # 1' V^-1 1
        ty = self.per_study(wd * self.y)
        vinv_y = wd * self.y - (c * ty)[self.codes] * wd
        mu = float(np.dot(u, self.y)) / b
        r = self.y - mu
        tr_ = self.per_study(wd * r)
        vinv_r = wd * r - (c * tr_)[self.codes] * wd  # = P y
        return {
            "wd": wd,
            "s": s,
            "c": c,
            "denom": denom,
            "u": u,
            "b": b,
            "mu": mu,
            "r": r,
            "vinv_r": vinv_r,
            "vinv_y": vinv_y,
        }

    def loglik(
        self, s2b: float, s2w: float, reml: bool
    ) -> tuple[float, np.ndarray, dict[str, Any]]:
        """Log-likelihood, its gradient in (s2b, s2w), and the parts it used."""
        p = self.parts(s2b, s2w)
        wd, s, c, denom, u, b, r, pr = (
            p["wd"],
            p["s"],
            p["c"],
            p["denom"],
            p["u"],
            p["b"],
            p["r"],
            p["vinv_r"],
        )
        k = len(self.y)
        logdet = float(np.sum(np.log(self.v + s2w)) + np.sum(np.log(denom)))
        rss = float(np.dot(r, pr))
        # Traces with V^-1 (ML) or P = V^-1 - u u' / b (REML).
        tr_vinv_j = float(np.sum(s / denom))
        tr_vinv = float(np.sum(wd) - np.sum(c * self.per_study(wd * wd)))
        if reml:
            u_sums = self.per_study(u)
            tr_j = tr_vinv_j - float(np.dot(u_sums, u_sums)) / b
            tr_i = tr_vinv - float(np.dot(u, u)) / b
            # metafor's REML likelihood keeps the constant + log|X'X| / 2 (X = 1: log k / 2).
            ll = -0.5 * ((k - 1) * _LOG_2PI + logdet + math.log(b) - math.log(k) + rss)
        else:
            tr_j, tr_i = tr_vinv_j, tr_vinv
            ll = -0.5 * (k * _LOG_2PI + logdet + rss)
        pr_sums = self.per_study(pr)
        grad = 0.5 * np.array(
            [float(np.dot(pr_sums, pr_sums)) - tr_j, float(np.dot(pr, pr)) - tr_i]
        )
        return ll, grad, p


def _as_arrays(
    yi: Any, vi: Any, study: Any
) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    y = np.asarray(yi, dtype=np.float64).ravel()
    v = np.asarray(vi, dtype=np.float64).ravel()
    labels = [str(s) for s in (study.tolist() if isinstance(study, np.ndarray) else study)]
    if not (len(y) == len(v) == len(labels)):
        raise ValueError(
            f"yi, vi and study must have the same length (got {len(y)}, {len(v)}, {len(labels)})"
        )
    if len(y) < 3:
        raise ValueError("a three-level model needs at least three effect sizes")
    if not (np.isfinite(y).all() and np.isfinite(v).all()):
        raise ValueError("yi and vi must be finite numbers")
    if (v <= 0).any():
        raise ValueError("every sampling variance vi must be greater than zero")
    order: dict[str, int] = {}
    codes = np.fromiter((order.setdefault(s, len(order)) for s in labels), dtype=np.intp)
    return y, v, list(order), codes


def _start(blocks: _Blocks) -> np.ndarray:
    """Method-of-moments style start: the DerSimonian-Laird tau^2, split in two halves."""
    w = 1.0 / blocks.v
    mu = float(np.dot(w, blocks.y) / w.sum())
    q = float(np.dot(w, (blocks.y - mu) ** 2))
    tau2 = max(0.0, (q - (len(w) - 1)) / (w.sum() - np.dot(w, w) / w.sum()))
    tau2 = tau2 if tau2 > 0 else float(np.var(blocks.y)) / 10 + 1e-4
    return np.array([tau2 / 2, tau2 / 2])


def _fit(blocks: _Blocks, reml: bool) -> tuple[np.ndarray, float]:
    scale = max(float(np.var(blocks.y)), float(np.median(blocks.v)), 1e-8)

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        ll, grad, _ = blocks.loglik(x[0] * scale, x[1] * scale, reml)
        return -ll, -grad * scale

    res = optimize.minimize(
        objective,
        _start(blocks) / scale,
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, None), (0.0, None)],
        options={"ftol": 1e-15, "gtol": 1e-11, "maxiter": 2000},
    )
    if not np.isfinite(res.x).all():
        raise ValueError("the variance components could not be estimated (non-finite values)")
    x = res.x * scale
    return x, float(-res.fun)


def _cr2(
    blocks: _Blocks, s2b: float, s2w: float, b: float, u: np.ndarray, r: np.ndarray
) -> tuple[float, float]:
    """CR2 variance of the pooled estimate and its Satterthwaite degrees of freedom.

    With X = 1, M = 1/b and working weights W = V^-1 (so the target is V itself), each
    study's adjustment is A_i = R_i' (R_i G_i R_i')^-1/2 R_i with R_i'R_i = V_i and
    G_i = V_i - M 1 1'. With g_i = M A_i' u_i the robust variance is sum_i (g_i' r_i)^2.

    Satterthwaite's df for that sum under the working model reduces, because V u = 1 and
    1'(I - H) = 0, to Omega_ij = [i = j] g_i'V_i g_i - M G_i G_j with G_i = 1'g_i, and
    df = tr(Omega)^2 / sum(Omega^2): no k-by-k matrix is formed. Studies of equal size are
    handled together as one stack of matrices.
    """
    m = 1.0 / b
    meat = 0.0
    quad = np.empty(blocks.n)  # g_i' V_i g_i
    sums = np.empty(blocks.n)  # G_i
    index = np.argsort(blocks.codes, kind="stable")
    starts = np.searchsorted(blocks.codes[index], np.arange(blocks.n + 1))
    sizes = np.diff(starts)
    for size in np.unique(sizes):
        which = np.flatnonzero(sizes == size)
        rows = index[starts[which][:, None] + np.arange(size)]  # (studies, size)
        eye = np.eye(size)
        v_i = (blocks.v[rows] + s2w)[:, :, None] * eye + s2b  # stack of V_i
        chol = np.swapaxes(np.linalg.cholesky(v_i), 1, 2)  # upper R: R'R = V_i
        inner = chol @ (v_i - m) @ np.swapaxes(chol, 1, 2)
        evals, evecs = np.linalg.eigh(inner)
        inv_sqrt = (evecs / np.sqrt(np.clip(evals, 1e-300, None))[:, None, :]) @ np.swapaxes(
            evecs, 1, 2
        )
        a_i = np.swapaxes(chol, 1, 2) @ inv_sqrt @ chol
        g = m * np.einsum("sji,sj->si", a_i, u[rows])  # g_i = M A_i' u_i
        meat += float(np.sum(np.einsum("si,si->s", g, r[rows]) ** 2))
        quad[which] = np.einsum("si,sij,sj->s", g, v_i, g)
        sums[which] = g.sum(axis=1)
    trace = float(quad.sum() - m * np.dot(sums, sums))
    squares = float(
        np.dot(quad, quad) - 2 * m * np.dot(quad, sums * sums) + (m * np.dot(sums, sums)) ** 2
    )
    return meat, trace * trace / squares


def pool_multilevel(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    study: Sequence[Any] | np.ndarray,
    *,
    method: str = "REML",
    robust: bool = False,
    level: float = 95,
) -> MultilevelResult:
    """Pool effect sizes nested in studies with a three-level random-effects model.

    ``study`` names each effect size's study (any hashable labels). ``method`` is "REML" or
    "ML". With ``robust=True`` the standard error, test (t with Satterthwaite df) and interval
    are cluster-robust (CR2), studies being the clusters; the estimate is unchanged.
    """
    method = method.upper()
    if method not in ("REML", "ML"):
        raise ValueError(f"method must be 'REML' or 'ML', got {method!r}")
    alpha = alpha_from_level(level)
    y, v, studies, codes = _as_arrays(yi, vi, study)
    k, n = len(y), len(studies)
    if n == k:
        raise ValueError(
            "every study has one effect size, so the within-study variance cannot be told "
            "apart from the between-study variance: use pool() instead"
        )
    if n < 2:
        raise ValueError("a three-level model needs effect sizes from at least two studies")
    blocks = _Blocks(y, v, codes, n)
    (s2b, s2w), ll = _fit(blocks, reml=method == "REML")
    parts = blocks.parts(s2b, s2w)
    b, mu, u = parts["b"], parts["mu"], parts["u"]
    se = math.sqrt(1.0 / b)
    df: float | None = None
    if robust:
        var, df = _cr2(blocks, s2b, s2w, b, u, parts["r"])
        se = math.sqrt(var)
        stat = mu / se
        pval = t_pval(stat, df)
        crit = t_crit(alpha, df)
    else:
        stat = mu / se
        pval = z_pval(stat)
        crit = z_crit(alpha)

    # Heterogeneity: Cochran's Q with the sampling variances alone, and the I^2 split.
    w = 1.0 / v
    sw = w.sum()
    q = float(np.dot(w, (y - np.dot(w, y) / sw) ** 2))
    tr_p = float(sw - np.dot(w, w) / sw)
    typical = (k - 1) / tr_p
    total = s2b + s2w + typical
    return MultilevelResult(
        k=k,
        n_studies=n,
        method=method,
        robust=robust,
        level=100 * (1 - alpha),
        estimate=mu,
        se=se,
        stat=stat,
        pval=pval,
        ci_lb=mu - crit * se,
        ci_ub=mu + crit * se,
        df=df,
        sigma2_between=float(s2b),
        sigma2_within=float(s2w),
        i2_between=100 * s2b / total,
        i2_within=100 * s2w / total,
        q=q,
        q_df=k - 1,
        q_pval=chi2_sf(q, k - 1),
        loglik=ll,
        weights=tuple((100 * u / u.sum()).tolist()),
        studies=tuple(studies),
    )
