"""Thin Celery adapters for recomputation."""

import logging
from typing import Any

from celery import shared_task
from celery.signals import worker_ready

from analysis import figures, services

logger = logging.getLogger(__name__)

MAX_RETRIES = 6


@shared_task(
    bind=True,
    acks_late=True,
    # A worker killed mid-task leaves the message unacknowledged; the broker redelivers it.
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
)
def recompute_analysis_task(self: Any, analysis_id: int) -> str | None:
    try:
        result = services.analysis_recompute(analysis_id=analysis_id)
    except Exception as exc:
        # Unexpected (database gone, a bug): show it to the lead and retry with backoff
        # (1, 2, 4, ... s, capped at a minute). Impossible data is not an exception here:
        # it is stored as a result with its message.
        services.analysis_record_failure(
            analysis_id=analysis_id, message=f"{type(exc).__name__}: {exc}"
        )
        logger.exception("recomputing analysis %s failed", analysis_id)
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 60)) from exc
    return result.input_hash if result else None


@shared_task(acks_late=True, reject_on_worker_lost=True)
def render_figures_task(analysis_id: int, result_id: int, sort: str | None = None) -> int:
    """Draw the result's download figures with Chromium (idempotent: drawn files are kept)."""
    return len(figures.figures_render(analysis_id=analysis_id, result_id=result_id, sort=sort))


@shared_task(acks_late=True)
def requeue_stale_analyses_task() -> list[int]:
    return services.analyses_requeue_stale()


@worker_ready.connect
def _requeue_on_start(**_kwargs: Any) -> None:
    # Whatever a dead worker left half-done is still marked stale in the database.
    requeue_stale_analyses_task.delay()
