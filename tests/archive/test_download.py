"""The download on the settings page and through the API: built by a task, offered when ready."""

import pytest
from django.core.files.storage import FileSystemStorage

from reviewapp.archive.models import ArchiveExport
from tests.factories import RecordFactory

pytestmark = pytest.mark.django_db


def test_the_settings_page_prepares_and_offers_the_archive(
    client, review, lead, django_capture_on_commit_callbacks
):
    RecordFactory.create_batch(2, review=review)
    client.force_login(lead)
    page = client.get(f"/reviews/{review.pk}/settings/").content.decode()
    assert "Prepare archive" in page and "Download archive" not in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/reviews/{review.pk}/archive/", HTTP_HX_REQUEST="true")
    assert 'data-status="queued"' in response.content.decode()  # htmx polls from here
    assert 'hx-trigger="every 1s"' in response.content.decode()
    polled = client.get(f"/reviews/{review.pk}/archive/", HTTP_HX_REQUEST="true")
    assert 'data-status="ready"' in polled.content.decode()
    assert "Download archive" in client.get(f"/reviews/{review.pk}/settings/").content.decode()
    download = client.get(f"/reviews/{review.pk}/archive/download/")
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content)[:2] == b"PK"


def test_a_second_request_while_one_is_pending_is_the_same_archive(api_for, review, lead):
    api = api_for(lead)
    first = api.post(f"/api/reviews/{review.pk}/archive/").json()  # queued: no commit in a test
    second = api.post(f"/api/reviews/{review.pk}/archive/").json()
    assert first["id"] == second["id"] and first["status"] == "queued"
    assert ArchiveExport.objects.count() == 1


def test_only_the_latest_archive_is_kept(api_for, review, lead, django_capture_on_commit_callbacks):
    api = api_for(lead)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            api.post(f"/api/reviews/{review.pk}/archive/")
    assert ArchiveExport.objects.filter(review=review).count() == 1


def test_a_storage_failure_is_reported_not_left_running(
    api_for, review, lead, django_capture_on_commit_callbacks, monkeypatch
):
    def disk_full(self, name, content):
        raise OSError("No space left on device")

    monkeypatch.setattr(FileSystemStorage, "_save", disk_full)
    with django_capture_on_commit_callbacks(execute=True):
        api_for(lead).post(f"/api/reviews/{review.pk}/archive/")
    status = api_for(lead).get(f"/api/reviews/{review.pk}/archive/").json()
    assert status["status"] == "failed"
    assert "No space left on device" in status["error"]
    assert api_for(lead).get(f"/api/reviews/{review.pk}/archive/download/").status_code == 409


def test_reviewers_cannot_download_the_archive(api_for, review, screener_a):
    assert api_for(screener_a).get(f"/api/reviews/{review.pk}/archive/").status_code == 403
    assert api_for(screener_a).post(f"/api/reviews/{review.pk}/archive/").status_code == 403
