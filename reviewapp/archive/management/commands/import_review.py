from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from reviewapp.archive.format import ArchiveError
from reviewapp.archive.importer import read_archive


class Command(BaseCommand):
    help = "Import a review archive as a new review (new ids; nothing is replaced)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="The .zip written by export_review.")
        parser.add_argument(
            "--lead",
            help="Username of an existing user to add as a lead of the imported review.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        lead = None
        if options.get("lead"):
            user_model = get_user_model()
            lead = user_model._default_manager.filter(
                **{user_model.USERNAME_FIELD: options["lead"]}
            ).first()
            if lead is None:
                raise CommandError(f"No user called {options['lead']!r}.")
        try:
            summary = read_archive(options["archive"], add_lead=lead)
        except ArchiveError as exc:
            raise CommandError(f"{exc.message} Nothing was imported.") from exc
        except OSError as exc:
            raise CommandError(f"Cannot read {options['archive']}: {exc}") from exc
        self.stdout.write(
            f"Imported review #{summary.source_review_id} '{summary.title}' as review "
            f"#{summary.review_id}: {summary.total_rows} rows, {summary.files} files."
        )
        for archived, local in sorted(summary.users_matched.items()):
            self.stdout.write(f"  {archived} -> existing user {local}")
        for name in summary.users_created:
            self.stdout.write(
                f"  {name}: new account (no password; they sign in via 'forgot password')"
            )
