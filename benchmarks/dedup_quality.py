"""Measure reference parsing speed and deduplication quality, time and memory.

    python benchmarks/dedup_quality.py [--records 10000] [--seed 1]
    python benchmarks/dedup_quality.py --records 100000   # the documented run
    python benchmarks/dedup_quality.py --corpus corpus.ris --truth truth.json

Builds (or reads) a corpus from benchmarks/corpus.py, parses it with ``parse_references``,
runs ``find_duplicate_groups`` over every record and compares the duplicate *pairs* it implies
with the known ones. Time is wall clock without tracing; peak memory is measured in a second,
traced run of dedup alone (tracemalloc), so tracing does not distort the timing.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import time
import tracemalloc
from collections import Counter
from itertools import combinations
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import corpus

from screening.references.dedup import DedupRecord, find_duplicate_groups
from screening.references.parsers import parse_references


def pairs_of(groups: list[list[int]] | list[tuple[int, ...]]) -> set[tuple[int, int]]:
    return {pair for group in groups for pair in combinations(sorted(group), 2)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--truth", type=Path)
    parser.add_argument("--examples", type=int, default=5, help="misses and false merges to show")
    args = parser.parse_args(argv)

    if args.corpus and args.truth:
        data = args.corpus.read_bytes()
        truth = json.loads(args.truth.read_text(encoding="utf-8"))
    else:
        items, groups = corpus.build(args.records, args.seed)
        data = corpus.to_ris(items).encode("utf-8")
        truth = corpus.truth(items, groups)

    started = time.perf_counter()
    parsed = parse_references(data, "corpus.ris")
    parse_seconds = time.perf_counter() - started
    records = [DedupRecord.from_parsed(n, r) for n, r in enumerate(parsed.records, 1)]
    assert len(records) == truth["records"], "every corpus record must parse"
    del parsed, data
    gc.collect()

    started = time.perf_counter()
    found = find_duplicate_groups(records)
    dedup_seconds = time.perf_counter() - started

    gc.collect()
    tracemalloc.start()
    find_duplicate_groups(records)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    expected = pairs_of(truth["groups"])
    predicted = pairs_of([g.member_ids for g in found])
    true_positives = len(expected & predicted)
    precision = true_positives / len(predicted) if predicted else 1.0
    recall = true_positives / len(expected) if expected else 1.0

    print(f"records                 {len(records):>10,}")
    print(f"parse (RIS, {len(records):,})    {parse_seconds:>9.2f} s")
    print(f"dedup time              {dedup_seconds:>9.2f} s   (cpus: {os.cpu_count()})")
    print(f"dedup peak memory       {peak / 2**20:>9.0f} MiB (tracemalloc, dedup only)")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS        {rss:>9.0f} MiB (whole benchmark, corpus text included)")
    print(f"duplicate pairs         {len(expected):>10,} expected, {len(predicted):,} found")
    print(f"precision               {precision:>10.4f}")
    print(f"recall                  {recall:>10.4f}")

    perturbations = truth["perturbations"]
    missed = expected - predicted
    by_kind: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for pair in expected:
        kinds = set(perturbations.get(str(pair[0]), [])) | set(perturbations.get(str(pair[1]), []))
        for kind in kinds:
            totals[kind] += 1
            if pair in missed:
                by_kind[kind] += 1
    print("recall by perturbation (pairs where either copy had it):")
    for kind in sorted(totals):
        print(f"  {kind:<22} {1 - by_kind[kind] / totals[kind]:.4f}  ({totals[kind]:,} pairs)")

    lookalikes = truth.get("lookalikes", {})
    false_merges = predicted - expected
    involved = Counter(
        lookalikes.get(str(a)) or lookalikes.get(str(b)) or "other" for a, b in false_merges
    )
    print(
        f"false merges: {len(false_merges):,} pairs {dict(involved)}; "
        f"look-alike records in corpus: {len(lookalikes):,}"
    )
    by_id = {r.id: r for r in records}
    for label, pairs in (("missed", missed), ("false merge", false_merges)):
        for a, b in sorted(pairs)[: args.examples]:
            print(f"  {label}: {a} {b}")
            for n in (a, b):
                r = by_id[n]
                print(
                    f"     {r.title[:90]!r} {r.authors[:1]} {r.year} {r.journal[:30]!r} "
                    f"doi={r.doi!r} pmid={r.pmid!r} {perturbations.get(str(n), [])}"
                )


if __name__ == "__main__":
    main()
