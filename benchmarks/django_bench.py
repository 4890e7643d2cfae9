"""What the Django benchmarks share: a freshly created and migrated PostgreSQL database, and
p50/p95 timing of a repeated call. Imported by the benchmarks, not a benchmark itself.

    from django_bench import fresh_django, timed

    fresh_django("postgres://postgres@127.0.0.1:5432/reviewapp_x_bench")  # or BENCH_DATABASE_URL
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out"


def fresh_django(default_url: str) -> None:
    """Drop and create the benchmark database (BENCH_DATABASE_URL wins over `default_url`),
    point Django at it with tasks run in-process, set Django up and migrate."""
    db_url = os.environ.get("BENCH_DATABASE_URL", default_url)
    name = db_url.rsplit("/", 1)[1]
    host = ["-h", "127.0.0.1", "-U", "postgres"]
    subprocess.run(["dropdb", *host, "--if-exists", name], check=True)
    subprocess.run(["createdb", *host, name], check=True)
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewapp.settings.dev")
    os.environ.pop("CELERY_BROKER_URL", None)
    sys.path.insert(0, str(REPO))

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)


def timed(fn: Callable[[int], Any], repeat: int) -> dict[str, float]:
    """Call `fn(i)` for i in range(repeat); milliseconds at the median, p95 and worst."""
    samples = []
    for i in range(repeat):
        start = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "n": repeat,
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2),
        "max_ms": round(samples[-1], 2),
    }
