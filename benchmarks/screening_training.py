"""Time and memory of retraining the relevance model and re-ranking a review.

    python benchmarks/screening_training.py [--sizes 2000 50000 200000] [--labelled 0.1]
                                            [--app 2000 50000]

Part 1 (pure): a synthetic review of N records (titles and 150-250-word abstracts drawn from
the words of the four labelled reviews in shared/data/screening; one record in twenty on a
planted topic), a tenth of them labelled. Two processes per size, so that each peak memory is
its own: one builds the term frequencies from scratch into the review's store (once per review:
the worker keeps it), the other times one retraining + re-ranking as the Celery task runs it
(open the store, TF-IDF weighting of the labelled rows, the model, every row scored by blocks
read from the store, the ranking of the unlabelled records). Wall and CPU seconds are both
given: on a shared machine the wall time is mostly waiting for a core.

Part 2 (`--app`, PostgreSQL): the same reviews as Django records in the database
`reviewapp_bench_ranking` (or BENCH_RANKING_DATABASE_URL), with complete screening items for
the labelled tenth; timed: `services_ranking.ranking_train` end to end (labels query, cached
features, models, COPY of the ranks), first with a cold feature cache, then warm.
Results: benchmarks/out/screening_training.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
OUT = REPO / "benchmarks" / "out"
DATA = Path(os.environ.get("SCREENING_DATA", REPO.parent / "shared" / "data" / "screening"))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/reviewapp_bench_ranking"
TOPIC = "peer support workers recovery one-to-one mental health service users".split()  # noqa: SIM905 -- a sentence reads better than a list


def word_pool() -> list[str]:
    import re

    words: list[str] = []
    for path in sorted(DATA.glob("*.ris")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith(("TI  - ", "AB  - ")):
                words.extend(re.findall(r"[A-Za-z]{3,}", line[6:].lower()))
    return words or ["trial", "outcome", "patients", "randomised", "study", "results"]


def synthetic_stream(n: int, seed: int = 1) -> Iterator[tuple[str, str, int]]:
    """(title, abstract, label) one record at a time, as the worker streams them from the
    database: a large review's texts are never all in memory."""
    rng = random.Random(seed)
    pool = word_pool()
    for _ in range(n):
        relevant = rng.random() < 0.05
        words = [rng.choice(pool) for _ in range(rng.randint(150, 250))]
        if relevant:
            words += rng.choices(TOPIC, k=12)
        title = " ".join(rng.choice(pool) for _ in range(10))
        yield title, " ".join(words), int(relevant)


