"""Probe finding 7: one API DELETE by a lead removed a whole review for good, nothing restored
it, and no whole-review export existed. A deleted review is now recoverable for 30 days."""

import io
import zipfile

import pytest

from reviewapp.models import Review
from tests.factories import RecordFactory

pytestmark = pytest.mark.django_db


def test_an_api_delete_by_the_lead_can_be_undone(api_for, review, lead):
    RecordFactory.create_batch(3, review=review)
    api = api_for(lead)

    assert api.delete(f"/api/reviews/{review.pk}/").status_code == 204

    assert api.get(f"/api/reviews/{review.pk}/").status_code == 404
    deleted = api.get("/api/reviews/", {"deleted": "true"}).json()["results"]
    assert [r["id"] for r in deleted] == [review.pk]
    restored = api.post(f"/api/reviews/{review.pk}/restore/")
    assert restored.status_code == 200
    assert api.get(f"/api/reviews/{review.pk}/").status_code == 200
    assert Review.objects.get(pk=review.pk).records.count() == 3


def test_the_lead_can_download_the_whole_review_as_an_archive(
    api_for, review, lead, django_capture_on_commit_callbacks
):
    RecordFactory.create_batch(2, review=review)
    api = api_for(lead)

    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"/api/reviews/{review.pk}/archive/")
    assert started.status_code == 202
    status = api.get(f"/api/reviews/{review.pk}/archive/").json()
    assert status["status"] == "ready"
    download = api.get(f"/api/reviews/{review.pk}/archive/download/")
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert "manifest.json" in archive.namelist()
