"""Mantel-Haenszel and Peto pooling of 2x2 tables (metafor ``rma.mh``, ``rma.peto``).

References
----------
Mantel N, Haenszel W (1959). J Natl Cancer Inst 22:719-748.
Robins J, Breslow N, Greenland S (1986). Estimators of the Mantel-Haenszel variance
consistent in both sparse data and large-strata limiting models. Biometrics 42:311-323.
Greenland S, Robins JM (1985). Estimation of a common effect parameter from sparse
follow-up data. Biometrics 41:55-68.
Sato T, Greenland S, Robins JM (1989). On the variance estimator for the Mantel-Haenszel
risk difference. Biometrics 45:1323-1324.
Yusuf S, Peto R, Lewis J, Collins R, Sleight P (1985). Beta blockade during and after
myocardial infarction. Prog Cardiovasc Dis 27:335-371.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._checks import FloatArray
from ._dist import alpha_from_level, chi2_sf, z_crit, z_pval
from .effect_sizes import escalc, table_2x2
from .results import PoolResult


def _heterogeneity(
    measure: str, a: FloatArray, b: FloatArray, c: FloatArray, d: FloatArray, theta: float
) -> tuple[float | None, int, float | None, float | None, float | None]:
    """Q around the pooled estimate with the per-study escalc estimates (0.5 added to
    zero-cell tables, double-zero tables left out), as rma.mh/rma.peto and RevMan."""
    es = escalc(measure, ai=a, bi=b, ci=c, di=d, add=0.5, to="only0", drop00=True)
    ok = es.estimable
    k_yi = int(ok.sum())
    if k_yi < 2:
        return None, max(k_yi - 1, 0), None, None, None
    y, v = es.yi[ok], es.vi[ok]
    if measure == "PETO":
        return None, k_yi - 1, None, None, None  # Peto has its own Q; see pool_peto
    q = float(((y - theta) ** 2 / v).sum())
    df = k_yi - 1
    return q, df, chi2_sf(q, df), _i2(q, df), q / df


def _i2(q: float, df: int) -> float:
    return max(0.0, 100.0 * (q - df) / q) if q > 0 else 0.0


def _result(
    *,
    k: int,
    measure: str,
    method: str,
    level: float,
    alpha: float,
    est: float,
    var: float,
    q: float | None,
    q_df: int,
    q_pval: float | None,
    i2: float | None,
    h2: float | None,
    weights: FloatArray,
    labels: tuple[str, ...],
    notes: list[str],
    extra: dict[str, Any],
) -> PoolResult:
    se = math.sqrt(var)
    z = est / se
    crit = z_crit(alpha)
    lo, hi = est - crit * se, est + crit * se
    return PoolResult(
        k=k,
        measure=measure,
        method=method,
        test="z",
        level=level,
        estimate=est,
        se=se,
        stat=z,
        pval=z_pval(z),
        ci_lb=lo,
        ci_ub=hi,
        pi_lb=lo,  # tau2 = 0, so the prediction interval is the confidence interval
        pi_ub=hi,
        tau2=0.0,
        tau2_se=None,
        i2=i2,
        h2=h2,
        q=q,
        q_df=q_df,
        q_pval=q_pval,
        weights=weights,
        labels=labels,
        warnings=tuple(notes),
        extra=extra,
        _alpha=alpha,
    )


def pool_mh(
    ai: Any,
    bi: Any = None,
    ci: Any = None,
    di: Any = None,
    *,
    n1i: Any = None,
    n2i: Any = None,
    measure: str = "OR",
    level: float = 95,
    labels: Sequence[Any] | None = None,
    rd_variance: str = "SGR",
    zero_cell: str = "metafor",
) -> PoolResult:
    """Mantel-Haenszel common-effect pooling of 2x2 tables (``metafor::rma.mh``).

    Parameters
    ----------
    ai, bi, ci, di
        Events and non-events per arm (or pass ``n1i``/``n2i`` instead of ``bi``/``di``).
    measure
        ``"OR"``, ``"RR"`` (log scale) or ``"RD"``.
    rd_variance
        ``"SGR"``: Sato, Greenland & Robins (1989), as metafor. ``"GR"``: Greenland &
        Robins (1985), as RevMan 5, Stata metan and meta.
    zero_cell
        ``"metafor"``: raw counts in the pooled estimate. ``"revman"``: add 0.5 to every cell
        of tables with a zero cell before pooling (RevMan 5, meta with ``MH.exact=FALSE``).

    Notes
    -----
    Variances: Robins-Breslow-Greenland (OR), Greenland-Robins (RR). Heterogeneity Q is
    computed around the MH estimate with inverse-variance weights of the per-study
    estimates (0.5 added to zero-cell tables, double-zero tables left out), as metafor
    and RevMan do. ``weights`` are the MH weights in percent.

    References
    ----------
    Mantel & Haenszel (1959); Robins, Breslow & Greenland (1986); Greenland & Robins (1985);
    Sato, Greenland & Robins (1989).
    """
    measure = measure.upper()
    if measure not in ("OR", "RR", "RD"):
        raise ValueError(f"Mantel-Haenszel supports OR, RR and RD, not {measure!r}")
    if rd_variance.upper() not in ("SGR", "GR"):
        raise ValueError("rd_variance must be 'SGR' (metafor) or 'GR' (RevMan)")
    if zero_cell not in ("metafor", "revman"):
        raise ValueError("zero_cell must be 'metafor' or 'revman'")
    alpha = alpha_from_level(level)
    a, b, c, d, labs = table_2x2(ai, bi, ci, di, n1i, n2i, labels)
    k = a.shape[0]
    notes: list[str] = []
    a0, b0, c0, d0 = a, b, c, d
    if zero_cell == "revman":
        z = (a == 0) | (b == 0) | (c == 0) | (d == 0)
        if measure != "RD":
            z &= ~(((a == 0) & (c == 0)) | ((b == 0) & (d == 0)))
        a, b, c, d = (x + 0.5 * z for x in (a, b, c, d))
    n1, n2 = a + b, c + d
    n = n1 + n2
    extra: dict[str, Any] = {}
    if measure == "OR":
        R_i, S_i = a * d / n, b * c / n
        R, S = float(R_i.sum()), float(S_i.sum())
        if R == 0 or S == 0:
            raise ValueError("Mantel-Haenszel OR is not estimable: no events or no non-events")
        P_i, Q_i = (a + d) / n, (b + c) / n
        var = (
            float((P_i * R_i).sum()) / (2 * R**2)
            + float((P_i * S_i + Q_i * R_i).sum()) / (2 * R * S)
            + float((Q_i * S_i).sum()) / (2 * S**2)
        )
        est = math.log(R / S)
        u = S_i
        # Cochran-Mantel-Haenszel test with continuity correction (metafor default).
        xt, yt = a0 + c0, b0 + d0
        n0 = a0 + b0 + c0 + d0
        n10, n20 = a0 + b0, c0 + d0
        with np.errstate(divide="ignore", invalid="ignore"):
            vcmh = np.where(n0 > 1, xt * yt * n10 * n20 / (n0**2 * (n0 - 1)), 0.0)
        num_cmh = abs(float((a0 - xt * n10 / n0).sum())) - 0.5
        den = float(vcmh.sum())
        if den > 0:
            cmh = max(0.0, num_cmh) ** 2 / den
            extra.update(cmh=cmh, cmh_pval=chi2_sf(cmh, 1))
    elif measure == "RR":
        R, S = float((a * n2 / n).sum()), float((c * n1 / n).sum())
        if R == 0 or S == 0:
            raise ValueError("Mantel-Haenszel RR is not estimable: no events in one arm")
        var = float(((n1 * n2 * (a + c) - a * c * n) / n**2).sum()) / (R * S)
        est = math.log(R / S)
        u = c * n1 / n
    else:
        den = float((n1 * n2 / n).sum())
        est = float(((a * n2 - c * n1) / n).sum()) / den
        if rd_variance.upper() == "SGR":
            var = (
                est
                * float(
                    (
                        c * (n1 / n) ** 2 - a * (n2 / n) ** 2 + (n1 / n) * (n2 / n) * (n2 - n1) / 2
                    ).sum()
                )
                + float((a * (n2 - c) / n + c * (n1 - a) / n).sum()) / 2
            ) / den**2
        else:
            var = float(((a * b * n2**3 + c * d * n1**3) / (n1 * n2 * n**2)).sum()) / den**2
        u = n1 * n2 / n
        extra["rd_variance"] = rd_variance.upper()
    if not var > 0:
        raise ValueError(f"Mantel-Haenszel {measure}: the variance is zero (no information)")
    q, q_df, q_pval, i2, h2 = _heterogeneity(measure, a0, b0, c0, d0, est)
    usum = float(u.sum())
    weights = 100.0 * u / usum if usum > 0 else np.full(k, np.nan)
    return _result(
        k=k,
        measure=measure,
        method="MH",
        level=level,
        alpha=alpha,
        est=est,
        var=var,
        q=q,
        q_df=q_df,
        q_pval=q_pval,
        i2=i2,
        h2=h2,
        weights=weights,
        labels=labs,
        notes=notes,
        extra=extra,
    )


def pool_peto(
    ai: Any,
    bi: Any = None,
    ci: Any = None,
    di: Any = None,
    *,
    n1i: Any = None,
    n2i: Any = None,
    level: float = 95,
    labels: Sequence[Any] | None = None,
) -> PoolResult:
    """Peto one-step odds ratio (``metafor::rma.peto``), log scale.

    ``ln OR = sum(O - E) / sum(V)``, ``SE = 1/sqrt(sum V)`` from the raw counts. Q is
    ``sum (O-E)^2/V - (sum(O-E))^2 / sum V`` with df = (tables with an estimable
    per-study Peto OR) - 1, so double-zero tables do not count.

    References
    ----------
    Yusuf et al. (1985); Viechtbauer (2010).
    """
    alpha = alpha_from_level(level)
    a, b, c, d, labs = table_2x2(ai, bi, ci, di, n1i, n2i, labels)
    k = a.shape[0]
    n1, n2 = a + b, c + d
    n = n1 + n2
    xt, yt = a + c, b + d
    oe = a - xt * n1 / n
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(n > 1, xt * yt * (n1 / n) * (n2 / n) / (n - 1), 0.0)
    sv = float(v.sum())
    if sv <= 0:
        raise ValueError("Peto OR is not estimable: every table has no events or no non-events")
    soe = float(oe.sum())
    est = soe / sv
    pos = v > 0
    es = escalc("PETO", ai=a, bi=b, ci=c, di=d, add=0.5, to="only0", drop00=True)
    k_yi = int(es.estimable.sum())
    if k_yi >= 2:
        q = max(0.0, float((oe[pos] ** 2 / v[pos]).sum()) - soe**2 / sv)
        q_df = k_yi - 1
        q_pval: float | None = chi2_sf(q, q_df)
        i2: float | None = _i2(q, q_df)
        h2: float | None = q / q_df
    else:
        q, q_df, q_pval, i2, h2 = None, max(k_yi - 1, 0), None, None, None
    return _result(
        k=k,
        measure="PETO",
        method="PETO",
        level=level,
        alpha=alpha,
        est=est,
        var=1.0 / sv,
        q=q,
        q_df=q_df,
        q_pval=q_pval,
        i2=i2,
        h2=h2,
        weights=100.0 * v / sv,
        labels=labs,
        notes=[],
        extra={},
    )
