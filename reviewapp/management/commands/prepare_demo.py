from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from reviewapp.demo import holds_other_reviews


class Command(BaseCommand):
    help = "Migrate, load the demo, collect static files and print the logins (make run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args: object, **options: str) -> None:
        # One process instead of four: each start imports the whole project (scipy, plotly),
        # which was most of a second `make run`'s start-up once pip no longer runs.
        call_command("migrate", interactive=False, stdout=self.stdout)
        # A database with real reviews never gets the demo users (their password is public).
        demo = not holds_other_reviews()
        if demo:
            call_command("load_demo", stdout=self.stdout)
        else:
            self.stdout.write(
                "This database holds other reviews: no demo review or demo users are loaded."
            )
        call_command("collectstatic", interactive=False, verbosity=0, stdout=self.stdout)
        call_command("demo_banner", url=options["url"], logins=demo, stdout=self.stdout)
