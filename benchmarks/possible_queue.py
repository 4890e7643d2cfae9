"""The possible-duplicates queue on PostgreSQL: storing the matcher's pairs at import, rendering
the duplicates page, and a keyboard decision (confirm or separate, then undo) as htmx sends it.

    python benchmarks/possible_queue.py [--records 10000] [--pairs 200] [--repeat 20]
    python benchmarks/possible_queue.py --records 100000 --pairs 1000 --repeat 100   # documented

Recreates the database `reviewapp_possible_bench` (or BENCH_DATABASE_URL), migrates it, seeds one
review with `--records` records and queues `--pairs` open pairs through
`services.possible_pairs_store` (timed), then reports p50/p95 in milliseconds of: the
duplicates page, the PRISMA page, a decision posted as htmx (the answer is the re-rendered
queue) and its undo. Each timed decision alternates confirm and separate and is undone, so
every sample finds the same queue. Results go to benchmarks/out/possible_queue.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Any

from django_bench import OUT, fresh_django, timed

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/reviewapp_possible_bench"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    fresh_django(DEFAULT_DB)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from reviewapp.models import Membership, Review
    from screening import services
    from screening.models import ImportBatch, PossibleDuplicate, Record
    from screening.references.dedup import PossiblePair

    lead = get_user_model().objects.create_user("lead", password="x")
    review = Review.objects.create(title="Benchmark review")
    Membership.objects.create(review=review, user=lead, is_lead=True)
    batch = ImportBatch.objects.create(
        review=review, source_database="MEDLINE", file_name="bench.ris", status="done"
    )
    Record.objects.bulk_create(
        (
            Record(
                review=review,
                import_batch=batch,
                source_line=i,
                title=f"Peer support for people with condition {i}: a randomised trial",
                abstract="Background. " + "Peer support was compared with usual care. " * 20,
                authors=[f"Author{i % 997}, A", "Second, B"],
                year=2000 + i % 24,
                journal="BMC Psychiatry",
                volume=str(i % 40),
                issue=str(i % 12),
                pages=f"{i % 900}-{i % 900 + 9}",
            )
            for i in range(args.records)
        ),
        batch_size=5000,
    )
    ids = list(Record.objects.filter(review=review).order_by("id").values_list("id", flat=True))
    step = max(2, len(ids) // max(1, args.pairs))
    pairs = [
        PossiblePair(a=ids[i], b=ids[i + 1], reason="titles 91% alike")
        for i in range(0, len(ids) - 1, step)
    ][: args.pairs]

    results: dict[str, Any] = {
        "database": connection.vendor,
        "records": args.records,
        "pairs": len(pairs),
    }
    start = time.perf_counter()
    stored = services.possible_pairs_store(review_id=review.pk, pairs=pairs)
    results["store_pairs_ms"] = round((time.perf_counter() - start) * 1000, 1)
    assert stored == len(pairs)

    client = Client()
    client.force_login(lead)
    page = f"/reviews/{review.pk}/duplicates/"

    def duplicates_page(_i: int) -> None:
        assert client.get(page).status_code == 200

    def prisma_page(_i: int) -> None:
        assert client.get(f"/reviews/{review.pk}/prisma/").status_code == 200

    queue = list(PossibleDuplicate.objects.filter(review=review).order_by("id"))

    def decide(i: int) -> None:
        pair = queue[i % len(queue)]
        decision = "confirm" if i % 2 == 0 else "separate"
        response = client.post(
            f"/reviews/{review.pk}/duplicates/possible/{pair.pk}/",
            {"decision": decision},
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 200 and b"possible-undo" in response.content

    def undo(_i: int) -> None:
        response = client.post(
            f"/reviews/{review.pk}/duplicates/possible/undo/", HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200 and b"possible-error" not in response.content

    results["duplicates_page"] = timed(duplicates_page, args.repeat)
    results["prisma_page"] = timed(prisma_page, args.repeat)
    decisions: list[float] = []
    undos: list[float] = []
    for i in range(args.repeat):
        start = time.perf_counter()
        decide(i)
        decisions.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        undo(i)
        undos.append((time.perf_counter() - start) * 1000)
    for key, samples in (("decision_htmx", decisions), ("undo_htmx", undos)):
        samples.sort()
        results[key] = {
            "n": len(samples),
            "p50_ms": round(statistics.median(samples), 2),
            "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2),
            "max_ms": round(samples[-1], 2),
        }
    assert PossibleDuplicate.objects.filter(review=review, status="open").count() == len(pairs)
    results["load_average"] = os.getloadavg()[0]

    OUT.mkdir(exist_ok=True)
    (OUT / "possible_queue.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
