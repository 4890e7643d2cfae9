"""Prioritised screening against ASReview LAB on the labelled reviews in shared/data/screening.

    python benchmarks/screening_ranking.py [--seeds 42 43 44 45 46] [--datasets Sep_2021 ...]
                                           [--no-asreview] [--members svm logistic cnb]

For each dataset and seed, both tools start from the same prior records (one included, one
excluded, drawn with the seed by `screening.ranking.simulate.draw_priors`) and screen the rest
one record at a time. Ours runs `screening.ranking.simulate` (the app's features, model and
retraining schedule); ASReview LAB runs its default model (ELAS u4: TF-IDF + SVM, retrained
after every label) through its own `Simulate` class. Both are scored by the same function:
WSS@95 = (N - n95) / N - 0.05 on the order after the priors, and recall after 10%.
Needs the `bench` extra (asreview). Results: benchmarks/out/screening_ranking.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from screening.ranking import features, metrics  # noqa: E402
from screening.ranking.datasets import load_labelled  # noqa: E402
from screening.ranking.model import DEFAULT_SPEC, ModelSpec  # noqa: E402
from screening.ranking.schedule import DEFAULT_SCHEDULE, RetrainSchedule  # noqa: E402
from screening.ranking.simulate import draw_priors, simulate  # noqa: E402

DATA = Path(os.environ.get("SCREENING_DATA", REPO.parent / "shared" / "data" / "screening"))
DATASETS = ["Sep_2021", "Donners_2021", "Nelson_2002", "Meijboom_2021"]
OUT = REPO / "benchmarks" / "out"


def run_ours(X, labels, priors, seed, spec, schedule) -> np.ndarray:  # type: ignore[no-untyped-def]
    result = simulate(X, labels, priors, seed=seed, spec=spec, schedule=schedule)
    return result.labels_after_priors(labels)


def run_asreview(ids, texts_title_abstract, labels, priors) -> np.ndarray:  # type: ignore[no-untyped-def]
    import pandas as pd
    from asreview.learner import ActiveLearningCycle
    from asreview.models.models import get_ai_config
    from asreview.simulation.simulate import Simulate

    cycle = ActiveLearningCycle.from_meta(get_ai_config("elas_u4")["value"])
    titles, abstracts = texts_title_abstract
    frame = pd.DataFrame({"title": titles, "abstract": abstracts})
    sim = Simulate(frame, labels, cycle, print_progress=False, stopper=-1)
    sim.label(priors)
    sim.review()
    order = sim._results["record_id"].to_numpy()
    return np.asarray(labels)[order[len(priors) :]]


def summary(y: np.ndarray) -> dict[str, float]:
    return {
        "wss_95": round(metrics.wss(y, 0.95), 4),
        "recall_at_10pct": round(metrics.recall_after(y, 0.10), 4),
        "screened_to_95": metrics.records_to_recall(y, 0.95),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44, 45, 46])
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--no-asreview", action="store_true")
    parser.add_argument("--members", nargs="+", default=list(DEFAULT_SPEC.members))
    parser.add_argument("--svm-c", type=float, default=DEFAULT_SPEC.svm_c)
    parser.add_argument("--logistic-c", type=float, default=DEFAULT_SPEC.logistic_c)
    parser.add_argument("--cnb-alpha", type=float, default=DEFAULT_SPEC.cnb_alpha)
    parser.add_argument("--class-weight", default=DEFAULT_SPEC.class_weight or "none")
    parser.add_argument("--every-label", action="store_true", help="retrain after every label")
    parser.add_argument("--out", default=str(OUT / "screening_ranking.json"))
    args = parser.parse_args()
    spec = ModelSpec(
        members=tuple(args.members),
        svm_c=args.svm_c,
        logistic_c=args.logistic_c,
        cnb_alpha=args.cnb_alpha,
        class_weight=None if args.class_weight == "none" else args.class_weight,
    )
    schedule = (
        RetrainSchedule(every_label_until=10**9, min_seconds=0)
        if args.every_label
        else DEFAULT_SCHEDULE
    )
    rows = []
    for name in args.datasets:
        review = load_labelled(DATA / f"{name}.ris", DATA / f"{name}.labels.csv")
        X = features.tfidf(features.term_frequencies(review.texts))
        if not args.no_asreview:
            from screening.references.parsers import parse_references

            parsed = parse_references((DATA / f"{name}.ris").read_bytes(), f"{name}.ris")
            by_id = {str(r.raw.get("ID")): r for r in parsed.records}
            title_abstract = (
                [by_id[i].title for i in review.ids],
                [by_id[i].abstract for i in review.ids],
            )
        for seed in args.seeds:
            priors = draw_priors(review.labels, seed=seed)
            began = time.perf_counter()
            ours = summary(run_ours(X, review.labels, priors, seed, spec, schedule))
            row = {
                "dataset": name,
                "seed": seed,
                "ours": ours,
                "ours_seconds": round(time.perf_counter() - began, 1),
            }
            if not args.no_asreview:
                began = time.perf_counter()
                row["asreview"] = summary(
                    run_asreview(review.ids, title_abstract, review.labels, priors)
                )
                row["asreview_seconds"] = round(time.perf_counter() - began, 1)
            rows.append(row)
            print(json.dumps(row), flush=True)
    table: dict[str, dict[str, object]] = {}
    for name in args.datasets:
        mine = [r for r in rows if r["dataset"] == name]
        entry: dict[str, object] = {}
        for tool in ("ours", "asreview"):
            values = [r[tool]["wss_95"] for r in mine if tool in r]
            if values:
                entry[tool] = {
                    "wss_95_mean": round(statistics.mean(values), 3),
                    "wss_95_sd": round(statistics.stdev(values), 3) if len(values) > 1 else 0.0,
                    "wss_95_min": min(values),
                    "wss_95_max": max(values),
                    "recall_at_10pct_mean": round(
                        statistics.mean(r[tool]["recall_at_10pct"] for r in mine), 3
                    ),
                }
        table[name] = entry
    overall = {
        tool: round(statistics.mean(t[tool]["wss_95_mean"] for t in table.values() if tool in t), 3)
        for tool in ("ours", "asreview")
        if any(tool in t for t in table.values())
    }
    result = {
        "spec": spec.describe(),
        "seeds": args.seeds,
        "per_dataset": table,
        "mean_wss_95": overall,
        "runs": rows,
    }
    Path(args.out).parent.mkdir(exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"per_dataset": table, "mean_wss_95": overall}, indent=2))


if __name__ == "__main__":
    main()
