from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from reviewapp.errors import DomainError
from screening import services
from screening.models import ImportBatch, Record
from tests.conftest import FIXTURES, NO_SHARED_DATA, SHARED_SCREENING, needs

pytestmark = pytest.mark.django_db(transaction=True)

SAMPLE = FIXTURES / "donners_sample.ris"


def _import(review, lead, name, data, source="MEDLINE", new_search=False):
    batch = services.import_create(
        review=review,
        created_by=lead,
        upload=SimpleUploadedFile(name, data),
        source_database=source,
        search_string="peer AND support",
        new_search=new_search,
    )
    batch.refresh_from_db()
    return batch


def test_an_import_stores_records_with_their_source_and_finds_duplicates(review, lead):
    batch = _import(review, lead, "medline.ris", SAMPLE.read_bytes())
    assert batch.status == ImportBatch.Status.DONE
    assert (batch.records_read, batch.records_imported, batch.duplicates_found) == (21, 21, 1)
    assert batch.file_format == "ris"
    assert batch.search_string == "peer AND support"
    duplicate = Record.objects.get(review=review, duplicate_of__isnull=False)
    assert duplicate.title.isupper()
    assert duplicate.duplicate_of.title.lower().startswith("novel therapies")
    assert duplicate.duplicate_reason


def test_a_second_import_is_deduplicated_against_the_first(review, lead):
    _import(review, lead, "medline.ris", SAMPLE.read_bytes())
    # The same bytes: the second database returned the same records, a new search.
    second = _import(
        review, lead, "embase.ris", SAMPLE.read_bytes(), source="Embase", new_search=True
    )
    assert second.duplicates_found == 21
    assert Record.objects.filter(review=review).unique().count() == 20


def test_unknown_tags_are_kept(review, lead):
    _import(review, lead, "medline.ris", SAMPLE.read_bytes())
    record = Record.objects.filter(review=review).order_by("id").first()
    assert record.raw  # the OpenAlex ID tag has no column of its own
    assert "W" in str(record.raw)


def test_a_file_that_is_not_a_reference_format_stores_nothing(review, lead):
    batch = _import(review, lead, "notes.ris", b"Dear editor,\nplease find attached\n")
    assert batch.status == ImportBatch.Status.FAILED
    assert "line 1" in batch.error
    assert batch.error_line == 1
    assert not Record.objects.filter(review=review).exists()


def test_a_broken_record_halfway_stores_nothing(review, lead):
    good = SAMPLE.read_bytes()
    lines = good.count(b"\n")
    broken = good + b"\nthis line is outside any record\nTY  - JOUR\nTI  - A trial\nER  - \n"
    batch = _import(review, lead, "broken.ris", broken)
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.error_line == lines + 2
    assert f"line {lines + 2}" in batch.error
    assert Record.objects.filter(review=review).count() == 0


def test_a_wrong_extension_is_refused_before_anything_is_stored(review, lead):
    with pytest.raises(DomainError, match=r"'\.docx' is not a reference file"):
        _import(review, lead, "report.docx", b"PK\x03\x04")
    assert not ImportBatch.objects.filter(review=review).exists()


def test_an_empty_file_is_refused(review, lead):
    with pytest.raises(DomainError, match="is empty"):
        _import(review, lead, "empty.ris", b"")


def test_an_oversized_file_is_refused(review, lead, settings):
    settings.IMPORT_MAX_BYTES = 100
    with pytest.raises(DomainError, match="the limit is"):
        _import(review, lead, "big.ris", SAMPLE.read_bytes())


def test_a_file_with_no_records_is_refused(review, lead):
    batch = _import(review, lead, "blank.ris", b"\r\n\r\n   \r\n")
    assert batch.status == ImportBatch.Status.FAILED
    assert not Record.objects.filter(review=review).exists()


def test_a_redelivered_task_does_not_import_twice(review, lead):
    batch = _import(review, lead, "medline.ris", SAMPLE.read_bytes())
    services.import_run(batch_id=batch.pk)
    assert Record.objects.filter(review=review).count() == 21


@pytest.mark.parametrize(
    ("name", "count"),
    [("Donners_2021", 257), ("Sep_2021", 271), ("Nelson_2002", 365), ("Meijboom_2021", 882)],
)
def test_every_shared_dataset_imports_with_its_record_count(review, lead, name, count):
    path = SHARED_SCREENING / f"{name}.ris"
    needs(path.exists(), NO_SHARED_DATA)
    batch = _import(review, lead, path.name, path.read_bytes())
    assert batch.status == ImportBatch.Status.DONE, batch.error
    assert batch.records_read == count
    assert batch.records_imported + len(batch.skipped) == count


def test_the_command_imports_into_a_review(review, lead):
    out = StringIO()
    call_command("import_references", str(review.pk), str(SAMPLE), "--source", "CINAHL", stdout=out)
    assert "21 records read, 21 imported, 1 duplicates found, 0 skipped" in out.getvalue()
    assert ImportBatch.objects.get(review=review).source_database == "CINAHL"


def test_the_dry_run_needs_no_review_and_writes_nothing(db):
    out = StringIO()
    call_command("import_references", "--dry-run", str(SAMPLE), stdout=out)
    assert out.getvalue().startswith("21 records read, 0 skipped, 1 duplicates within the file")
    assert not Record.objects.exists()


def test_the_command_names_the_bad_line(review, tmp_path):
    bad = tmp_path / "bad.ris"
    bad.write_text("TY  - JOUR\nTI  - ok\nER  - \nnonsense here\n")
    with pytest.raises(CommandError, match="line 4"):
        call_command("import_references", "--dry-run", str(bad))


def test_the_command_rejects_an_unknown_review(db):
    with pytest.raises(CommandError, match="No review"):
        call_command("import_references", "999", str(SAMPLE))
