from django.core.management.base import BaseCommand

from reviewapp.demo import DEMO_CITATION, load_demo


class Command(BaseCommand):
    help = "Create the demo users and the demo review (safe to run again)."

    def handle(self, *args: object, **options: object) -> None:
        review = load_demo()
        self.stdout.write(f"Demo review #{review.pk}: {review.title}")
        self.stdout.write(f"  {review.records.count()} records. {DEMO_CITATION}")
