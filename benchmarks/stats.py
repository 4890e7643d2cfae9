"""Benchmark our pooling against statsmodels, metafor and PyMARE on the same data and estimator.

    .venv/bin/python benchmarks/stats.py                      # k = 10, 100 (quick)
    .venv/bin/python benchmarks/stats.py --k 10 100 1000 10000 100000   # the documented run
    .venv/bin/python benchmarks/stats.py --k 1000 --methods PM --no-r  # a subset

For each k and estimator (Paule-Mandel, DerSimonian-Laird, REML) it reports medians of
repeated fits, in milliseconds:

- ``ours``: ``pool(yi, vi, method=M)`` and reading estimate, SE, CI, p, tau2, Q and I^2;
- ``ours+QP``: ``pool(...).to_dict()``, everything including the Q-profile CIs of tau2, I^2, H^2;
- ``statsmodels``: ``combine_effects(yi, vi, method_re=...)`` ("iterated" is Paule-Mandel,
  "chi2" DerSimonian-Laird; it has no REML) and reading the same seven outputs (the CI from
  ``conf_int(use_t=False)``, p from the z statistic). Before timing, the script checks that
  both sides give the same numbers and prints the largest relative difference;
- ``metafor``: ``rma(yi, vi, method=M)`` timed inside R (mean of a loop, excluding R
  start-up), only when ``Rscript`` and metafor are installed; not above k = 3,000, where it
  builds k-by-k matrices;
- ``PyMARE``: ``meta_regression(y, v, method=M)`` with its fixed and random-effects stats
  (DL and REML; it has no Paule-Mandel).

Ours and statsmodels are timed in alternation (ours, theirs, ours, ...), so that load on a
shared machine hits both alike; the speed-up is the median of the per-pair ratios.
PyMARE and statsmodels are the optional ``bench`` extra.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import special

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.stats import pool

METAFOR_MAX_K = 3000
#: statsmodels' name for each estimator.
STATSMODELS = {"PM": "iterated", "DL": "chi2"}
OUTPUTS = ("estimate", "se", "ci_lb", "ci_ub", "pval", "tau2", "q", "i2_q")


def data(k: int, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.5, k)
    yi = rng.normal(0.2, np.sqrt(vi + 0.09))
    return yi, vi


def repeats(k: int) -> int:
    return 2000 if k <= 100 else 300 if k <= 10_000 else 40


def ours(yi: np.ndarray, vi: np.ndarray, method: str) -> tuple[float, ...]:
    r = pool(yi, vi, method=method)
    q, df = r.q or 0.0, r.q_df
    # I^2 as statsmodels defines it (Q-based, as a fraction); ours reports metafor's
    # tau2-based I^2 in r.i2, which equals it for DL.
    i2_q = max(0.0, (q - df) / q) if q > 0 else 0.0
    return (r.estimate, r.se, r.ci_lb, r.ci_ub, r.pval, r.tau2 or 0.0, q, i2_q)


def theirs(yi: np.ndarray, vi: np.ndarray, method: str) -> tuple[float, ...]:
    from statsmodels.stats.meta_analysis import combine_effects

    r = combine_effects(yi, vi, method_re=STATSMODELS[method])
    lb, ub = r.conf_int(use_t=False)[1]
    z = r.mean_effect_re / r.sd_eff_w_re
    pval = float(2.0 * special.ndtr(-abs(z)))
    return (r.mean_effect_re, r.sd_eff_w_re, lb, ub, pval, r.tau2, r.q, r.i2)


def max_rel_diff(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, str]:
    """Largest relative difference over the outputs, and which output it is. statsmodels
    truncates neither tau2 nor I^2 at 0; where its value is negative (no heterogeneity
    beyond chance) the output is left out of the comparison and named instead."""
    worst, which = 0.0, ""
    skipped = [n for n, y in zip(OUTPUTS, b, strict=True) if n in ("tau2", "i2_q") and y < 0]
    if "tau2" in skipped:
        return math.inf, "tau2 < 0 (statsmodels does not truncate it, so its SE is NaN)"
    for name, x, y in zip(OUTPUTS, a, b, strict=True):
        if name in skipped:
            continue
        d = abs(float(x) - float(y)) / max(abs(float(y)), 1e-300)
        if not math.isfinite(d):
            return math.inf, name
        if d > worst:
            worst, which = d, name
    if skipped:
        which += "; statsmodels' I2 < 0 (not truncated) left out"
    return worst, which


def paired_ms(
    a: Callable[[], object], b: Callable[[], object], n: int
) -> tuple[float, float, float]:
    """Medians of a and b (ms) timed in alternation, and the median of the ratios b/a."""
    a()
    b()
    ta, tb = [], []
    for _ in range(n):
        t = time.perf_counter()
        a()
        t1 = time.perf_counter()
        b()
        t2 = time.perf_counter()
        ta.append(t1 - t)
        tb.append(t2 - t1)
    ratio = statistics.median(y / x for x, y in zip(ta, tb, strict=True))
    return statistics.median(ta) * 1e3, statistics.median(tb) * 1e3, ratio


def median_ms(fn: Callable[[], object], n: int) -> float:
    fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def time_metafor(yi: np.ndarray, vi: np.ndarray, method: str, n: int) -> float | None:
    if shutil.which("Rscript") is None or len(yi) > METAFOR_MAX_K:
        return None
    n = max(3, min(n, 200 if len(yi) <= 100 else 5))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "d.csv")
        np.savetxt(path, np.column_stack([yi, vi]), delimiter=",", header="yi,vi", comments="")
        script = (
            "suppressMessages(library(metafor)); a <- commandArgs(TRUE);"
            "d <- read.csv(a[1]); m <- a[3]; invisible(rma(d$yi, d$vi, method = m));"
            "n <- as.integer(a[2]); s <- Sys.time();"
            "for (i in 1:n) invisible(rma(d$yi, d$vi, method = m));"
            "cat(as.numeric(difftime(Sys.time(), s, units = 'secs')) / n * 1000, '\\n')"
        )
        try:
            cmd = ["Rscript", "-e", script, path, str(n), method]
            out = subprocess.run(cmd, capture_output=True, text=True,
                                 check=True, timeout=900)  # fmt: skip
        except (subprocess.SubprocessError, OSError):
            return None
    return float(out.stdout.split()[-1])


def time_pymare(yi: np.ndarray, vi: np.ndarray, method: str, n: int) -> float | None:
    if method not in ("DL", "REML"):
        return None
    try:
        import pymare
    except ImportError:
        return None

    def fit() -> None:
        res = pymare.meta_regression(y=yi, v=vi, method=method)
        res.get_fe_stats()
        res.get_re_stats()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return median_ms(fit, min(n, 100))


def _fmt(ms: float | None, ref: float) -> str:
    if ms is None:
        return "n/a"
    return f"{ms:9.3f} ms (x{ms / ref:,.1f})"


def run(k: int, method: str, use_r: bool) -> dict[str, Any]:
    yi, vi = data(k)
    n = repeats(k)
    row: dict[str, Any] = {"k": k, "method": method}
    have_sm = method in STATSMODELS
    if have_sm:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                diff, where = max_rel_diff(ours(yi, vi, method), theirs(yi, vi, method))
                row["ours"], row["statsmodels"], row["ratio"] = paired_ms(
                    lambda: ours(yi, vi, method), lambda: theirs(yi, vi, method), n
                )
            row["same"] = (diff, where)
        except ImportError:
            have_sm = False
    if not have_sm:
        row["ours"] = median_ms(lambda: ours(yi, vi, method), n)
    row["ours_qp"] = median_ms(lambda: pool(yi, vi, method=method).to_dict(), n)
    row["metafor"] = time_metafor(yi, vi, method, n) if use_r else None
    row["pymare"] = time_pymare(yi, vi, method, n)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--methods", nargs="+", default=["PM", "DL", "REML"])
    parser.add_argument("--no-r", action="store_true", help="skip metafor")
    args = parser.parse_args()
    for method in args.methods:
        print(f"\n== {method} ==", flush=True)
        for k in args.k:
            row = run(k, method, not args.no_r)
            line = f"k={k:>7,}  ours {row['ours']:9.3f} ms   ours+QP {row['ours_qp']:9.3f} ms"
            if "statsmodels" in row:
                diff, where = row["same"]
                same = (
                    f"outputs agree to {diff:.1e} (worst: {where})"
                    if math.isfinite(diff)
                    else f"not comparable: statsmodels' {where}"
                )
                line += (
                    f"   statsmodels {row['statsmodels']:9.3f} ms (x{row['ratio']:.2f} paired)"
                    f"   [{same}]"
                )
            line += f"   metafor {_fmt(row['metafor'], row['ours'])}"
            line += f"   PyMARE {_fmt(row['pymare'], row['ours'])}"
            print(line, flush=True)
    print("\nx = their time / our time (`ours`: the same outputs as statsmodels' summary).")


if __name__ == "__main__":
    main()
