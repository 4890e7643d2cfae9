from django.core.management.base import BaseCommand, CommandError, CommandParser

from reviewapp.demo import (
    BCG_CITATION,
    DEMO_CITATION,
    holds_other_reviews,
    load_bcg_demo,
    load_demo,
)
from reviewapp.models import Review

REFUSAL = (
    "This database holds other reviews: the demo users (public password) are not added to it. "
    "Pass --force to add them anyway."
)


def _deleted(review: Review) -> str:
    if review.deleted_at is None:
        return ""
    return " (deleted: a lead can restore it from Deleted reviews on the reviews page)"


class Command(BaseCommand):
    help = "Create the demo users and the demo review (safe to run again; refused on a database "
    help += "holding other reviews unless --force)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="load beside other reviews")

    def handle(self, *args: object, **options: object) -> None:
        if holds_other_reviews() and not options["force"]:
            raise CommandError(REFUSAL)
        review = load_demo()
        self.stdout.write(f"Demo review #{review.pk}: {review.title}{_deleted(review)}")
        self.stdout.write(f"  {review.records.count()} records. {DEMO_CITATION}")
        bcg = load_bcg_demo()
        self.stdout.write(f"Demo review #{bcg.pk}: {bcg.title}{_deleted(bcg)}")
        self.stdout.write(f"  {bcg.studies.count()} trials with extracted data. {BCG_CITATION}")
