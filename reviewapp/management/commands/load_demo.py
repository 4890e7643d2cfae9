from django.core.management.base import BaseCommand

from reviewapp.demo import BCG_CITATION, DEMO_CITATION, load_bcg_demo, load_demo
from reviewapp.models import Review


def _deleted(review: Review) -> str:
    if review.deleted_at is None:
        return ""
    return " (deleted: a lead can restore it from Deleted reviews on the reviews page)"


class Command(BaseCommand):
    help = "Create the demo users and the demo review (safe to run again)."

    def handle(self, *args: object, **options: object) -> None:
        review = load_demo()
        self.stdout.write(f"Demo review #{review.pk}: {review.title}{_deleted(review)}")
        self.stdout.write(f"  {review.records.count()} records. {DEMO_CITATION}")
        bcg = load_bcg_demo()
        self.stdout.write(f"Demo review #{bcg.pk}: {bcg.title}{_deleted(bcg)}")
        self.stdout.write(f"  {bcg.studies.count()} trials with extracted data. {BCG_CITATION}")
