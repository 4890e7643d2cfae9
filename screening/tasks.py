import logging
from typing import Any

from celery import shared_task
from celery.signals import worker_ready

from screening import services, services_imports, services_ranking
from screening.ranking.priority import background_priority

logger = logging.getLogger(__name__)

MAX_RETRIES = 6


# A worker child killed mid-import gives the message back (reject_on_worker_lost); the run's
# advisory lock died with it, so the redelivered task imports the file again from the start.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def import_references_task(batch_id: int) -> str:
    batch = services.import_run(batch_id=batch_id)
    return batch.status


# The deletion is one transaction: a worker killed mid-way deleted nothing, and the
# redelivered message runs it again from the start.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def import_delete_task(batch_id: int, user_id: int, keep_screened: bool) -> str:
    return services_imports.import_delete_run(
        batch_id=batch_id, user_id=user_id, keep_screened=keep_screened
    )


@shared_task(
    bind=True,
    acks_late=True,
    # A worker killed mid-training leaves the message unacknowledged; the broker redelivers it.
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
)
def train_ranking_task(self: Any, review_id: int, stage: str) -> int | None:
    try:
        if self.request.is_eager:
            # Without a broker the task runs inside the web request that queued it: that
            # process must keep its priority.
            state = services_ranking.ranking_train(review_id=review_id, stage=stage)
        else:
            # A worker shares the cores with the web processes: it trains on what they leave.
            with background_priority():
                state = services_ranking.ranking_train(review_id=review_id, stage=stage)
            services_ranking.ranking_queue_next(review_id=review_id, stage=stage)
    except Exception as exc:
        # The lead sees the failure on the screening page; screening goes on with the last
        # ranking. Retry with backoff (1, 2, 4, ... s, capped at a minute).
        services_ranking.ranking_record_failure(
            review_id=review_id, stage=stage, message=f"{type(exc).__name__}: {exc}"
        )
        logger.exception("training the ranking of review %s at %s failed", review_id, stage)
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 60)) from exc
    return state.records_ranked if state else None


@shared_task(acks_late=True)
def requeue_stale_rankings_task() -> list[int]:
    return services_ranking.rankings_requeue_stale()


@worker_ready.connect
def _requeue_rankings_on_start(**_kwargs: Any) -> None:
    # A training a dead worker left half-done is still visible in the database.
    requeue_stale_rankings_task.delay()
