"""Benchmark the REML pool against metafor, PyMARE and statsmodels on the same data.

    .venv/bin/python benchmarks/stats.py            # k = 10, 100 (quick)
    .venv/bin/python benchmarks/stats.py --k 10 1000 100000  # the documented run
    .venv/bin/python benchmarks/stats.py --k 10 100  # other sizes

Times are medians of repeated fits, in milliseconds:
- ``ours fit``: ``pool(yi, vi)`` (estimate, se, CI, tau2, I2, Q, prediction interval);
- ``ours to_dict``: ``pool(yi, vi).to_dict()``, which adds the Q-profile CIs;
- ``metafor``: ``rma(yi, vi)`` timed inside R (mean of a loop, excluding R start-up; only when
  ``Rscript`` and metafor are installed;
  skipped above k = 3,000 because it builds k-by-k matrices);
- ``PyMARE``: ``pymare.meta_regression(y, v, method="REML")`` plus its fixed/random stats;
- ``statsmodels``: ``combine_effects(y, v, method_re="iterated")`` (Paule-Mandel; it has no
  REML) plus ``summary_frame()``.
PyMARE and statsmodels are the optional ``bench`` extra.
"""

from __future__ import annotations

import argparse
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.stats import pool

METAFOR_MAX_K = 3000


def data(k: int, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.5, k)
    yi = rng.normal(0.2, np.sqrt(vi + 0.09))
    return yi, vi


def repeats(k: int) -> int:
    return 2000 if k <= 100 else 200 if k <= 10_000 else 30


def median_ms(fn: Callable[[], object], n: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def time_metafor(yi: np.ndarray, vi: np.ndarray, n: int) -> float | None:
    if shutil.which("Rscript") is None or len(yi) > METAFOR_MAX_K:
        return None
    n = max(3, min(n, 200 if len(yi) <= 100 else 5))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "d.csv")
        np.savetxt(path, np.column_stack([yi, vi]), delimiter=",", header="yi,vi", comments="")
        script = (
            "suppressMessages(library(metafor)); d <- read.csv(commandArgs(TRUE)[1]);"
            "invisible(rma(d$yi, d$vi)); n <- as.integer(commandArgs(TRUE)[2]);"
            "s <- Sys.time(); for (i in 1:n) invisible(rma(d$yi, d$vi));"
            "cat(as.numeric(difftime(Sys.time(), s, units = 'secs')) / n * 1000, '\\n')"
        )
        try:
            cmd = ["Rscript", "-e", script, path, str(n)]
            out = subprocess.run(cmd, capture_output=True, text=True,
                                 check=True, timeout=600)  # fmt: skip
        except (subprocess.SubprocessError, OSError):
            return None
    return float(out.stdout.split()[-1])


def time_pymare(yi: np.ndarray, vi: np.ndarray, n: int) -> float | None:
    try:
        import pymare
    except ImportError:
        return None

    def fit() -> None:
        res = pymare.meta_regression(y=yi, v=vi, method="REML")
        res.get_fe_stats()
        res.get_re_stats()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return median_ms(fit, min(n, 200))


def time_statsmodels(yi: np.ndarray, vi: np.ndarray, n: int) -> float | None:
    try:
        from statsmodels.stats.meta_analysis import combine_effects
    except ImportError:
        return None
    return median_ms(
        lambda: combine_effects(yi, vi, method_re="iterated").summary_frame(), min(n, 500)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, nargs="+", default=[10, 100])
    args = parser.parse_args()
    rows = []
    for k in args.k:
        yi, vi = data(k)
        n = repeats(k)
        fit = median_ms(lambda yi=yi, vi=vi: pool(yi, vi), n)
        full = median_ms(lambda yi=yi, vi=vi: pool(yi, vi).to_dict(), n)
        others = {
            "metafor": time_metafor(yi, vi, n),
            "PyMARE": time_pymare(yi, vi, n),
            "statsmodels": time_statsmodels(yi, vi, n),
        }
        rows.append((k, fit, full, others))
        line = f"k={k:>7,}  ours fit {fit:9.3f} ms   ours to_dict {full:9.3f} ms"
        for name, ms in others.items():
            if ms is None:
                line += f"   {name}: n/a"
            else:
                line += f"   {name} {ms:9.3f} ms (x{ms / fit:,.1f})"
        print(line, flush=True)
    print("\nspeed-up = their time / our fit time (same data, same run)")


if __name__ == "__main__":
    main()
