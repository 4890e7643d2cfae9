from typing import Any

from celery import shared_task
from celery.signals import task_postrun, worker_ready

from reviewapp import services
from reviewapp.common import outbox


@shared_task(acks_late=True)
def purge_deleted_reviews_task() -> list[int]:
    """Purge reviews deleted longer ago than REVIEW_RETENTION_DAYS (Celery beat, daily)."""
    return services.reviews_purge_expired()


@shared_task
def outbox_sweep_task() -> int:
    """Send background work the broker could not take when it was written (Celery beat)."""
    return outbox.outbox_sweep()


@worker_ready.connect
def _sweep_on_start(**_kwargs: Any) -> None:
    # Work written while no broker was reachable, and work a dead worker never finished.
    outbox.outbox_sweep(on_worker_start=True)


@task_postrun.connect
def _finish_outbox_row(*, task_id: str, state: str | None = None, **kwargs: Any) -> None:
    if state == "RETRY":
        return  # the same task id comes back later
    retval = kwargs.get("retval")
    error = f"{type(retval).__name__}: {retval}" if isinstance(retval, BaseException) else ""
    outbox.outbox_finish(task_id=task_id, error=error)
