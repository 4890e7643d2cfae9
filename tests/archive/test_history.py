"""Imports are in the review's audit trail: the upload, its run, and an archive import."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reviewapp import selectors
from reviewapp.archive.exporter import write_archive
from reviewapp.archive.importer import read_archive
from screening import services as screening
from tests.conftest import FIXTURES

pytestmark = pytest.mark.django_db


def _import(review, lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        batch = screening.import_create(
            review=review,
            created_by=lead,
            upload=SimpleUploadedFile(
                "donners_sample.ris", (FIXTURES / "donners_sample.ris").read_bytes()
            ),
            source_database="Embase",
            queue=False,
        )
    return screening.import_run(batch_id=batch.pk)


def test_an_import_and_its_outcome_show_on_the_history_page(
    client, review, lead, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True):  # the import task runs eagerly
        response = client.post(
            f"/api/reviews/{review.pk}/imports/",
            {
                "file": SimpleUploadedFile(
                    "donners_sample.ris", (FIXTURES / "donners_sample.ris").read_bytes()
                ),
                "source_database": "Embase",
            },
        )
    assert response.status_code == 202
    entries = [e for e in selectors.review_history(review=review, user=lead) if e.what == "Import"]
    assert [e.action for e in entries] == ["changed", "created"]
    assert entries[1].who == "lead"
    assert "donners_sample.ris" in entries[0].label
    assert any("status: 'queued' → 'done'" in c for c in entries[0].changes)
    page = client.get(f"/reviews/{review.pk}/history/").content.decode()
    assert "donners_sample.ris" in page


def test_an_archive_import_is_one_entry_in_the_new_reviews_history(
    review, lead, django_capture_on_commit_callbacks
):
    _import(review, lead, django_capture_on_commit_callbacks)
    out = io.BytesIO()
    write_archive(review_id=review.pk, out=out)
    summary = read_archive(io.BytesIO(out.getvalue()), imported_by=lead)
    copy = type(review).objects.get(pk=summary.review_id)
    entries = selectors.review_history(review=copy, user=lead)
    newest = entries[0]
    assert (newest.what, newest.action, newest.who) == ("Review", "created", "lead")
    # The copied history is the original's, row for row, plus that entry.
    original = selectors.review_history(review=review, user=lead)
    assert [(e.what, e.action, e.label) for e in entries[1:]] == [
        (e.what, e.action, e.label) for e in original
    ]
