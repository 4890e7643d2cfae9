import os

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from reviewapp.demo import demo_loaded, holds_other_reviews


def unapplied_migrations() -> int:
    """How many migrations `migrate` would apply: the plan from the migration graph and the
    `django_migrations` table, without `migrate`'s system checks and post-migrate signals."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


class Command(BaseCommand):
    help = (
        "Migrate and load the demo when not done yet, collect static files, print the logins "
        "and, with --serve, run the development server (make run)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")
        parser.add_argument(
            "--serve",
            metavar="HOST:PORT",
            help="then run the development server in this process (no second project import)",
        )

    def handle(self, *args: object, **options: str) -> None:
        # runserver's autoreloader runs this command again in its child process (RUN_MAIN);
        # the parent has prepared everything by then, so the child only serves.
        if not (options["serve"] and os.environ.get("RUN_MAIN") == "true"):
            self.prepare(options["url"])
        if options["serve"]:
            call_command("runserver", options["serve"])

    def prepare(self, url: str) -> None:
        # Each step is skipped when it is already done, so a second `make run` goes straight
        # to the server: `migrate` alone runs every system check and the post-migrate signals.
        if unapplied_migrations():
            call_command("migrate", interactive=False, stdout=self.stdout)
        # A database with real reviews never gets the demo users (their password is public).
        demo = not holds_other_reviews()
        if demo and not demo_loaded():
            call_command("load_demo", stdout=self.stdout)
        elif not demo:
            self.stdout.write(
                "This database holds other reviews: no demo review or demo users are loaded."
            )
        # Cheap when nothing changed (it compares modification times), and it keeps
        # `DEBUG=false make run` serving static files through WhiteNoise.
        call_command("collectstatic", interactive=False, verbosity=0, stdout=self.stdout)
        call_command("demo_banner", url=url, logins=demo, stdout=self.stdout)
