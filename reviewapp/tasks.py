from celery import shared_task

from reviewapp import services


@shared_task(acks_late=True)
def purge_deleted_reviews_task() -> list[int]:
    """Purge reviews deleted longer ago than REVIEW_RETENTION_DAYS (Celery beat, daily)."""
    return services.reviews_purge_expired()
