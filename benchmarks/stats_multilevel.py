"""Benchmark the three-level model (``pool_multilevel``) against metafor's ``rma.mv``.

    .venv/bin/python benchmarks/stats_multilevel.py                 # 100 and 1,000 effect sizes
    .venv/bin/python benchmarks/stats_multilevel.py --sizes 100:10 1000:100 10000:1000

Each size is "effect sizes:studies" with studies of unequal size. Times are medians in
milliseconds of a whole fit (REML; and with CR2 robust inference). metafor is timed inside R,
excluding R's start-up, when ``Rscript`` with metafor is installed, up to ``--metafor-max``
effect sizes (default 100: at 1,000 one rma.mv fit takes about a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.stats import pool_multilevel


def data(k: int, studies: int, seed: int = 42) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    share = rng.integers(1, 20, studies)
    sizes = 1 + rng.multinomial(k - studies, share / share.sum())
    study = np.repeat(np.arange(studies), sizes)
    vi = rng.uniform(0.005, 0.2, k)
    yi = 0.3 + rng.normal(0, 0.2, studies)[study] + rng.normal(0, 0.14, k)
    yi += rng.normal(0, np.sqrt(vi))
    return yi, vi, study


def median_ms(fn, n: int) -> float:
    fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def metafor_ms(yi, vi, study, n: int, max_k: int) -> float | None:
    if shutil.which("Rscript") is None or len(yi) > max_k:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "d.json")
        Path(path).write_text(
            json.dumps({"yi": yi.tolist(), "vi": vi.tolist(), "study": study.tolist()})
        )
        script = f"""
suppressMessages({{library(metafor); library(jsonlite)}})
d <- fromJSON("{path}"); es <- ave(seq_along(d$yi), d$study, FUN = seq_along)
dd <- data.frame(yi = d$yi, vi = d$vi, study = d$study, es = es)
f <- function() rma.mv(yi, vi, random = ~ 1 | study / es, data = dd)
f(); t <- system.time(for (i in 1:{n}) f())[["elapsed"]]
cat(1000 * t / {n})
"""
        out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True)
        if out.returncode != 0:
            return None
        return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["100:10", "1000:100"])
    parser.add_argument("--metafor-max", type=int, default=100)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.1f}")
    print(f"{'effect sizes':>12} {'studies':>8} {'ours REML':>10} {'ours CR2':>9} {'metafor':>9}")
    for size in args.sizes:
        k, studies = (int(x) for x in size.split(":"))
        yi, vi, study = data(k, studies)
        n = 50 if k <= 1000 else 5
        ours = median_ms(lambda y=yi, v=vi, s=study: pool_multilevel(y, v, s), n)
        robust = median_ms(lambda y=yi, v=vi, s=study: pool_multilevel(y, v, s, robust=True), n)
        r = metafor_ms(yi, vi, study, 1 if k > 100 else 20, args.metafor_max)
        r_text = f"{r:9.1f}" if r is not None else f"{'-':>9}"
        print(f"{k:>12,} {studies:>8,} {ours:10.2f} {robust:9.2f} {r_text}")


if __name__ == "__main__":
    main()
