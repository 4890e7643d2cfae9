"""Prioritised screening against ASReview LAB on the labelled reviews in shared/data/screening.

    python benchmarks/screening_ranking.py [--seeds 42 43 44 45 46] [--datasets Sep_2021 ...]
                                           [--no-asreview] [--members svm] [--svm-c 0.11] ...

For each dataset and seed both tools start from the same prior records: one included and one
excluded, drawn as `asreview simulate --prior-seed SEED` draws them
(`screening.ranking.simulate.draw_priors`), and screen the rest one record at a time. Ours runs
`screening.ranking.simulate` (the app's features, model and retraining schedule). ASReview LAB
runs as the issue's figures were made: its own command line, `asreview simulate DATA.csv
--n-prior-included 1 --n-prior-excluded 1 --prior-seed SEED --seed SEED --n-stop -1` (default
model ELAS u4: TF-IDF + SVM, retrained after every label), on a CSV of the same titles,
abstracts and labels. Both orders are scored by the same function: WSS@95 = (N - n95)/N - 0.05
on the whole order, the priors first (the convention of ASReview's simulate output and of the
issue's figures: it reproduces 0.448 / 0.561 / 0.366 / 0.715 at seed 42), and on the order after
the priors (ASReview Insights' convention); recall after 10%.
Needs the `bench` extra (asreview). Results: benchmarks/out/screening_ranking.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from screening.ranking import features, metrics  # noqa: E402 -- after the sys.path setup
from screening.ranking.datasets import load_labelled  # noqa: E402 -- after the sys.path setup
from screening.ranking.model import DEFAULT_SPEC, ModelSpec  # noqa: E402 -- after the sys.path setup
from screening.ranking.schedule import DEFAULT_SCHEDULE, RetrainSchedule  # noqa: E402 -- after the sys.path setup
from screening.ranking.simulate import draw_priors, simulate  # noqa: E402 -- after the sys.path setup

DATA = Path(os.environ.get("SCREENING_DATA", REPO.parent / "shared" / "data" / "screening"))
DATASETS = ["Sep_2021", "Donners_2021", "Nelson_2002", "Meijboom_2021"]
OUT = REPO / "benchmarks" / "out"
TOOLS = ("ours", "asreview")


def run_ours(X, labels, priors, seed, spec, schedule) -> np.ndarray:  # type: ignore[no-untyped-def]  # a benchmark script
    result = simulate(X, labels, priors, seed=seed, spec=spec, schedule=schedule)
    return np.asarray(labels)[result.order]


def write_asreview_csv(path: Path, titles: list[str], abstracts: list[str], labels) -> None:  # type: ignore[no-untyped-def]  # a benchmark script
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record_id", "title", "abstract", "label_included"])
        for row, (title, abstract, label) in enumerate(zip(titles, abstracts, labels, strict=True)):
            writer.writerow([row, title, abstract, int(label)])


def run_asreview(dataset_csv: Path, labels, priors: list[int], seed: int) -> np.ndarray:  # type: ignore[no-untyped-def]  # a benchmark script
    """ASReview's own `simulate` command; the order it labelled, read from its project file."""
    asreview = Path(sys.executable).with_name("asreview")
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder) / "sim.asreview"
        subprocess.run(
            [str(asreview), "simulate", str(dataset_csv), "--n-prior-included", "1",
             "--n-prior-excluded", "1", "--prior-seed", str(seed), "--seed", str(seed),
             "--n-stop", "-1", "-o", str(project)],
            check=True, capture_output=True,
        )  # fmt: skip
        with zipfile.ZipFile(project) as archive:
            archive.extract("results.db", folder)
        with sqlite3.connect(Path(folder) / "results.db") as db:
            order = [r[0] for r in db.execute("SELECT record_id FROM results ORDER BY rowid")]
    if sorted(order[: len(priors)]) != sorted(priors):
        raise RuntimeError(f"ASReview drew other priors ({order[:2]}) than ours ({priors})")
    return np.asarray(labels)[order]


