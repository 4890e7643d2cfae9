"""Recomputation on a real Celery worker over Redis, against the real test database, including
a worker killed in the middle of a task."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from analysis import services, stats
from analysis.models import Analysis
from reviewapp.celery import app as celery_app
from tests.analysis.conftest import include_study, save_continuous
from tests.conftest import needs
from tests.integration.test_celery_worker import _broker_up

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Run inside the worker process: every computation first writes a marker file, then sleeps, so
# that the test can kill the worker while a task is certainly running.
SLOW_BOOT = """
import os, sys, time
import django
django.setup()
from analysis import services
original = services.compute_payload
def slow(spec, inputs):
    open(os.environ["ANALYSIS_MARKER"], "a").write("started\\n")
    time.sleep(60)
    return original(spec, inputs)
services.compute_payload = slow
from celery.__main__ import main
sys.argv = ["celery"] + sys.argv[1:]
main()
"""


class Workers:
    def __init__(self, settings, tmp_path: Path) -> None:
        db = connection.settings_dict
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "reviewapp.settings.test",
            "DATABASE_URL": (
                f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}"
                f":{db['PORT'] or 5432}/{db['NAME']}"
            ),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "ANALYSIS_MARKER": str(tmp_path / "started"),
        }
        self.marker = tmp_path / "started"
        self.processes: list[subprocess.Popen] = []

    def start(self, *, slow: bool = False) -> subprocess.Popen:
        node = f"analysis-{uuid.uuid4().hex[:8]}@{os.uname().nodename}"
        args = ["-A", "reviewapp", "worker", "--pool=solo", "-Q",
                celery_app.conf.task_default_queue, "-n", node, "--loglevel=warning"]  # fmt: skip
        command = (
            [sys.executable, "-c", SLOW_BOOT, *args]
            if slow
            else [sys.executable, "-m", "celery", *args]
        )
        process = subprocess.Popen(
            command, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self.processes.append(process)
        if slow:
            return process  # busy in its first task at once: a solo worker answers no ping then
        deadline = time.monotonic() + 60
        while not celery_app.control.ping(destination=[node], timeout=1):
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"Celery worker did not start:\n{output}")
        return process

    def stop_all(self) -> None:
        for p in self.processes:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()


@pytest.fixture
def workers(settings, tmp_path):
    needs(connection.vendor == "postgresql", "a worker needs PostgreSQL (DATABASE_URL)")
    needs(_broker_up(), "a worker needs Redis (CELERY_BROKER_URL)")
    celery_app.control.purge()
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    pool = Workers(settings, tmp_path)
    try:
        yield pool
    finally:
        celery_app.conf.task_always_eager = eager
        pool.stop_all()


def _wait(predicate, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


DATA = {
    "Chinman 2015": ((10.2, 3.1, 40), (9.1, 3.3, 42)),
    "Gillard 2015": ((8.2, 2.9, 30), (8.9, 3.0, 31)),
}


@pytest.fixture
def analysis(review, lead, sheet, outcome, django_capture_on_commit_callbacks):
    for label, (i, c) in DATA.items():
        save_continuous(sheet, include_study(review, label, int(label[-4:])), lead, outcome, i, c)
    return services.analysis_create(review=review, outcome=outcome, created_by=lead)


def _smd(rows):
    es = stats.escalc(
        "SMD",
        m1i=[r[0][0] for r in rows],
        sd1i=[r[0][1] for r in rows],
        n1i=[r[0][2] for r in rows],
        m2i=[r[1][0] for r in rows],
        sd2i=[r[1][1] for r in rows],
        n2i=[r[1][2] for r in rows],
    )
    return stats.pool(es)


def _current(pk):
    a = Analysis.objects.select_related("current_result").get(pk=pk)
    return a if a.status == "current" and a.current_result else None


def test_committed_consensus_data_reaches_the_result_through_a_worker(
    workers, review, lead, sheet, outcome, analysis
):
    workers.start()
    first = _wait(lambda: _current(analysis.pk), what="the first result")
    assert first.current_result.estimate == pytest.approx(_smd(list(DATA.values())).estimate)
    new = include_study(review, "Rogers 2016", 2016)
    extra = ((11.0, 4.0, 100), (10.0, 4.1, 98))
    save_continuous(sheet, new, lead, outcome, *extra)
    done = _wait(lambda: (a := _current(analysis.pk)) and a.current_result.k == 3 and a,
                 what="the recomputed result")  # fmt: skip
    assert done.current_result.estimate == pytest.approx(_smd([*DATA.values(), extra]).estimate)


def test_a_worker_killed_mid_task_leaves_the_analysis_to_the_next_worker(
    workers, review, lead, analysis
):
    slow = workers.start(slow=True)
    _wait(lambda: workers.marker.exists(), what="the task to start")
    os.kill(slow.pid, signal.SIGKILL)
    slow.wait(timeout=10)
    stale = Analysis.objects.get(pk=analysis.pk)
    assert stale.status == "updating" and stale.current_result is None
    workers.start()  # a worker coming back finds the stale analysis and recomputes it
    done = _wait(lambda: _current(analysis.pk), what="the recomputation after the crash")
    assert done.current_result.k == 2
    assert done.current_result.estimate == pytest.approx(_smd(list(DATA.values())).estimate)
