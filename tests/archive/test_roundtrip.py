"""Export a fully populated review, delete everything, import it: the same rows and files."""

import io
import json
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management import call_command

from reviewapp import services as review_services
from reviewapp.archive.exporter import write_archive
from reviewapp.archive.importer import read_archive
from reviewapp.archive.scope import archived_models, file_fields, review_rows
from reviewapp.models import Review
from tests.archive.conftest import canonical_rows

pytestmark = pytest.mark.django_db


def _archive(review_id: int) -> bytes:
    out = io.BytesIO()
    write_archive(review_id=review_id, out=out)
    return out.getvalue()


def _stored_files() -> dict[str, bytes]:
    found = {}
    for entry in archived_models():
        for column in file_fields(entry):
            if entry.is_historical:
                continue
            for name in entry.model._base_manager.values_list(column, flat=True):
                if name:
                    with default_storage.open(name, "rb") as fh:
                        found[f"{entry.label}:{name.rsplit('/', 1)[-1]}"] = fh.read()
    return found


def test_a_review_survives_export_delete_everything_and_import(populated_review, tmp_path):
    before = canonical_rows()
    files_before = _stored_files()
    assert len(files_before) >= 2  # the uploaded RIS file and the full-text PDF
    path = tmp_path / "review.zip"
    call_command("export_review", str(populated_review.pk), str(path), stdout=io.StringIO())

    review_services.review_purge(review_id=populated_review.pk)
    get_user_model().objects.all().delete()
    emptied = canonical_rows()
    assert all(rows == [] for rows in emptied.values()), "the purge left rows behind"

    out = io.StringIO()
    call_command("import_review", str(path), stdout=out)
    assert "Imported review" in out.getvalue()

    after = canonical_rows(skip_import_history=True)
    for label, rows in before.items():
        assert after[label] == rows, label
    assert _stored_files() == files_before


def test_an_archive_imported_beside_its_review_collides_with_nothing(populated_review):
    data = _archive(populated_review.pk)
    first = read_archive(io.BytesIO(data))
    second = read_archive(io.BytesIO(data))

    original = review_rows(populated_review.pk).pks
    copies = [review_rows(s.review_id).pks for s in (first, second)]
    for label, pks in original.items():
        extra = 1 if label == "reviewapp.historicalreview" else 0  # the import's own entry
        for copy in copies:
            assert len(copy[label]) == len(pks) + extra, label
            assert not set(copy[label]) & set(pks), label
    assert Review.objects.filter(title=populated_review.title).count() == 3
    # The copies' rows point only at their own review's rows.
    assert canonical_rows(skip_import_history=True)  # every reference resolved


def test_the_import_is_in_the_review_history(populated_review, client):
    summary = read_archive(io.BytesIO(_archive(populated_review.pk)))
    lead = get_user_model().objects.get(username="lead")
    client.force_login(lead)
    page = client.get(f"/reviews/{summary.review_id}/history/")
    assert page.status_code == 200
    assert b"Import" in page.content  # the ImportBatch rows travel with their history
    reason = Review.history.filter(id=summary.review_id).latest("history_id")
    assert reason.history_change_reason.startswith("Imported from an archive")


def test_the_manifest_names_the_format_version_and_every_table(populated_review):
    data = _archive(populated_review.pk)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        users = json.loads(zf.read("users.json"))
    assert manifest["format_version"] == 1
    assert {m["label"] for m in manifest["models"]} == {e.label for e in archived_models()}
    assert {u["username"] for u in users} >= {"lead", "reviewer1", "reviewer2", "arbiter"}
    assert all("password" not in u for u in users)
