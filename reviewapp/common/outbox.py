"""The outbox: background work that survives the broker going away and a worker dying.

A write that needs a task calls `outbox_enqueue` inside its own transaction, so the change and
a durable row naming the task commit together (or not at all). Once the transaction commits,
the row is sent to Celery; if the broker cannot be reached the row stays pending, the error is
recorded and the user's request still succeeds. `outbox_sweep` sends whatever is pending: the
Celery beat schedule runs it every minute, and every worker runs it when it starts.

A row is *sent* when Celery accepted the message and *finished* when the task ended (success or
final failure), which a `task_postrun` receiver records from the task id (`outbox-<pk>`). A
worker killed mid-task leaves its row sent but unfinished; the next worker to start sends it
again, and so does the sweep once a row is older than the task time limit. Tasks are therefore
at-least-once and every task sent through here must be idempotent (each one claims its work or
is keyed by its inputs).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

logger = logging.getLogger(__name__)

TASK_ID_PREFIX = "outbox-"
# Finished rows are kept a while for the record, then deleted by the sweep.
KEEP_FINISHED = timedelta(days=7)
SWEEP_BATCH = 500


class OutboxTask(models.Model):
    """A task to send to Celery, written in the transaction of the change that needs it."""

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    # Earliest time the task should run (a countdown given at enqueue time).
    not_before = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        app_label = "reviewapp"
        indexes = [
            models.Index(
                fields=["created_at"],
                name="outbox_unfinished",
                condition=Q(finished_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_name}{tuple(self.args)}"

    @property
    def task_id(self) -> str:
        return f"{TASK_ID_PREFIX}{self.pk}"


def outbox_enqueue(
    task_name: str, *args: Any, countdown: float = 0, coalesce: bool = False
) -> OutboxTask | None:
    """Record `task_name(*args)` in the caller's transaction; send it once that commits.

    Arguments must be JSON values (ids, short strings). Outside a transaction the row is
    written and sent at once. With `coalesce`, nothing is added while the same call is still
    unfinished (a page asked again before the worker got to it)."""
    if (
        coalesce
        and OutboxTask.objects.filter(
            task_name=task_name, args=list(args), finished_at__isnull=True
        ).exists()
    ):
        return None
    not_before = timezone.now() + timedelta(seconds=countdown) if countdown > 0 else None
    row = OutboxTask.objects.create(task_name=task_name, args=list(args), not_before=not_before)
    # robust: whatever goes wrong while sending is recorded on the row; it never turns the
    # committed change into an error for the user.
    transaction.on_commit(lambda: outbox_send(row_ids=[row.pk]), robust=True)
    return row


def outbox_send(*, row_ids: list[int] | None = None, resend_unfinished: bool = False) -> int:
    """Send rows not sent yet (those in `row_ids`, or all); with `resend_unfinished`, also
    those sent but never finished. Returns how many were handed over.

    Each row is claimed with a conditional UPDATE before it is sent, so two sweeps never send
    one row at the same moment; no lock is held while the broker is talked to."""
    sent = 0
    rows = OutboxTask.objects.filter(finished_at__isnull=True)
    if not resend_unfinished:
        rows = rows.filter(sent_at__isnull=True)
    if row_ids is not None:
        rows = rows.filter(pk__in=row_ids)
    for row in rows.order_by("pk")[:SWEEP_BATCH]:
        claimed = OutboxTask.objects.filter(
            pk=row.pk, finished_at__isnull=True, sent_at=row.sent_at
        ).update(sent_at=timezone.now(), attempts=F("attempts") + 1)
        if not claimed:
            continue  # another sweep has it
        outcome = _send(row)
        if outcome == "sent":
            sent += 1
        elif outcome == "broker down":
            break  # the rest would fail the same way; the next sweep tries again
    return sent


def _send(row: OutboxTask) -> str:
    from celery import current_app

    if row.task_name not in current_app.tasks:
        # A web process registers tasks as their modules are imported; this imports them all.
        current_app.loader.import_default_modules()
    task = current_app.tasks[row.task_name]
    eager = bool(current_app.conf.task_always_eager)
    eta = row.not_before if row.not_before and row.not_before > timezone.now() else None
    try:
        task.apply_async(args=row.args, task_id=row.task_id, eta=eta)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if eager:
            # Without a broker the task ran here and failed: it was tried, like a task that
            # failed on a worker; its own failure handling has told the user.
            logger.exception("outbox: %s failed in-process", row)
            OutboxTask.objects.filter(pk=row.pk).update(
                finished_at=timezone.now(), last_error=error
            )
            return "failed"
        OutboxTask.objects.filter(pk=row.pk).update(sent_at=None, last_error=error)
        logger.warning("outbox: could not send %s: %s", row, exc)
        return "broker down"
    if eager:
        OutboxTask.objects.filter(pk=row.pk, finished_at__isnull=True).update(
            finished_at=timezone.now()
        )
    else:
        OutboxTask.objects.filter(pk=row.pk).update(last_error="")
    return "sent"


def outbox_sweep(*, on_worker_start: bool = False) -> int:
    """Send what is pending; send again what was sent but never finished, when a worker
    starts (the worker that had it may be dead) or once it is older than the task time limit
    (a message lost on the way). Old finished rows are deleted."""
    sent = outbox_send()
    unfinished = OutboxTask.objects.filter(sent_at__isnull=False, finished_at__isnull=True)
    if not on_worker_start:
        stale = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 300)
        unfinished = unfinished.filter(sent_at__lt=stale)
    ids = list(unfinished.values_list("pk", flat=True)[:SWEEP_BATCH])
    if ids:
        sent += outbox_send(row_ids=ids, resend_unfinished=True)
    OutboxTask.objects.filter(finished_at__lt=timezone.now() - KEEP_FINISHED).delete()
    return sent


def outbox_finish(*, task_id: str | None, error: str = "") -> None:
    """Mark the row behind a task id finished (its task ended, successfully or for good)."""
    if not task_id or not task_id.startswith(TASK_ID_PREFIX):
        return
    try:
        pk = int(task_id.removeprefix(TASK_ID_PREFIX))
    except ValueError:
        return
    OutboxTask.objects.filter(pk=pk).update(finished_at=timezone.now(), last_error=error[:2000])


def outbox_waiting() -> bool:
    """True when work could not be handed to the broker and waits for it to come back."""
    return OutboxTask.objects.filter(sent_at__isnull=True, attempts__gt=0).exists()


WAITING_MESSAGE = (
    "Saved. The background worker cannot be reached right now, so this will update when the "
    "background worker is back; nothing needs to be done again."
)


def outbox_notice(request: Any) -> None:
    """After a page saved a change that needs background work: tell the user when that work
    waits for the broker (the change itself is saved)."""
    from django.contrib import messages

    if outbox_waiting():
        messages.warning(request, WAITING_MESSAGE)
