"""Imports queued on Redis and run by a real Celery worker against the real test database."""

import os
import subprocess
import sys
import time
import uuid

import pytest
import redis
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from reviewapp.celery import app as celery_app
from screening import services
from screening.models import ImportBatch, Record
from tests.conftest import FIXTURES, needs

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _broker_up() -> bool:
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        return False
    try:
        return bool(redis.Redis.from_url(settings.CELERY_BROKER_URL).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def worker(settings):
    needs(connection.vendor == "postgresql", "a worker needs PostgreSQL (DATABASE_URL)")
    needs(_broker_up(), "a worker needs Redis (CELERY_BROKER_URL)")
    db = connection.settings_dict
    queue = celery_app.conf.task_default_queue
    node = f"test-{uuid.uuid4().hex[:8]}@{os.uname().nodename}"
    celery_app.control.purge()  # no stale task from an earlier run reaches this worker
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "reviewapp.settings.test",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}"
            f":{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "reviewapp",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "-n",
            node,
            "--loglevel=warning",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        deadline = time.monotonic() + 60
        while not celery_app.control.ping(destination=[node], timeout=1):
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"Celery worker did not start:\n{output}")
        yield process
    finally:
        celery_app.conf.task_always_eager = eager
        process.terminate()
        process.wait(timeout=30)


def _wait_for(batch_id: int, timeout: float = 90) -> ImportBatch:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = ImportBatch.objects.get(pk=batch_id)
        if batch.status in (ImportBatch.Status.DONE, ImportBatch.Status.FAILED):
            return batch
        time.sleep(0.2)
    pytest.fail(f"import {batch_id} did not finish in {timeout}s")


def test_a_worker_imports_and_deduplicates_an_upload(worker, review, lead):
    data = (FIXTURES / "donners_sample.ris").read_bytes()
    batch = services.import_create(
        review=review,
        created_by=lead,
        upload=SimpleUploadedFile("donners_sample.ris", data),
        source_database="MEDLINE",
    )
    assert ImportBatch.objects.get(pk=batch.pk).status in ("queued", "running")
    batch = _wait_for(batch.pk)
    assert batch.status == ImportBatch.Status.DONE, batch.error
    assert batch.records_imported == 21
    assert batch.duplicates_found == 1
    assert Record.objects.filter(review=review).count() == 21
    assert services.import_progress_get(batch.pk) == {"percent": 100, "stage": "done"}


def test_a_worker_stores_nothing_from_a_bad_file(worker, review, lead):
    batch = services.import_create(
        review=review,
        created_by=lead,
        upload=SimpleUploadedFile("notes.ris", b"This is a letter, not a RIS export.\n"),
        source_database="Embase",
    )
    batch = _wait_for(batch.pk)
    assert batch.status == ImportBatch.Status.FAILED
    assert "line 1" in batch.error
    assert not Record.objects.filter(review=review).exists()
