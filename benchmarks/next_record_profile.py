"""CPU and SQL statements per request of the screening's next record, in one process.

    python benchmarks/next_record_profile.py [--records 20000] [--requests 300] [--reuse]
                                             [--profile get|decide|page|none]

Builds (or, with --reuse, keeps) the database PROFILE_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/reviewapp_bench_profile) with the same review as
benchmarks/screening_load.py: `--records` records, 20 reviewers, dual screening, blind, ranked
order (two labelled records and a first training). Then, through Django's test client (the
whole middleware stack, no network), for `--requests` requests each:

- `get`: GET `stages/ta/next/` (API; the record held under a live lease is served again, so
  every other GET releases it first, so that half the GETs pick a new record);
- `decide`: POST `decisions/?next=1` (API; the decision and the next record, one round trip);
- `page`: the screening page's htmx POST `decide/<record>/` (answers the next record's HTML
  fragment).

It reports SQL statements per request and CPU milliseconds per request (process time of this
process: PostgreSQL's own time is not in it, it is under 1 ms a statement), as the mean and
p95, and, with --profile, the top of a cProfile of that kind of request. CPU time per request
barely depends on the machine's load, unlike wall-clock latency, so these are the figures to
compare before and after a change on a shared machine.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/reviewapp_bench_profile"


def _build(db_url: str, records: int, env: dict[str, str]) -> None:
    import psycopg
    from screening_load import SETUP, TRAIN

    db_name = db_url.rsplit("/", 1)[1]
    with psycopg.connect(db_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db_name}"')

    def manage(*argv: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *argv],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout

    manage("migrate", "-v0")
    out = manage(
        "shell", "-v0", "-c", SETUP.format(records=records, reviewers=20, order="relevance")
    )
    review = json.loads(out.strip().splitlines()[-1])["review"]
    manage("shell", "-v0", "-c", TRAIN.format(review=review))
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _counter(counted: list[int]):
    def count(execute, sql, params, many, context):
        counted[0] += 1
        return execute(sql, params, many, context)

    return count


def _summary(cpu_ms: list[float], statements: list[int]) -> dict[str, float]:
    ordered = sorted(cpu_ms)
    return {
        "requests": len(cpu_ms),
        "cpu_ms_mean": round(statistics.mean(cpu_ms), 2),
        "cpu_ms_p50": round(statistics.median(cpu_ms), 2),
        "cpu_ms_p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
        "statements_mean": round(statistics.mean(statements), 1),
        "statements_max": max(statements),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--reuse", action="store_true", help="keep the database of the last run")
    parser.add_argument("--profile", choices=["get", "decide", "page", "none"], default="none")
    parser.add_argument("--top", type=int, default=25, help="cProfile lines to print")
    args = parser.parse_args()

    db_url = os.environ.get("PROFILE_DATABASE_URL", DEFAULT_DB)
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        # As in screening_load.py: votes ask whether a training is due and queue it to a queue
        # no worker consumes (emptied afterwards).
        "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", ""),
        "CELERY_QUEUE": "bench-next-record-profile",
        "RANKING_AUTO_TRAIN": "true" if os.environ.get("BENCH_BROKER_URL") else "false",
        "DJANGO_SETTINGS_MODULE": "reviewapp.settings.dev",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "localhost,127.0.0.1,testserver",
        "LOG_LEVEL": "WARNING",
        "API_THROTTLE_USER": "1000000/minute",
    }
    if not args.reuse:
        _build(db_url, args.records, env)
    os.environ.update(env)

    import django

    django.setup()
    import psycopg
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    from reviewapp.accounts import api_token_create
    from reviewapp.models import Review

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "TRUNCATE screening_decision, screening_historicaldecision, screening_screeninglease"
        )
        conn.execute("DELETE FROM screening_screeningitem WHERE votes > 0")
    review = Review.objects.get(title="Screening load benchmark")
    users = list(User.objects.filter(username__startswith="reviewer").order_by("id"))
    api = [
        Client(HTTP_AUTHORIZATION=f"Token {api_token_create(user=u, name='profile', days=0)[1]}")
        for u in users
    ]
    pages = []
    for user in users:
        page = Client(HTTP_HX_REQUEST="true")
        page.force_login(user)
        pages.append(page)
    base = f"/api/reviews/{review.pk}/screening"
    current: dict[int, int | None] = {}

    def get(n: int) -> None:
        who = n % len(api)
        if n // len(api) % 2 and current.get(who):
            api[who].post(
                f"{base}/stages/ta/lease/",
                {"record": current[who], "action": "release"},
                content_type="application/json",
            )
        answer = api[who].get(f"{base}/stages/ta/next/")
        assert answer.status_code == 200, answer.content
        record = answer.json()["record"]
        current[who] = record["id"] if record else None

    def decide(n: int) -> None:
        who = n % len(api)
        if current.get(who) is None:
            get(who)
        vote = {"record": current[who], "stage": "ta", "verdict": ["include", "exclude"][n % 2]}
        answer = api[who].post(f"{base}/decisions/?next=1", vote, content_type="application/json")
        assert answer.status_code in (200, 201, 400), answer.content
        nxt = answer.json().get("next") if answer.status_code != 400 else None
        current[who] = nxt["record"]["id"] if nxt and nxt["record"] else None

    def page(n: int) -> None:
        who = n % len(pages)
        if current.get(who) is None:
            get(who)
        answer = pages[who].post(
            f"/reviews/{review.pk}/screening/ta/decide/{current[who]}/",
            {"verdict": ["include", "exclude"][n % 2]},
        )
        assert answer.status_code == 200, answer.status_code
        found = re.search(r"/decide/(\d+)/", answer.content.decode())
        current[who] = int(found.group(1)) if found else None

    kinds = {"get": get, "decide": decide, "page": page}
    results: dict[str, object] = {"records": review.records.count(), "load_average": None}
    load_before = os.getloadavg()[0]
    for name, request in kinds.items():
        for n in range(len(api)):  # warm up: imports, template loading, first leases
            request(n)
        # As autovacuum would on a review in progress (and screening_load.py does 5 s in).
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(
                "ANALYZE screening_decision, screening_screeningitem, screening_screeninglease"
            )
        cpu_ms: list[float] = []
        statements: list[int] = []
        profiler = cProfile.Profile(time.process_time) if args.profile == name else None
        for n in range(args.requests):
            counted = [0]
            with connection.execute_wrapper(_counter(counted)):
                began = time.process_time()
                if profiler is not None:
                    profiler.enable()
                request(n)
                if profiler is not None:
                    profiler.disable()
                cpu_ms.append((time.process_time() - began) * 1000)
            statements.append(counted[0])
        results[name] = _summary(cpu_ms, statements)
        if profiler is not None:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
            print(out.getvalue())
    results["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    if os.environ.get("BENCH_BROKER_URL"):
        import redis

        redis.Redis.from_url(os.environ["BENCH_BROKER_URL"]).delete("bench-next-record-profile")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
