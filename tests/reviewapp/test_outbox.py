"""The outbox: a task is recorded with the change that needs it and sent once that commits."""

import pytest
from django.db import transaction
from django.utils import timezone

from reviewapp.celery import app as celery_app
from reviewapp.common import outbox
from reviewapp.common.outbox import OutboxTask
from tests.conftest import needs
from tests.integration.test_celery_worker import _broker_up
from tests.integration.test_outbox import _free_port, _point_celery_at

pytestmark = pytest.mark.django_db(transaction=True)

TASK = "reviewapp.tasks.purge_deleted_reviews_task"  # harmless: nothing is deleted


def test_a_rolled_back_change_leaves_no_task_behind():
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.outbox_enqueue(TASK)
        raise RuntimeError("the change failed")
    assert not OutboxTask.objects.exists()


def test_a_task_run_in_process_is_sent_and_finished_after_commit():
    with transaction.atomic():
        row = outbox.outbox_enqueue(TASK)
        assert OutboxTask.objects.get(pk=row.pk).sent_at is None  # not before the commit
    row.refresh_from_db()
    assert row.sent_at is not None and row.finished_at is not None and row.attempts == 1
    assert not outbox.outbox_waiting()


@pytest.fixture
def no_broker():
    before, eager = celery_app.conf.broker_write_url, celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    _point_celery_at(f"redis://127.0.0.1:{_free_port()}/0")  # nothing listens there
    yield before
    _point_celery_at(before)
    celery_app.conf.task_always_eager = eager


def test_a_task_the_broker_cannot_take_waits_with_its_error(no_broker):
    row = outbox.outbox_enqueue(TASK)
    row.refresh_from_db()
    assert row.sent_at is None and row.attempts == 1
    assert "Error" in row.last_error
    assert outbox.outbox_waiting()
    assert outbox.outbox_sweep() == 0  # still down: tried again, still waiting
    row.refresh_from_db()
    assert row.sent_at is None and row.attempts == 2


def test_the_sweep_sends_waiting_work_once_the_broker_is_back(no_broker):
    needs(_broker_up(), "the broker coming back needs Redis (CELERY_BROKER_URL)")
    row = outbox.outbox_enqueue(TASK)
    _point_celery_at(no_broker)
    assert outbox.outbox_sweep() == 1
    row.refresh_from_db()
    assert row.sent_at is not None and row.last_error == "" and not outbox.outbox_waiting()
    celery_app.control.purge()


def test_a_worker_start_sends_again_what_a_dead_worker_never_finished(monkeypatch):
    row = outbox.outbox_enqueue(TASK)
    OutboxTask.objects.filter(pk=row.pk).update(finished_at=None)  # as if the worker died
    sent = []
    task = celery_app.tasks[TASK]
    monkeypatch.setattr(task, "apply_async", lambda **kw: sent.append(kw["task_id"]))
    assert outbox.outbox_sweep() == 0  # a periodic sweep leaves recent work to its worker
    assert outbox.outbox_sweep(on_worker_start=True) == 1
    assert sent == [row.task_id]


def test_a_finished_task_marks_its_row_and_other_task_ids_are_ignored():
    with transaction.atomic():
        row = OutboxTask.objects.create(task_name=TASK)
    outbox.outbox_finish(task_id="not-from-the-outbox")
    outbox.outbox_finish(task_id=row.task_id, error="ValueError: bad")
    row.refresh_from_db()
    assert row.finished_at is not None and row.last_error == "ValueError: bad"


def test_a_coalesced_call_is_not_added_while_the_same_one_is_unfinished(no_broker):
    first = outbox.outbox_enqueue(TASK, 1, "year", coalesce=True)
    assert first is not None
    assert outbox.outbox_enqueue(TASK, 1, "year", coalesce=True) is None
    assert outbox.outbox_enqueue(TASK, 2, "year", coalesce=True) is not None
    OutboxTask.objects.filter(pk=first.pk).update(finished_at=timezone.now())
    assert outbox.outbox_enqueue(TASK, 1, "year", coalesce=True) is not None
