"""Worker time to recompute every analysis of a review: 50 outcomes x 100 studies.

    python benchmarks/analysis_recompute.py [--outcomes 50] [--studies 100] [--repeat 1]
    python benchmarks/analysis_recompute.py --repeat 5   # the documented run

Each analysis runs what the task runs after loading its rows: the input hash, effect sizes,
the REML random-effects pool with its Q-profile CI, a two-level subgroup analysis,
leave-one-out (and with --cumulative, cumulative by year), Egger's test and trim and fill, and
the JSON payload the result row stores. Half the outcomes are continuous (SMD), half
dichotomous (RR, MH). Reading the consensus rows from PostgreSQL is not included (one indexed
query per outcome).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewapp.settings.test")

import django

django.setup()

from analysis.inputs import AnalysisInputs, StudyRow
from analysis.services import Spec, compute_payload, input_hash


def rows(n: int, continuous: bool, rng: random.Random) -> tuple[StudyRow, ...]:
    out = []
    for i in range(n):
        group = {"org_support": "higher" if i % 3 else "lower"}
        if continuous:
            n1, n2 = rng.randint(20, 200), rng.randint(20, 200)
            out.append(
                StudyRow(
                    i,
                    f"Study {i} {1990 + i % 30}",
                    1990 + i % 30,
                    n1=n1,
                    m1=rng.gauss(10.5, 1),
                    sd1=rng.uniform(2, 5),
                    n2=n2,
                    m2=rng.gauss(10, 1),
                    sd2=rng.uniform(2, 5),
                    subgroups=group,
                )
            )
        else:
            t1, t2 = rng.randint(20, 200), rng.randint(20, 200)
            out.append(
                StudyRow(
                    i,
                    f"Study {i} {1990 + i % 30}",
                    1990 + i % 30,
                    events1=rng.randint(1, t1 // 2),
                    total1=t1,
                    events2=rng.randint(1, t2 // 2),
                    total2=t2,
                    subgroups=group,
                )
            )
    return tuple(out)


def spec(continuous: bool, cumulative: bool = False) -> Spec:
    return Spec(
        measure="SMD" if continuous else "RR", model="random" if continuous else "fixed",
        tau2_method="REML", test="z", prediction_interval=True, mantel_haenszel=not continuous,
        level=95.0, subgroup_field="org_support", exclude_high_rob=False, leave_one_out=True,
        cumulative=cumulative, harmonise_signs=False, direction="higher", generic_measure="",
        revman=False, intervention_label="intervention", control_label="control",
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outcomes", type=int, default=50)
    parser.add_argument("--studies", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--cumulative", action="store_true", help="also cumulative by year")
    args = parser.parse_args()
    rng = random.Random(1)
    work = [
        (
            spec(o % 2 == 0, args.cumulative),
            AnalysisInputs(rows=rows(args.studies, o % 2 == 0, rng)),
        )
        for o in range(args.outcomes)
    ]
    totals, per = [], []
    size = 0
    for _ in range(args.repeat):
        start = time.perf_counter()
        for s, inputs in work:
            t0 = time.perf_counter()
            input_hash(s, inputs)
            payload = compute_payload(s, inputs)
            size = len(json.dumps(payload))
            per.append(time.perf_counter() - t0)
        totals.append(time.perf_counter() - start)
    per.sort()
    extra = " with cumulative" if args.cumulative else ""
    print(f"{args.outcomes} analyses x {args.studies} studies{extra}, {args.repeat} runs")
    print(f"all analyses: median {statistics.median(totals):.3f} s, max {max(totals):.3f} s")
    print(
        f"one analysis: median {statistics.median(per) * 1000:.1f} ms, "
        f"p95 {per[int(0.95 * len(per)) - 1] * 1000:.1f} ms; payload {size / 1024:.0f} KiB"
    )


if __name__ == "__main__":
    main()
