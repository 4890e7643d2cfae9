"""Load test of screening: concurrent reviewers deciding and fetching the next record.

    python benchmarks/screening_load.py [--records 10000] [--reviewers 20] [--seconds 10]
                                        [--order relevance|random|import] [--workers 5]
                                        [--think 2] [--combined] [--reuse]
                                        [--train-during | --train-worker]
                                        [--train-nice 19] [--train-cpu 1]

Recreates the database `reviewapp_bench_screening` (or BENCH_DATABASE_URL) with one review of
`--records` records and `--reviewers` reviewers (dual screening, blind), starts gunicorn on it,
and runs one asyncio task per reviewer with httpx through the API, as a screening page does:
POST the decision on the current record, then GET the next record. One "cycle" (decision +
next record) is the timed unit; with --combined the decision's answer carries the next
record (POST ?next=1), one round trip as on the screening page. Each reviewer first "reads"
the record for an exponentially distributed time (mean --think seconds; real screeners take
10-30 s per abstract); --think 0 runs flat out and measures saturation instead. One decision
in ten is sent twice (a double click or a client retry), which must answer 200 and store
nothing.

Set BENCH_BROKER_URL (e.g. redis://127.0.0.1:6379/6) to queue trainings the way production
does, to a queue no worker consumes (emptied afterwards).

Records are served through leases (screening/next_record.py): with `--order relevance` the
review is first given two labelled records and a trained ranking, and with `--train-during` a
separate process retrains the ranking over and over while the reviewers work, so the next-record
latency is measured while a training runs. A vote answered 400 ("already has its 2 decisions")
is a record served to more reviewers than it needed: the run reports them as `refused_votes`.
`--train-during` is the worst case (a worker that is never idle); `--train-worker` is the
production shape: a real Celery worker on the benchmark's queue, trained on the app's own
debounce schedule (screening/ranking/schedule.py), and with `--train-cpu 1 --train-nice 19`
pinned to one core at low priority, as the worker's own container would be. The POST + GET
flow (without --combined) reports the next record's own time (`next_ms_p95`).

Afterwards the database is checked row by row: the number of Decision rows equals the number
of 201 answers (nothing lost, nothing duplicated), no (record, stage, reviewer) appears twice,
no record has more than two votes, and every ScreeningItem's vote count equals its rows.
Results go to benchmarks/out/screening_load.json and docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/reviewapp_bench_screening"
TOKENS = OUT / "screening_load_tokens.json"  # for --reuse

SETUP = """
import json, sys
from django.contrib.auth.models import User
from reviewapp.accounts import api_token_create
from reviewapp.models import Membership
from reviewapp.services import review_create
from screening.models import ImportBatch, Record
from screening.services_screening import stage_settings_update

records, reviewers, order = {records}, {reviewers}, {order!r}
lead = User.objects.create_user("bench-lead", password="x")
review = review_create(created_by=lead, title="Screening load benchmark")
batch = ImportBatch.objects.create(
    review=review, source_database="MEDLINE", file_name="bench.ris",
    status=ImportBatch.Status.DONE, records_imported=records,
)
words = "peer support randomised trial mental health recovery outcomes adults service".split()
chunk = []
for n in range(records):
    chunk.append(Record(
        review=review, import_batch=batch, source_line=n + 1,
        title=f"Trial {{n}}: " + " ".join(words[(n + k) % len(words)] for k in range(8)),
        abstract=" ".join(words[(n * 7 + k) % len(words)] for k in range(180)),
        authors=["Smith, J", "Jones, K"], year=2000 + n % 20, journal="BMC Psychiatry",
    ))
    if len(chunk) == 5000:
        Record.objects.bulk_create(chunk)
        chunk = []
Record.objects.bulk_create(chunk)
stage_settings_update(
    review=review, stage="ta", reviewers_required=2, blind=True, exclusion_reasons=[],
    order=order,
)
tokens = []
for i in range(reviewers):
    user = User.objects.create_user(f"reviewer{{i}}", password="x")
    Membership.objects.create(review=review, user=user, is_reviewer=True)
    tokens.append(api_token_create(user=user, name="benchmark", days=0)[1])
print(json.dumps({{"review": review.pk, "tokens": tokens}}))
"""


# Two records given an outcome directly (one include, one exclude; no votes, so the
# vote-count check below still holds) and a first ranking of the whole review.
TRAIN = """
from screening.models import Record, ScreeningItem
from screening import services_ranking
ids = Record.objects.filter(review_id={review}).order_by("id").values_list("id", flat=True)[:2]
for record_id, verdict in zip(ids, ["include", "exclude"]):
    ScreeningItem.objects.update_or_create(
        record_id=record_id, stage="ta",
        defaults=dict(review_id={review}, status="decided", votes=0, final_verdict=verdict),
    )
