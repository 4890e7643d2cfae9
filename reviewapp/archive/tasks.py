from celery import shared_task

from reviewapp.archive import services


@shared_task(acks_late=True, reject_on_worker_lost=True)  # a killed build is built again
def build_archive_task(export_id: int) -> str:
    return services.archive_build(export_id=export_id).status