def synthetic(n: int, seed: int = 1) -> tuple[list[tuple[str, str]], list[int]]:
    rows = list(synthetic_stream(n, seed))
    return [(t, a) for t, a, _ in rows], [label for _, _, label in rows]


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def build(n: int, cache: Path) -> dict[str, float]:
    """Phase 1, once per review: the term frequencies from scratch, written to the review's
    store as the worker does."""
    import numpy as np

    from screening.ranking import features

    labels: list[int] = []

    def texts() -> Iterator[str]:
        for title, abstract, label in synthetic_stream(n):
            labels.append(label)
            yield features.record_text(title, abstract)

    began, cpu = time.perf_counter(), _cpu_seconds()
    store = features.build_store(cache, np.arange(n, dtype=np.int64), texts())
    seconds, cpu = time.perf_counter() - began, _cpu_seconds() - cpu
    np.save(cache.with_suffix(".labels.npy"), np.asarray(labels))
    return {
        "features_from_scratch_s": round(seconds, 2),
        "features_from_scratch_cpu_s": round(cpu, 2),
        "nnz": store.nnz,
        "build_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def train(cache: Path, labelled: float) -> dict[str, float]:
    """Phase 2, every retraining: open the store, fit on the labelled rows, score every row
    (the store read by blocks, twice), rank."""
    import numpy as np

    from screening.ranking import features
    from screening.ranking.ranker import rank_candidates

    y = np.load(cache.with_suffix(".labels.npy"))
    n = len(y)
    rng = np.random.default_rng(0)
    train_rows = rng.choice(n, max(2, int(n * labelled)), replace=False)
    train_rows[:2] = [int(np.flatnonzero(y == 1)[0]), int(np.flatnonzero(y == 0)[0])]
    candidates = np.setdiff1d(np.arange(n), train_rows)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    began, cpu = time.perf_counter(), _cpu_seconds()
    store = features.TermFrequencyStore(cache)
    ranking = rank_candidates(store, train_rows, y[train_rows], candidates, seed=1)
    retrain, cpu = time.perf_counter() - began, _cpu_seconds() - cpu
    top = ranking.order[: int(y[candidates].sum())]
    return {
        "records": n,
        "labelled": len(train_rows),
        "retrain_and_rerank_s": round(retrain, 3),
        "retrain_and_rerank_cpu_s": round(cpu, 3),
        "precision_of_top": round(float(y[top].mean()), 3),
        "rss_after_imports_mb": round(rss_before),
        "train_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_average": round(os.getloadavg()[0], 1),
    }


APP = """
import json, time
from django.contrib.auth.models import User
from django.db import connection
from reviewapp.services import review_create
from screening.models import ImportBatch, Record, ScreeningItem
from screening import services_ranking
import benchmarks.screening_training as bench

n, labelled = {n}, {labelled}
records, labels = bench.synthetic(n)
lead = User.objects.create_user(f"lead-{{n}}", password="x")
review = review_create(created_by=lead, title=f"Ranking benchmark {{n}}")
batch = ImportBatch.objects.create(review=review, source_database="MEDLINE", file_name="b.ris",
                                   status=ImportBatch.Status.DONE, records_imported=n)
rows = [Record(review=review, import_batch=batch, source_line=i + 1, title=t, abstract=a)
        for i, (t, a) in enumerate(records)]
for start in range(0, n, 5000):
    Record.objects.bulk_create(rows[start:start + 5000])
ids = list(Record.objects.filter(review=review).order_by("id").values_list("id", flat=True))
step = int(1 / labelled)
items = [ScreeningItem(review=review, record_id=ids[i], stage="ta", status="decided", votes=2,
                       final_verdict="include" if labels[i] else "exclude")
         for i in range(0, n, step)]
items[0].final_verdict, items[1].final_verdict = "include", "exclude"
ScreeningItem.objects.bulk_create(items)
timings = []
for run in range(3):
    services_ranking.RankingState.objects.filter(review=review).update(labels_fingerprint="")
    began = time.perf_counter()
    state = services_ranking.ranking_train(review_id=review.pk, stage="ta")
    timings.append(round(time.perf_counter() - began, 3))
print(json.dumps({{"records": n, "labelled": len(items), "ranked": state.records_ranked,
                  "cold_cache_s": timings[0], "warm_cache_s": timings[1:]}}))
"""


def app(sizes: list[int], labelled: float) -> list[dict]:
    import psycopg

    db_url = os.environ.get("BENCH_RANKING_DATABASE_URL", DEFAULT_DB)
    name = db_url.rsplit("/", 1)[1]
    with psycopg.connect(db_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "CELERY_BROKER_URL": "",
        "DJANGO_SETTINGS_MODULE": "reviewapp.settings.dev",
        "RANKING_CACHE_DIR": str(OUT / "ranking-cache"),
        "PYTHONPATH": str(REPO),
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
    results = []
    for n in sizes:
        shell = subprocess.run(
            [sys.executable, "manage.py", "shell", "-v0", "-c", APP.format(n=n, labelled=labelled)],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(shell.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[2000, 50000, 200000])
    parser.add_argument("--labelled", type=float, default=0.1)
    parser.add_argument("--app", type=int, nargs="*", default=[])
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--train", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cache", default=str(OUT / "training-cache.rvtf"), help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(OUT / "screening_training.json"))
    args = parser.parse_args()
    if args.build:
        print(json.dumps(build(args.build, Path(args.cache))))
        return
    if args.train:
        print(json.dumps(train(Path(args.cache), args.labelled)))
        return
    result: dict[str, object] = {"cpus": os.cpu_count(), "load_average": os.getloadavg()[0]}
    pure_rows = []
    OUT.mkdir(exist_ok=True)
    for n in args.sizes:
        row: dict[str, object] = {}
        # Each phase in its own process, so that each peak memory is its own.
        for phase in (["--build", str(n)], ["--train", "--labelled", str(args.labelled)]):
            out = subprocess.run(
                [sys.executable, __file__, *phase, "--cache", args.cache],
                check=True,
                capture_output=True,
                text=True,
            )
            row.update(json.loads(out.stdout.strip().splitlines()[-1]))
        pure_rows.append(row)
        print(json.dumps(row), flush=True)
    result["pure"] = pure_rows
    if args.app:
        result["app"] = app(args.app, args.labelled)
    Path(args.out).parent.mkdir(exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