services_ranking.ranking_train(review_id={review}, stage="ta")
"""

# Retrain again and again (as a busy Celery worker would), printing each training's seconds.
TRAIN_LOOP = """
import time
from screening.models import RankingState
from screening import services_ranking
deadline = time.monotonic() + {seconds}
while time.monotonic() < deadline:
    RankingState.objects.filter(review_id={review}).update(labels_fingerprint="")
    began = time.perf_counter()
    services_ranking.ranking_train(review_id={review}, stage="ta")
    print(round(time.perf_counter() - began, 2), flush=True)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def _reviewer(
    client: httpx.AsyncClient,
    review: int,
    token: str,
    deadline: float,
    rng: random.Random,
    stats: dict,
    think: float,
    combined: bool,
) -> None:
    headers = {"Authorization": f"Token {token}"}
    base = f"/api/reviews/{review}/screening"
    current = (await client.get(f"{base}/stages/ta/next/", headers=headers)).json()["record"]
    while current is not None and time.perf_counter() < deadline:
        if think:  # reading the abstract
            await asyncio.sleep(rng.expovariate(1 / think))
        verdict = rng.choices(["include", "exclude", "maybe"], weights=[2, 7, 1])[0]
        vote = {"record": current["id"], "stage": "ta", "verdict": verdict}
        started = time.perf_counter()
        target = f"{base}/decisions/" + ("?next=1" if combined else "")
        answer = await client.post(target, json=vote, headers=headers)
        stats["status"][answer.status_code] = stats["status"].get(answer.status_code, 0) + 1
        if answer.status_code == 201:
            stats["created"] += 1
            stats["created_ids"].add(answer.json()["id"])
        if rng.random() < 0.1:  # a double click or a retried request
            again = await client.post(f"{base}/decisions/", json=vote, headers=headers)
            stats["retries"][again.status_code] = stats["retries"].get(again.status_code, 0) + 1
        if combined and answer.status_code in (200, 201):
            current = answer.json()["next"]["record"]
        else:
            following = await client.get(f"{base}/stages/ta/next/", headers=headers)
            stats["next_ms"].append(following.elapsed.total_seconds() * 1000)
            current = following.json()["record"]
        stats["cycles"].append((time.perf_counter() - started) * 1000)
        stats["decision_ms"].append(answer.elapsed.total_seconds() * 1000)


async def _load(
    url: str, review: int, tokens: list[str], seconds: float, think: float, combined: bool
) -> dict:
    import httpx

    stats: dict = {
        "status": {},
        "retries": {},
        "created": 0,
        "created_ids": set(),
        "cycles": [],
        "decision_ms": [],
        "next_ms": [],
    }
    limits = httpx.Limits(max_connections=len(tokens) + 5)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _reviewer(client, review, token, deadline, random.Random(i), stats, think, combined)
                for i, token in enumerate(tokens)
            )
        )
        stats["wall_seconds"] = time.perf_counter() - started
    return stats


def _check(db_url: str, review: int) -> dict:
    import psycopg

    with psycopg.connect(db_url) as conn:
        one = lambda sql: conn.execute(sql, {"r": review}).fetchone()[0]  # noqa: E731 -- a one-line alias reads better than a nested def
        return {
            "decision_rows": one("SELECT count(*) FROM screening_decision WHERE review_id = %(r)s"),
            "duplicate_votes": one(
                "SELECT count(*) FROM (SELECT 1 FROM screening_decision WHERE review_id = %(r)s"
                " GROUP BY record_id, stage, reviewer_id HAVING count(*) > 1) d"
            ),
            "records_over_two_votes": one(
                "SELECT count(*) FROM (SELECT 1 FROM screening_decision WHERE review_id = %(r)s"
                " GROUP BY record_id, stage HAVING count(*) > 2) d"
            ),
            "items_with_wrong_count": one(
                "SELECT count(*) FROM screening_screeningitem i WHERE i.review_id = %(r)s AND"
                " i.votes <> (SELECT count(*) FROM screening_decision d"
                " WHERE d.record_id = i.record_id AND d.stage = i.stage)"
            ),
            "items": one("SELECT count(*) FROM screening_screeningitem WHERE review_id = %(r)s"),
            "records": one("SELECT count(*) FROM screening_record WHERE review_id = %(r)s"),
        }


def _analyze(db_url: str) -> None:
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        for table in ("screening_decision", "screening_screeningitem", "screening_screeninglease"):
            conn.execute(f"ANALYZE {table}")


