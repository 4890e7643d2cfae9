"""Background work survives the broker going away and a worker dying in the middle of a task.

The broker here is a private redis-server on its own port that also holds the cache, as the
one Redis of docker-compose.yml does, so stopping it takes both away. Work written while it is
down waits in the outbox (`reviewapp.common.outbox`) and is sent when a worker starts (or the
periodic sweep runs)."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from analysis.models import Analysis
from reviewapp.celery import app as celery_app
from reviewapp.common.outbox import OutboxTask
from screening import services as screening_services
from screening.models import ImportBatch, Record
from tests.conftest import FIXTURES, needs
from tests.integration.test_analysis_worker import _wait
from tests.integration.test_analysis_worker import analysis as analysis  # noqa: F401 -- fixture

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Run inside the worker: the import's parse step marks that it started, then sleeps, so that
# the test kills the worker while the import is certainly running.
SLOW_IMPORT_BOOT = """
import os, sys, time
import django
django.setup()
from screening import services
original = services._parse_upload
def slow(batch):
    open(os.environ["IMPORT_MARKER"], "a").write("started\\n")
    time.sleep(60)
    return original(batch)
services._parse_upload = slow
from celery.__main__ import main
sys.argv = ["celery"] + sys.argv[1:]
main()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _point_celery_at(url: str) -> None:
    # The app resolved read and write URLs from broker_url when it was configured, and keeps a
    # connection pool: a new URL needs all three replaced (kombu keeps the old pool per URL).
    celery_app.conf.broker_url = url
    celery_app.conf.broker_read_url = url
    celery_app.conf.broker_write_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


