"""Run every benchmark in benchmarks/ at its quick default size (`make bench`).

    .venv/bin/python benchmarks/run_all.py [--only stats dedup_quality] [--list]

Each benchmark is a self-contained script whose defaults are sized for this run (minutes, not
hours); docs/performance.md gives the flags of the full-size runs behind its figures. A new
script in this folder is picked up without being listed here; only helper modules are skipped.

Benchmarks that recreate their own PostgreSQL database do so under their own names (or
BENCH_DATABASE_URL); the latency benchmark gets a fresh `reviewapp_bench_analysis` here, and a
Redis broker from BENCH_CELERY_BROKER_URL (default redis://127.0.0.1:6379/10). Your
development database is never used. Prints one line per benchmark and exits non-zero if any
failed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Imported by the benchmarks, not benchmarks themselves.
HELPERS = {"run_all", "corpus", "dedup_datasets", "django_bench"}
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
LATENCY_DB = "reviewapp_bench_analysis"
# Benchmarks that need a PostgreSQL database of their own, recreated for each run.
OWN_DATABASE = {
    "figure_download": "reviewapp_bench_figures",
    "ui_actions": "reviewapp_bench_ui",
    "builder_actions": "reviewapp_bench_builder",
    "builder_queries": "reviewapp_bench_builder_q",
    "analysis_page": "reviewapp_bench_page",
}


def benchmarks() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.py") if p.stem not in HELPERS)


def _fresh_database(name: str) -> str:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG}/{name}"


def environment(name: str) -> dict[str, str]:
    env = dict(os.environ)
    # A developer's shell may point at their own database and queue: benchmarks never use them.
    for key in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_QUEUE", "DJANGO_SETTINGS_MODULE"):
        env.pop(key, None)
    if name in OWN_DATABASE:
        env["DATABASE_URL"] = _fresh_database(OWN_DATABASE[name])
    if name == "analysis_latency":
        env["DATABASE_URL"] = _fresh_database(LATENCY_DB)
        env["CELERY_BROKER_URL"] = os.environ.get(
            "BENCH_CELERY_BROKER_URL", "redis://127.0.0.1:6379/10"
        )
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and stop")
    args = parser.parse_args()
    names = benchmarks()
    if args.list:
        print("\n".join(names))
        return 0
    if args.only:
        unknown = sorted(set(args.only) - set(names))
        if unknown:
            parser.error(f"no such benchmark: {', '.join(unknown)} (see --list)")
        names = [n for n in names if n in args.only]

    results: list[tuple[str, float, int]] = []
    for name in names:
        print(f"\n== {name}", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(HERE / f"{name}.py")], env=environment(name))
        results.append((name, time.perf_counter() - start, code))

    print("\n== summary")
    for name, seconds, code in results:
        print(f"  {name:<24} {seconds:7.1f} s  {'ok' if code == 0 else f'FAILED ({code})'}")
    return 1 if any(code for _, _, code in results) else 0


if __name__ == "__main__":
    sys.exit(main())
