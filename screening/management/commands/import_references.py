"""Import a reference file into a review, or parse it without storing (--dry-run)."""

from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from reviewapp.errors import DomainError
from reviewapp.models import Review
from screening import services
from screening.models import ImportBatch
from screening.references.parsers import ParseError


class Command(BaseCommand):
    help = "Import RIS, PubMed, BibTeX, EndNote XML or CSV references into a review."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("args", nargs="+", metavar="[REVIEW] FILE")
        parser.add_argument("--source", default="", help="Database name, e.g. 'MEDLINE (Ovid)'")
        parser.add_argument("--search-date", default=None, help="YYYY-MM-DD")
        parser.add_argument("--search-string", default="")
        parser.add_argument(
            "--new-search",
            action="store_true",
            help="Import a file already imported into the review again, as a new search",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Parse and report; needs no review, writes nothing",
        )

    def handle(self, *args: str, **options: Any) -> None:
        if options["dry_run"]:
            if len(args) != 1:
                raise CommandError("With --dry-run give only the FILE.")
            self._dry_run(Path(args[0]))
            return
        if len(args) != 2:
            raise CommandError("Give the REVIEW (id) and the FILE.")
        review_ref, file_arg = args
        try:
            review = Review.objects.get(pk=int(review_ref))
        except (ValueError, Review.DoesNotExist) as exc:
            raise CommandError(f"No review with id {review_ref!r}.") from exc
        path = Path(file_arg)
        data = self._read(path)
        upload = SimpleUploadedFile(path.name, data)
        try:
            with transaction.atomic():
                batch = services.import_create(
                    review=review,
                    created_by=None,
                    upload=upload,
                    source_database=options["source"] or path.stem,
                    search_date=options["search_date"],
                    search_string=options["search_string"],
                    new_search=options["new_search"],
                    queue=False,
                )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        batch = services.import_run(batch_id=batch.pk)
        if batch.status == ImportBatch.Status.FAILED:
            raise CommandError(batch.error)
        self.stdout.write(
            f"{batch.records_read} records read, {batch.records_imported} imported, "
            f"{batch.duplicates_found} duplicates found, {len(batch.skipped)} skipped"
        )
        for skipped in batch.skipped:
            self.stdout.write(f"  line {skipped['line']}: {skipped['reason']}")

    def _read(self, path: Path) -> bytes:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc

    def _dry_run(self, path: Path) -> None:
        data = self._read(path)
        try:
            preview = services.import_preview(data=data, file_name=path.name)
        except ParseError as exc:
            raise CommandError(f"{path.name}: {exc}") from exc
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        result = preview.result
        self.stdout.write(
            f"{len(result.records) + len(result.skipped)} records read, "
            f"{len(result.skipped)} skipped, "
            f"{preview.duplicates_within_file} duplicates within the file"
        )
        for skipped in result.skipped:
            self.stdout.write(f"  line {skipped.line}: {skipped.reason}")
