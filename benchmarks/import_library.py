"""Import + deduplicate a large RIS file on PostgreSQL, then time the library page.

    python benchmarks/import_library.py [--records 10000] [--requests 5]
    python benchmarks/import_library.py --records 100000 --requests 40   # the documented run

Builds the corpus with benchmarks/corpus.py (real records of ../shared/data/screening plus
perturbed copies), recreates the database `reviewapp_bench` (or the one in BENCH_DATABASE_URL),
runs `manage.py import_references` in a child process and reports its wall time and peak
memory (max RSS), then requests the library page with the test client: plain pages, deep pages,
full-text searches and filters, reporting p50/p95 per kind.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/reviewapp_bench"


def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=REPO, env=env, check=True, text=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=5, help="per kind of library request")
    args = parser.parse_args()

    OUT.mkdir(exist_ok=True)
    corpus = OUT / f"corpus{args.records}.ris"
    truth = OUT / f"truth{args.records}.json"
    if not corpus.exists():
        run(
            [
                sys.executable,
                "benchmarks/corpus.py",
                "--records",
                str(args.records),
                "--out",
                str(corpus),
                "--truth",
                str(truth),
            ],
            dict(os.environ),
        )

    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    db_name = db_url.rsplit("/", 1)[1]
    admin_url = db_url.rsplit("/", 1)[0] + "/postgres"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "CELERY_BROKER_URL": "",
        "DJANGO_SETTINGS_MODULE": "reviewapp.settings.dev",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    }
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}"')
        conn.execute(f'CREATE DATABASE "{db_name}"')
    run([sys.executable, "manage.py", "migrate", "-v0"], env)
    setup = (
        "from django.contrib.auth.models import User; from reviewapp.services import review_create;"
        "u = User.objects.create_user('bench', password='x');"
        "print(review_create(created_by=u, title='Benchmark').pk)"
    )
    shell = run([sys.executable, "manage.py", "shell", "-v0", "-c", setup], env)
    review_id = shell.stdout.strip().splitlines()[-1]

    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    imported = run(
        [
            sys.executable,
            "manage.py",
            "import_references",
            review_id,
            str(corpus),
            "--source",
            "Benchmark corpus",
        ],
        env,
    )
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if peak_mb <= before / 1024:
        peak_mb = float("nan")  # an earlier child was bigger: cannot attribute
    print(imported.stdout.strip())
    print(f"import + dedup of {args.records} records: {wall:.1f} s wall, peak RSS {peak_mb:.0f} MB")

    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.test import Client

    from screening.models import ImportBatch

    client = Client()
    client.force_login(User.objects.get(username="bench"))
    base = f"/reviews/{review_id}/library/"
    batch = ImportBatch.objects.get(review_id=review_id)
    kinds = {
        "first page": [""],
        "page 1000": ["?page=1000"],
        "search": [
            "?q=randomised+trial",
            "?q=hormone",
            "?q=emicizumab",
            "?q=object+recognition",
            "?q=infliximab+switching",
        ],
        "search + filters": ["?q=therapy&year=2015", "?q=rats&status=unique"],
        "filter year": ["?year=2010", "?year=2019"],
        "filter duplicates": ["?status=duplicate", "?status=primary"],
        "filter source": [f"?source={batch.pk}"],
        "htmx search fragment": ["?q=peer+support"],
    }
    results: dict[str, dict[str, float]] = {}
    for kind, queries in kinds.items():
        timings = []
        headers = {"HTTP_HX_REQUEST": "true"} if kind.startswith("htmx") else {}
        client.get(base + queries[0], **headers)  # warm the connection and caches once
        for i in range(args.requests):
            query = queries[i % len(queries)]
            t0 = time.perf_counter()
            response = client.get(base + query, **headers)
            timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (query, response.status_code)
        timings.sort()
        results[kind] = {
            "p50_ms": statistics.median(timings),
            "p95_ms": timings[int(0.95 * (len(timings) - 1))],
            "max_ms": timings[-1],
        }
        print(
            f"library {kind:22s} p50 {results[kind]['p50_ms']:7.1f} ms  "
            f"p95 {results[kind]['p95_ms']:7.1f} ms"
        )
    all_p95 = max(r["p95_ms"] for r in results.values())
    report = {
        "records": args.records,
        "import_wall_s": round(wall, 2),
        "import_peak_rss_mb": round(peak_mb, 1),
        "import_output": imported.stdout.strip(),
        "library": results,
        "library_worst_p95_ms": round(all_p95, 1),
    }
    (OUT / "import_library.json").write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k != "library"}, indent=2))


if __name__ == "__main__":
    main()