def _worker_trainings(db_url: str, since: float) -> list[float]:
    """Seconds of each training the Celery worker finished during the run (its outbox rows:
    sent, then finished)."""
    import psycopg

    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT extract(epoch FROM finished_at - greatest(sent_at, coalesce(not_before,"
            " sent_at))) FROM reviewapp_outboxtask WHERE task_name LIKE '%%train_ranking%%'"
            " AND finished_at IS NOT NULL AND created_at >= to_timestamp(%s) ORDER BY id",
            (since,),
        ).fetchall()
    return [round(float(r[0]), 2) for r in rows]


def _reuse(db_url: str, order: str) -> dict:
    """Keep the records and reviewers of the previous run; forget its votes."""
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "TRUNCATE screening_decision, screening_historicaldecision, screening_screeningitem,"
            " screening_historicalscreeningitem, screening_screeninglease, screening_recordrank,"
            " screening_rankingstate"
        )
        conn.execute('UPDATE screening_stagesettings SET "order" = %s', (order,))
        review = conn.execute("SELECT id FROM reviewapp_review").fetchone()[0]
    # Only a digest of each token is stored: the setup run kept the tokens themselves.
    tokens = json.loads(TOKENS.read_text())["tokens"]
    return {"review": review, "tokens": tokens}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--order", choices=["relevance", "random", "import"], default="random")
    parser.add_argument(
        "--train-during",
        action="store_true",
        help="retrain the ranking in a separate process throughout the run",
    )
    parser.add_argument(
        "--train-nice",
        type=int,
        default=0,
        help="run that process at this niceness (a ranking worker started under `nice`)",
    )
    parser.add_argument(
        "--train-worker",
        action="store_true",
        help="run a real Celery worker on the benchmark's queue (needs BENCH_BROKER_URL): "
        "trainings come on the app's own debounce schedule, as in production",
    )
    parser.add_argument(
        "--train-cpu",
        default="",
        help="pin the training process to these CPUs (taskset -c, e.g. 1): the worker's own "
        "container",
    )
    parser.add_argument(
        "--analyze-after",
        type=float,
        default=5,
        help="seconds into the run to ANALYZE the votes tables (-1: never; then the first "
        "minute is planned as if nothing had been screened)",
    )
    parser.add_argument("--workers", type=int, default=5, help="gunicorn worker processes")
    parser.add_argument(
        "--think",
        type=float,
        default=2.0,
        help="mean seconds a reviewer reads before deciding (exponential); 0 = flat out",
    )
    parser.add_argument("--out", default=str(OUT / "screening_load.json"))
    parser.add_argument(
        "--combined",
        action="store_true",
        help="POST ?next=1: the decision's answer carries the next record (the page's flow)",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep the previous run's records, drop its votes"
    )
    args = parser.parse_args()

    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    db_name = db_url.rsplit("/", 1)[1]
    admin_url = db_url.rsplit("/", 1)[0] + "/postgres"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        # With BENCH_BROKER_URL (a Redis no worker listens to on this queue) every vote pays
        # the real cost of asking whether a training is due and queueing it; without one,
        # trainings would run inside the web requests, so automatic training is off.
        "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", ""),
        "CELERY_QUEUE": "bench-screening-load",
        "RANKING_AUTO_TRAIN": "true" if os.environ.get("BENCH_BROKER_URL") else "false",
        "DJANGO_SETTINGS_MODULE": "reviewapp.settings.dev",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "LOG_LEVEL": "WARNING",
        # The load is the measurement: the per-user API throttle would cap it.
        "API_THROTTLE_USER": "1000000/minute",
    }
    import psycopg

    if args.reuse:
        setup = _reuse(db_url, args.order)
        setup["tokens"] = setup["tokens"][: args.reviewers]
    else:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{db_name}"')
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True
        )
        code = SETUP.format(records=args.records, reviewers=args.reviewers, order=args.order)
        shell = subprocess.run(
            [sys.executable, "manage.py", "shell", "-v0", "-c", code],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        setup = json.loads(shell.stdout.strip().splitlines()[-1])
        OUT.mkdir(parents=True, exist_ok=True)
        TOKENS.write_text(json.dumps({"tokens": setup["tokens"]}))
    if args.order == "relevance" or args.train_during:
        began = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-v0",
                "-c",
                TRAIN.format(review=setup["review"]),
            ],
            cwd=REPO,
            env=env,
            check=True,
        )
        print(f"first training in {time.perf_counter() - began:.0f} s", flush=True)
    began = time.perf_counter()
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"vacuumed in {time.perf_counter() - began:.0f} s", flush=True)

    prefix = [
        *(["taskset", "-c", args.train_cpu] if args.train_cpu else []),
        *(["nice", "-n", str(args.train_nice)] if args.train_nice else []),
    ]
    worker = (
        subprocess.Popen(
            [
                *prefix,
                str(Path(sys.executable).with_name("celery")),
                "-A",
                "reviewapp",
                "worker",
                "-Q",
                env["CELERY_QUEUE"],
                "--concurrency",
                "1",
                "--loglevel",
                "WARNING",
            ],
            cwd=REPO,
            env=env,
        )
        if args.train_worker
        else None
    )
    port = _free_port()
    gunicorn = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "reviewapp.wsgi",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            # A worker's first import of the app is slow on a busy shared machine.
            "--timeout",
            "120",
        ],
        cwd=REPO,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        for _ in range(1200):  # up to 2 minutes for the workers to boot
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        trainer = (
            subprocess.Popen(
                [
                    *prefix,
                    sys.executable,
                    "manage.py",
                    "shell",
                    "-v0",
                    "-c",
                    TRAIN_LOOP.format(review=setup["review"], seconds=args.seconds + 30),
                ],
                cwd=REPO,
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            if args.train_during
            else None
        )
        load_before = os.getloadavg()[0]
        run_began = time.time()
        # The run starts from a review nobody has screened: the planner's statistics say the
        # votes tables are empty, and until autovacuum notices (a minute or more) it plans for
        # that (e.g. the queue counts walked every record of the review). A review in progress
        # has statistics: take them once the first votes are in, as autovacuum would.
        analyzer = threading.Timer(args.analyze_after, _analyze, (db_url,))
        if args.analyze_after >= 0:
            analyzer.start()
        stats = asyncio.run(
            _load(url, setup["review"], setup["tokens"], args.seconds, args.think, args.combined)
        )
        load_after = os.getloadavg()[0]
        analyzer.cancel()
        trainings = None
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=60)
            trainings = _worker_trainings(db_url, run_began)
        if trainer is not None:
            trainer.terminate()
            out, _ = trainer.communicate(timeout=60)
            trainings = [float(x) for x in out.split()] if out else []
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
        gunicorn.terminate()
        try:
            gunicorn.wait(timeout=60)
        except subprocess.TimeoutExpired:
            # On a loaded machine the graceful shutdown can outlast the wait: the results are
            # in hand, so stop it the hard way rather than lose them.
            gunicorn.kill()
            gunicorn.wait(timeout=30)

    if os.environ.get("BENCH_BROKER_URL"):
        import redis

        redis.Redis.from_url(os.environ["BENCH_BROKER_URL"]).delete("bench-screening-load")
    checks = _check(db_url, setup["review"])
    cycles = stats["cycles"]
    result = {
        "records": args.records,
        "reviewers": args.reviewers,
        "order": args.order,
        "train_during": args.train_during,
        "train_nice": args.train_nice,
        "train_worker": args.train_worker,
        "train_cpu": args.train_cpu,
        "analyze_after_seconds": args.analyze_after,
        "think_seconds_mean": args.think,
        "flow": "decision answer carries the next record" if args.combined else "POST + GET",
        "gunicorn_workers": args.workers,
        "cpus": os.cpu_count(),
        # The machine's 1-minute load average around the run: other work on the same CPUs
        # (here: other test suites) shows up directly in the tail latencies.
        "load_average": [round(load_before, 2), round(load_after, 2)],
        "seconds": round(stats["wall_seconds"], 1),
        "cycles": len(cycles),
        "cycles_per_second": round(len(cycles) / stats["wall_seconds"], 1),
        "cycle_ms": {
            "p50": round(statistics.median(cycles), 1),
            "p95": round(_percentile(cycles, 0.95), 1),
            "p99": round(_percentile(cycles, 0.99), 1),
            "max": round(max(cycles), 1),
        },
        "decision_ms_p95": round(_percentile(stats["decision_ms"], 0.95), 1),
        "next_ms_p95": round(_percentile(stats["next_ms"], 0.95), 1) if stats["next_ms"] else None,
        "answers": {str(k): v for k, v in sorted(stats["status"].items())},
        "refused_votes": stats["status"].get(400, 0),
        "trainings_during_run": (
            {"count": len(trainings), "seconds": trainings} if trainings is not None else None
        ),
        "retried_answers": {str(k): v for k, v in sorted(stats["retries"].items())},
        "created_201": stats["created"],
        "database": checks,
        "lost_decisions": stats["created"] - checks["decision_rows"],
        "ok": (
            stats["created"] == checks["decision_rows"] == len(stats["created_ids"])
            and checks["duplicate_votes"] == 0
            and checks["records_over_two_votes"] == 0
            and checks["items_with_wrong_count"] == 0
        ),
    }
    Path(args.out).parent.mkdir(exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if not result["ok"]:
        sys.exit("Decisions were lost or duplicated: see the database checks above.")


if __name__ == "__main__":
    main()
