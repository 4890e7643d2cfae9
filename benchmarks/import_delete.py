"""Time deleting a large import on PostgreSQL, with other imports' records in its duplicate groups.

    python benchmarks/import_delete.py                                   # quick: 10,000 + 1,000
    python benchmarks/import_delete.py --records 100000 --others 10000   # the documented run

Recreates the database `reviewapp_bench_import_delete` (or the one in BENCH_DATABASE_URL) and,
for each scenario, builds a fresh review: one import of `--records` records stored by the
import's own COPY path (search vectors included), a second import of `--others` records each
marked as a duplicate of a record of the first (so every one of them must be regrouped), and a
tenth of the first import's records duplicates of others of the same import. Then it times
`import_deletion_preview` (what the confirmation page shows) and `import_delete` including the
commit, in two scenarios:

- `no work`: nothing screened; the whole import goes.
- `keep screened`: 1% of the first import's records carry a vote; the lead keeps them.

It checks the result (rows left, no record pointing at a deleted one) and prints one line per
scenario; the figures are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/reviewapp_bench_import_delete"


def _fresh_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _setup_django(url: str) -> None:
    for key in ("CELERY_BROKER_URL", "CELERY_QUEUE"):
        os.environ.pop(key, None)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "reviewapp.settings.dev"
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _parsed(n: int, prefix: str) -> list[SimpleNamespace]:
    return [
        SimpleNamespace(
            line=i + 1,
            title=f"{prefix} record {i} on a randomised trial of intervention {i * 7919 % 100003}",
            abstract=f"Background: participants in arm {i % 5}. Methods: a trial. Results: {i}.",
            authors=[f"Author{i % 997}, A", f"Other{i % 313}, B"],
            year=1990 + i % 35,
            journal="Journal of Benchmarks",
            volume=str(i % 50),
            issue=str(i % 12),
            pages=f"{i % 900}-{i % 900 + 9}",
            doi=f"10.5555/{prefix}.{i}",
            pmid="",
            issn="",
            accession_numbers={},
            url="",
            keywords=["trial"],
            record_type="JOUR",
            raw={},
        )
        for i in range(n)
    ]


def _build(records: int, others: int, voted_share: float) -> tuple[object, object, object]:
    from django.contrib.auth.models import User
    from django.db import connection, transaction

    from reviewapp.services import review_create
    from screening.models import Decision, ImportBatch, Record, ScreeningItem, Stage
    from screening.services import _insert_records

    user = User.objects.create_user(f"lead{time.time_ns()}", password="x")
    review = review_create(created_by=user, title="Import deletion benchmark")
    big = ImportBatch.objects.create(
        review=review,
        source_database="MEDLINE",
        file_name="big.ris",
        status=ImportBatch.Status.DONE,
        records_imported=records,
        created_by=user,
    )
    other = ImportBatch.objects.create(
        review=review,
        source_database="Embase",
        file_name="other.ris",
        status=ImportBatch.Status.DONE,
        records_imported=others,
        created_by=user,
    )
    with transaction.atomic():
        _insert_records(big, _parsed(records, "big"))
        _insert_records(other, _parsed(others, "other"))
        with connection.cursor() as cursor:
            # The other import's i-th record duplicates the first import's i-th record.
            cursor.execute(
                """
                WITH b AS (SELECT id, row_number() OVER (ORDER BY id) AS n
                           FROM screening_record WHERE import_batch_id = %s),
                     o AS (SELECT id, row_number() OVER (ORDER BY id) AS n
                           FROM screening_record WHERE import_batch_id = %s)
                UPDATE screening_record r SET duplicate_of_id = b.id, duplicate_reason = 'doi'
                FROM o JOIN b USING (n) WHERE r.id = o.id
                """,
                [big.pk, other.pk],
            )
            # A tenth of the first import duplicates other records of the same import (records
            # past the part the other import points at, so groups stay one level deep).
            cursor.execute(
                """
                WITH b AS (SELECT id, row_number() OVER (ORDER BY id) AS n
                           FROM screening_record WHERE import_batch_id = %s)
                UPDATE screening_record r SET duplicate_of_id = k.id, duplicate_reason = 'title'
                FROM b d JOIN b k ON k.n = d.n - 1
                WHERE r.id = d.id AND d.n > %s AND d.n %% 10 = 0
                """,
                [big.pk, others + 1],
            )
    voted = int(records * voted_share)
    if voted:
        ids = list(
            Record.objects.filter(import_batch=big, duplicate_of__isnull=True)
            .order_by("-id")
            .values_list("id", flat=True)[:voted]
        )
        stage = Stage.TITLE_ABSTRACT
        Decision.objects.bulk_create(
            Decision(review=review, record_id=r, stage=stage, reviewer=user, verdict="exclude")
            for r in ids
        )
        ScreeningItem.objects.bulk_create(
            ScreeningItem(review=review, record_id=r, stage=stage, votes=1) for r in ids
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) screening_record")
    return review, big, user


def _scenario(name: str, records: int, others: int, voted_share: float) -> dict[str, object]:
    from django.db import transaction

    from screening.models import Record
    from screening.selectors_imports import import_deletion_preview
    from screening.services_imports import import_delete

    review, big, user = _build(records, others, voted_share)
    start = time.perf_counter()
    preview = import_deletion_preview(batch=big)
    preview_s = time.perf_counter() - start
    start = time.perf_counter()
    with transaction.atomic():  # the commit (deferred checks) is part of the cost
        done = import_delete(batch=big, user=user, keep_screened=voted_share > 0)
    delete_s = time.perf_counter() - start
    left = Record.objects.filter(review=review)
    dangling = left.filter(duplicate_of__isnull=False).exclude(duplicate_of__in=left.values("pk"))
    assert not dangling.exists(), "a record points at a deleted one"
    assert done.records_deleted == preview.records_to_delete
    assert left.count() == others + preview.records_with_work
    return {
        "scenario": name,
        "records": records,
        "others_in_groups": others,
        "records_with_work": preview.records_with_work,
        "records_deleted": done.records_deleted,
        "regrouped": done.regrouped,
        "preview_s": round(preview_s, 2),
        "delete_s": round(delete_s, 2),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--others", type=int, default=1_000)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    _fresh_database(url)
    _setup_django(url)
    results = [
        _scenario("no work", args.records, args.others, 0.0),
        _scenario("keep screened", args.records, args.others, 0.01),
    ]
    for r in results:
        print(
            f"{r['scenario']:>14}: {r['records']:,} records, {r['others_in_groups']:,} of "
            f"another import in their groups, {r['records_with_work']:,} with work -> "
            f"deleted {r['records_deleted']:,}, regrouped {r['regrouped']:,}; "
            f"preview {r['preview_s']} s, delete {r['delete_s']} s, max RSS {r['max_rss_mb']} MB"
        )
    OUT.mkdir(exist_ok=True)
    (OUT / f"import_delete_{args.records}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
