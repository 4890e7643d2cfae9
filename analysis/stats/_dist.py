"""Distribution helpers built on ``scipy.special`` ufuncs.

``scipy.stats`` distribution objects cost tens of microseconds per call, which
dominates a k = 10 fit; the special functions below are the same numerics
without the argument-checking layer.
"""

from __future__ import annotations

import math

from scipy import special


def alpha_from_level(level: float) -> float:
    """Return alpha for a confidence level given as 95 or 0.95 (metafor's ``.level``)."""
    level = float(level)
    if not math.isfinite(level) or level <= 0:
        raise ValueError(f"level must be in (0, 100), got {level!r}")
    alpha = (100.0 - level) / 100.0 if level >= 1 else 1.0 - level
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"level must be in (0, 100), got {level!r}")
    return alpha


def z_crit(alpha: float) -> float:
    return float(special.ndtri(1.0 - alpha / 2.0))


def t_crit(alpha: float, df: float) -> float:
    return float(special.stdtrit(df, 1.0 - alpha / 2.0))


def z_pval(z: float) -> float:
    """Two-sided normal p-value."""
    return float(2.0 * special.ndtr(-abs(z)))


def t_pval(t: float, df: float) -> float:
    """Two-sided Student t p-value."""
    return float(2.0 * special.stdtr(df, -abs(t)))


def chi2_sf(x: float, df: float) -> float:
    return float(special.chdtrc(df, x))


def chi2_ppf(p: float, df: float) -> float:
    """Lower-tail quantile of the chi-square distribution."""
    return float(special.chdtri(df, 1.0 - p))


def f_sf(x: float, df1: float, df2: float) -> float:
    return float(special.fdtrc(df1, df2, x))
