from django.conf import settings
from django.core.management.base import BaseCommand

from reviewapp import services


class Command(BaseCommand):
    help = (
        "Delete for good the reviews deleted more than REVIEW_RETENTION_DAYS ago "
        "(for cron; Celery beat runs the same daily)."
    )

    def handle(self, *args: object, **options: object) -> None:
        purged = services.reviews_purge_expired()
        days = settings.REVIEW_RETENTION_DAYS
        if purged:
            ids = ", ".join(f"#{pk}" for pk in purged)
            self.stdout.write(f"Purged {len(purged)} review(s) deleted over {days} days ago: {ids}")
        else:
            self.stdout.write(f"No review was deleted over {days} days ago.")
