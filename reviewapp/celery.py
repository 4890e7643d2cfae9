"""The one Celery application. Configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewapp.settings.dev")

app = Celery("reviewapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic work, run by `celery -A reviewapp beat` (or cron calling the management commands).
app.conf.beat_schedule = {
    # Reviews deleted more than REVIEW_RETENTION_DAYS ago are purged once a day.
    "purge-deleted-reviews": {
        "task": "reviewapp.tasks.purge_deleted_reviews_task",
        "schedule": crontab(hour=3, minute=30),
    },
    # Work the broker could not take when it was written (reviewapp/common/outbox.py).
    "outbox-sweep": {
        "task": "reviewapp.tasks.outbox_sweep_task",
        "schedule": 60.0,
    },
}
