"""Time from `make run` to the first answered page when nothing changed since the last run.

    python benchmarks/make_run_start.py [--repeat 2] [--fresh]

Runs `make run` once (it may install, migrate and load the demo; with --fresh the database is
dropped first, so this is a newcomer's first start), then --repeat more times, each timed from
starting `make` to the first 200 from the login page; each server is stopped (its whole process
group) before the next start. Uses the database `reviewapp_bench_run` (created if missing; or
BENCH_DATABASE_URL) and no broker, so background tasks run in the web process as on a
newcomer's machine. Also reports whether pip ran, and the load average before and after: the
machine's other work moves these figures more than anything here.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/reviewapp_bench_run"


def _ensure_database(url: str, *, fresh: bool = False) -> None:
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answered(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def start_once(env: dict[str, str], limit: float = 600) -> tuple[float, bool]:
    """Seconds until the login page answers, and whether pip ran."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/accounts/login/"
    started = time.perf_counter()
    make = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # one process group: make, the server and its reloader child
    )
    try:
        while not _answered(url):
            if make.poll() is not None:
                raise RuntimeError(f"make run exited with {make.returncode}")
            if time.perf_counter() - started > limit:
                raise TimeoutError(f"no answer from {url} after {limit:.0f} s")
            time.sleep(0.1)
        seconds = time.perf_counter() - started
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        output, _ = make.communicate(timeout=60)
    return seconds, "pip install" in output


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--fresh", action="store_true", help="drop the database first")
    args = parser.parse_args()
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    _ensure_database(db_url, fresh=args.fresh)
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "CELERY_QUEUE")}
    env["DATABASE_URL"] = db_url
    first, pip_first = start_once(env)
    what = "fresh database" if args.fresh else "warm-up"
    print(f"first make run ({what}): {first:.1f} s to the first page, pip ran: {pip_first}")
    times = []
    for _ in range(args.repeat):
        seconds, pip_ran = start_once(env)
        times.append(seconds)
        print(f"make run, nothing changed: {seconds:.1f} s to the first page, pip ran: {pip_ran}")
    print(f"median {statistics.median(times):.1f} s over {len(times)} starts")
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