class Broker:
    """A redis-server of our own that a test can stop and start again on the same port."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.cache_url = f"redis://127.0.0.1:{self.port}/1"
        self.dir = tmp_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("the private redis-server did not start")
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


class Workers:
    def __init__(self, settings, tmp_path: Path, broker: Broker) -> None:
        db = connection.settings_dict
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "reviewapp.settings.test",
            "DATABASE_URL": (
                f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}"
                f":{db['PORT'] or 5432}/{db['NAME']}"
            ),
            "CELERY_BROKER_URL": broker.url,
            "REDIS_CACHE_URL": broker.cache_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "IMPORT_MARKER": str(tmp_path / "import-started"),
        }
        self.marker = tmp_path / "import-started"
        self.processes: list[subprocess.Popen] = []

    def start(self, *, slow_import: bool = False) -> subprocess.Popen:
        node = f"outbox-{uuid.uuid4().hex[:8]}@{os.uname().nodename}"
        args = ["-A", "reviewapp", "worker", "--pool=solo", "-Q",
                celery_app.conf.task_default_queue, "-n", node, "--loglevel=warning"]  # fmt: skip
        command = (
            [sys.executable, "-c", SLOW_IMPORT_BOOT, *args]
            if slow_import
            else [sys.executable, "-m", "celery", *args]
        )
        process = subprocess.Popen(
            command, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self.processes.append(process)
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
def broker(tmp_path, settings):
    needs(connection.vendor == "postgresql", "a worker needs PostgreSQL (DATABASE_URL)")
    needs(shutil.which("redis-server") is not None, "needs redis-server (apt-get install redis)")
    own = Broker(tmp_path)
    settings.CACHES = {  # as base settings configure it, on the private Redis
        "default": {
            "BACKEND": "reviewapp.common.cache.TolerantRedisCache",
            "LOCATION": own.cache_url,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    before = celery_app.conf.broker_write_url
    _point_celery_at(own.url)
    try:
        yield own
    finally:
        own.stop()
        _point_celery_at(before)


@pytest.fixture
def workers(settings, tmp_path, broker):
    eager = celery_app.conf.task_always_eager
    pool = Workers(settings, tmp_path, broker)
    try:
        yield pool
    finally:
        celery_app.conf.task_always_eager = eager
        pool.stop_all()


def _settings_form(analysis) -> dict:
    return {
        **{"name": analysis.name, "preset": "custom", "measure": "SMD", "model": "random"},
        **{"tau2_method": "DL", "test": "z", "level": 95, "sort_by": "weight"},
        **{"intervention_label": "peer support", "control_label": "control"},
        "version": analysis.version,
    }


def _all_sent() -> bool:
    return not OutboxTask.objects.filter(sent_at__isnull=True).exists()


def test_settings_saved_while_the_broker_is_down_are_computed_once_it_is_back(
    client_for, lead, workers, broker, analysis
):
    assert Analysis.objects.get(pk=analysis.pk).status == "current"  # computed in-process
    celery_app.conf.task_always_eager = False  # from here on, only a worker computes
    client = client_for(lead)
    client.raise_request_exception = False
    url = reverse("analysis_settings", args=[analysis.review_id, analysis.pk])
    response = client.post(url, _settings_form(analysis), follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "when the background worker is back" in html
    saved = Analysis.objects.get(pk=analysis.pk)
    assert saved.tau2_method == "DL" and saved.status == "updating"
    again = client.get(reverse("analysis_detail", args=[analysis.review_id, analysis.pk]))
    assert "will update when the background worker is back" in again.content.decode()
    assert OutboxTask.objects.filter(sent_at__isnull=True, attempts__gte=1).exists()

    broker.start()
    workers.start()  # a worker starting sends what waits in the outbox
    done = _wait(
        lambda: (a := Analysis.objects.get(pk=analysis.pk)).status == "current" and a,
        timeout=90, what="the recomputation after the broker came back",
    )  # fmt: skip
    assert done.current_result.payload["method"] == "DL"
    assert _all_sent()


def test_an_upload_made_while_the_broker_is_down_is_imported_once_it_is_back(
    client_for, review, lead, workers, broker
):
    celery_app.conf.task_always_eager = False
    client = client_for(lead)
    client.raise_request_exception = False
    data = (FIXTURES / "donners_sample.ris").read_bytes()
    response = client.post(
        reverse("import_upload", args=[review.pk]),
        {"file": SimpleUploadedFile("donners_sample.ris", data), "source_database": "MEDLINE"},
        follow=True,
    )
    assert response.status_code == 200
    assert "when the background worker is back" in response.content.decode()
    batch = ImportBatch.objects.get(review=review)
    assert batch.status == ImportBatch.Status.QUEUED
    again = client.get(reverse("import_detail", args=[review.pk, batch.pk]))
    assert "starts when the background worker is back" in again.content.decode()

    broker.start()
    workers.start()
    done = _wait(
        lambda: (b := ImportBatch.objects.get(pk=batch.pk)).status == "done" and b,
        timeout=90, what="the import after the broker came back",
    )  # fmt: skip
    assert done.records_imported == 21
    assert Record.objects.filter(review=review).count() == 21
    assert _all_sent()


def test_an_import_whose_worker_is_killed_mid_run_is_finished_by_the_next_worker(
    review, lead, workers, broker
):
    broker.start()
    celery_app.conf.task_always_eager = False
    slow = workers.start(slow_import=True)
    batch = screening_services.import_create(
        review=review,
        created_by=lead,
        upload=SimpleUploadedFile(
            "donners_sample.ris", (FIXTURES / "donners_sample.ris").read_bytes()
        ),
        source_database="MEDLINE",
    )
    _wait(lambda: workers.marker.exists(), timeout=90, what="the import to start")
    os.kill(slow.pid, signal.SIGKILL)
    slow.wait(timeout=10)
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportBatch.Status.RUNNING
    assert not Record.objects.filter(review=review).exists()

    workers.start()  # the next worker re-sends the unfinished task and the import completes
    done = _wait(
        lambda: (b := ImportBatch.objects.get(pk=batch.pk)).status == "done" and b,
        timeout=90, what="the import after the crash",
    )  # fmt: skip
    assert done.records_imported == 21
    assert Record.objects.filter(review=review).count() == 21
