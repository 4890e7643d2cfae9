"""Export each demo review to an archive and import it back: size and time.

    python benchmarks/archive_roundtrip.py [--repeat 3]

Recreates the database `reviewapp_bench_archive` (or the one in BENCH_DATABASE_URL), loads the
demo reviews (`manage.py load_demo`: the Nelson 2002 screening library and the BCG trials with
extraction and an analysis) plus a third review holding every shared SYNERGY export, then
for each review times `write_archive` and `read_archive` (best and median of --repeat runs),
and reports the archive's size, its rows and files. Tasks run in-process; files go to a
temporary MEDIA_ROOT.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/reviewapp_bench_archive"


def _recreate(db_url: str) -> None:
    name = db_url.rsplit("/", 1)[1]
    admin = db_url.rsplit("/", 1)[0] + "/postgres"
    for sql in (f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", admin, "-qc", sql], check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--data",
        type=Path,
        default=REPO.parent / "shared" / "data" / "screening",
        help="folder of RIS exports for the third review (default: ../shared/data/screening)",
    )
    args = parser.parse_args()
    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    _recreate(db_url)
    media = tempfile.mkdtemp(prefix="archive-bench-")
    os.environ.update(
        DATABASE_URL=db_url,
        CELERY_BROKER_URL="",
        MEDIA_ROOT=media,
        DJANGO_SETTINGS_MODULE="reviewapp.settings.dev",
        LOG_LEVEL="WARNING",
    )
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from reviewapp import services as review_services
    from reviewapp.archive.exporter import write_archive
    from reviewapp.archive.importer import read_archive
    from reviewapp.demo import demo_data_dir
    from reviewapp.models import Review
    from screening import services as screening

    call_command("migrate", verbosity=0)
    call_command("load_demo", stdout=io.StringIO())
    lead = Review.objects.order_by("pk").first().created_by
    big = review_services.review_create(created_by=lead, title="All four SYNERGY exports")
    data = args.data if args.data.is_dir() else demo_data_dir()
    for path in sorted(data.glob("*.ris")):
        batch = screening.import_create(
            review=big,
            created_by=lead,
            upload=SimpleUploadedFile(path.name, path.read_bytes()),
            source_database=path.stem,
            queue=False,
        )
        screening.import_run(batch_id=batch.pk)

    print(f"{'review':<58} {'rows':>7} {'files':>5} {'zip':>9} {'export':>9} {'import':>9}")
    for review in Review.objects.order_by("pk"):
        export_times, import_times = [], []
        for _ in range(args.repeat):
            out = io.BytesIO()
            started = time.perf_counter()
            summary = write_archive(review_id=review.pk, out=out)
            export_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            imported = read_archive(io.BytesIO(out.getvalue()))
            import_times.append(time.perf_counter() - started)
            review_services.review_purge(review_id=imported.review_id)
        size = len(out.getvalue())
        print(
            f"{review.title[:58]:<58} {summary.total_rows:>7} {summary.files:>5} "
            f"{size / 1024:>7.0f} KB "
            f"{min(export_times):>6.2f} s {min(import_times):>7.2f} s"
            f"   (median {statistics.median(export_times):.2f} s / "
            f"{statistics.median(import_times):.2f} s)"
        )


if __name__ == "__main__":
    main()