def summary(y: np.ndarray, n_prior: int) -> dict[str, float]:
    return {
        "wss_95": round(metrics.wss(y, 0.95), 4),
        "wss_95_after_priors": round(metrics.wss(y[n_prior:], 0.95), 4),
        "recall_at_10pct": round(metrics.recall_after(y, 0.10), 4),
        "screened_to_95": metrics.records_to_recall(y, 0.95),
    }


def spread(values: list[float]) -> dict[str, float]:
    return {
        "mean": round(statistics.mean(values), 3),
        "sd": round(statistics.stdev(values), 3) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
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
    parser.add_argument("--include-ratio", type=float, default=DEFAULT_SPEC.include_ratio)
    parser.add_argument("--every-label", action="store_true", help="retrain after every label")
    parser.add_argument("--out", default=str(OUT / "screening_ranking.json"))
    args = parser.parse_args()
    spec = ModelSpec(
        members=tuple(args.members),
        svm_c=args.svm_c,
        logistic_c=args.logistic_c,
        cnb_alpha=args.cnb_alpha,
        include_ratio=args.include_ratio,
    )
    schedule = (
        RetrainSchedule(every_label_until=10**9, min_seconds=0)
        if args.every_label
        else DEFAULT_SCHEDULE
    )
    rows = []
    scratch = tempfile.TemporaryDirectory()
    for name in args.datasets:
        review = load_labelled(DATA / f"{name}.ris", DATA / f"{name}.labels.csv")
        X = features.tfidf(features.term_frequencies(review.texts))
        dataset_csv = Path(scratch.name) / f"{name}.csv"
        if not args.no_asreview:
            from screening.references.parsers import parse_references

            parsed = parse_references((DATA / f"{name}.ris").read_bytes(), f"{name}.ris")
            by_id = {str(r.raw.get("ID")): r for r in parsed.records}
            write_asreview_csv(
                dataset_csv,
                [by_id[i].title for i in review.ids],
                [by_id[i].abstract for i in review.ids],
                review.labels,
            )
        for seed in args.seeds:
            priors = draw_priors(review.labels, seed=seed)
            began = time.perf_counter()
            ours = summary(run_ours(X, review.labels, priors, seed, spec, schedule), len(priors))
            row = {
                "dataset": name,
                "seed": seed,
                "ours": ours,
                "ours_seconds": round(time.perf_counter() - began, 1),
            }
            if not args.no_asreview:
                began = time.perf_counter()
                order = run_asreview(dataset_csv, review.labels, priors, seed)
                row["asreview"] = summary(order, len(priors))
                row["asreview_seconds"] = round(time.perf_counter() - began, 1)
            rows.append(row)
            print(json.dumps(row), flush=True)
    table: dict[str, dict[str, object]] = {}
    for name in args.datasets:
        mine = [r for r in rows if r["dataset"] == name]
        entry: dict[str, object] = {}
        for tool in TOOLS:
            if any(tool in r for r in mine):
                entry[tool] = {
                    "wss_95": spread([r[tool]["wss_95"] for r in mine]),
                    "wss_95_after_priors": spread([r[tool]["wss_95_after_priors"] for r in mine]),
                    "recall_at_10pct_mean": round(
                        statistics.mean(r[tool]["recall_at_10pct"] for r in mine), 3
                    ),
                }
        table[name] = entry
    overall = {
        f"{tool} {metric}": round(
            statistics.mean(t[tool][metric]["mean"] for t in table.values()), 3
        )
        for tool in TOOLS
        for metric in ("wss_95", "wss_95_after_priors")
        if all(tool in t for t in table.values())
    }
    result = {
        "spec": spec.describe(),
        "seeds": args.seeds,
        "load_average": os.getloadavg(),
        "per_dataset": table,
        "mean_over_datasets": overall,
        "runs": rows,
    }
    Path(args.out).parent.mkdir(exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"per_dataset": table, "mean_over_datasets": overall}, indent=2))


if __name__ == "__main__":
    main()
