import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reviewapp.archive.exporter import write_archive
from reviewapp.archive.format import ArchiveError


class Command(BaseCommand):
    help = "Write a review (records, decisions, extraction, analyses, history, files) to a zip."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("review", type=int, help="The review's id.")
        parser.add_argument("archive", help="Where to write the archive (a .zip path).")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["archive"])
        partial = path.with_name(path.name + ".partial")
        try:
            with open(partial, "wb") as out:
                summary = write_archive(review_id=options["review"], out=out)
        except ArchiveError as exc:
            partial.unlink(missing_ok=True)
            raise CommandError(exc.message) from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(path)  # never leave a half-written archive under the asked-for name
        self.stdout.write(
            f"Review #{summary.review_id} '{summary.title}': {summary.total_rows} rows in "
            f"{len(summary.rows)} tables, {summary.files} files ({summary.file_bytes} bytes) "
            f"written to {path} ({path.stat().st_size} bytes)."
        )
        for name in summary.missing_files:
            sys.stderr.write(f"warning: {name} is named by the review but missing from storage\n")
