from celery import shared_task

from screening import services


@shared_task(acks_late=True)
def import_references_task(batch_id: int) -> str:
    batch = services.import_run(batch_id=batch_id)
    return batch.status
