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


# --- soft delete: hidden everywhere, restorable by a lead, purged after the retention period ---


def _delete(review, lead):
    from reviewapp import services

    return services.review_delete(review=review, deleted_by=lead)


def test_a_deleted_review_answers_404_on_every_page_and_endpoint_even_to_its_lead(
    client, api_for, django_capture_on_commit_callbacks
):
    """Every route, filled with real ids of a fully populated review, as that review's lead."""
    from tests.populated import populate
    from tests.reviewapp.test_permissions import _api_operations, _fill, _fill_api, _page_routes

    with django_capture_on_commit_callbacks(execute=True):
        mine = populate("mine")
    _delete(mine.review, mine.lead)
    client.force_login(mine.lead)
    checked = 0
    for route, entry in _page_routes():
        if "review_pk" not in route or entry.name == "review_restore":
            continue
        url = _fill(route, mine.ids)
        assert client.get(url).status_code == 404, url
        assert client.post(url).status_code == 404, url
        checked += 1
    api = api_for(mine.lead)
    for path, method in _api_operations():
        if "{review_pk}" not in path or path.endswith("/restore/"):
            continue
        response = api.generic(method, _fill_api(path, mine.ids))
        assert response.status_code == 404, (method, path, response.status_code)
        checked += 1
    assert checked > 150


def test_a_deleted_review_leaves_every_list(client, api_for, review, lead, screener_a):
    _delete(review, lead)
    client.force_login(screener_a)
    assert review.title.encode() not in client.get("/").content
    assert api_for(screener_a).get("/api/reviews/").json()["count"] == 0
    assert api_for(screener_a).get("/api/reviews/", {"deleted": "true"}).json()["count"] == 0
    assert not Review.objects.filter(pk=review.pk).exists()
    assert Review.all_objects.filter(pk=review.pk).exists()


def test_the_lead_deletes_from_settings_after_typing_the_title_and_restores_from_the_list(
    client, review, lead
):
    client.force_login(lead)
    refused = client.post(f"/reviews/{review.pk}/delete/", {"confirm_title": "wrong"})
    assert refused.status_code == 302
    assert Review.objects.filter(pk=review.pk).exists()

    response = client.post(
        f"/reviews/{review.pk}/delete/", {"confirm_title": review.title}, follow=True
    )
    assert b"was deleted" in response.content
    assert b"Deleted reviews" in response.content  # the bin, on the reviews page
    assert f'action="/reviews/{review.pk}/restore/"'.encode() in response.content

    restored = client.post(f"/reviews/{review.pk}/restore/", follow=True)
    assert restored.status_code == 200
    assert b"was restored" in restored.content
    assert Review.objects.filter(pk=review.pk).exists()


def test_only_a_lead_restores(client, api_for, review, lead, screener_a, outsider):
    _delete(review, lead)
    assert api_for(screener_a).post(f"/api/reviews/{review.pk}/restore/").status_code == 403
    assert api_for(outsider).post(f"/api/reviews/{review.pk}/restore/").status_code == 404
    client.force_login(screener_a)
    assert client.post(f"/reviews/{review.pk}/restore/").status_code == 403
    assert Review.objects.filter(pk=review.pk).exists() is False


def test_restoring_a_review_that_is_not_deleted_says_so(client, api_for, review, lead):
    response = api_for(lead).post(f"/api/reviews/{review.pk}/restore/")
    assert response.status_code == 400
    assert "not deleted" in str(response.json())
    client.force_login(lead)  # a second click on the page lands on the review
    assert client.post(f"/reviews/{review.pk}/restore/")["Location"] == f"/reviews/{review.pk}/"


def test_deleting_twice_keeps_the_first_time_and_both_are_in_the_history(api_for, review, lead):
    api = api_for(lead)
    assert api.delete(f"/api/reviews/{review.pk}/").status_code == 204
    first = Review.all_objects.get(pk=review.pk).deleted_at
    assert api.delete(f"/api/reviews/{review.pk}/").status_code == 404
    api.post(f"/api/reviews/{review.pk}/restore/")
    changes = list(Review.history.filter(id=review.pk).order_by("history_id"))
    assert [h.deleted_at is not None for h in changes[-2:]] == [True, False]
    assert changes[-2].deleted_at == first and changes[-2].deleted_by_id == lead.pk


def test_the_purge_removes_reviews_deleted_over_30_days_ago_with_history_and_files(
    review, lead, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.core.files.storage import default_storage
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.utils import timezone

    from reviewapp.tasks import purge_deleted_reviews_task
    from screening import services as screening
    from screening.models import ImportBatch, Record
    from tests.conftest import FIXTURES
    from tests.factories import ReviewFactory

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
    screening.import_run(batch_id=batch.pk)
    stored = ImportBatch.objects.get(pk=batch.pk).file.name
    assert default_storage.exists(stored)
    from django.core.files.base import ContentFile

    figure = default_storage.save(f"figures/{review.pk}/9/abc/forest.png", ContentFile(b"png"))
    recent = ReviewFactory(title="Deleted yesterday")
    _delete(review, lead)
    _delete(recent, lead)
    Review.all_objects.filter(pk=review.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    Review.all_objects.filter(pk=recent.pk).update(deleted_at=timezone.now() - timedelta(days=29))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_deleted_reviews", stdout=io.StringIO())

    assert not Review.all_objects.filter(pk=review.pk).exists()
    assert Review.all_objects.filter(pk=recent.pk).exists()
    assert not Record.objects.filter(review_id=review.pk).exists()
    assert not Review.history.filter(id=review.pk).exists()
    assert not ImportBatch.history.filter(review_id=review.pk).exists()
    assert not default_storage.exists(stored)
    assert not default_storage.exists(figure)  # drawn figures go too, though no row names them
    assert purge_deleted_reviews_task.apply().get() == []  # nothing left to purge


def test_the_purge_is_scheduled_daily_in_celery_beat():
    from reviewapp.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "reviewapp.tasks.purge_deleted_reviews_task" in tasks


def test_the_demo_loader_leaves_a_deleted_demo_in_the_bin(lead):
    from reviewapp.demo import DEMO_TITLE
    from tests.factories import ReviewFactory

    demo = ReviewFactory(title=DEMO_TITLE)
    _delete(demo, lead)
    from reviewapp.demo import load_demo

    assert load_demo().pk == demo.pk
    assert Review.all_objects.filter(title=DEMO_TITLE).count() == 1


def test_an_invitation_to_a_malformed_address_is_refused(api_for, review, lead):
    """Found by schemathesis: anything with an '@' was stored (and mailed) as an invitation."""
    from reviewapp.models import Invitation

    response = api_for(lead).post(
        f"/api/reviews/{review.pk}/members/",
        {"who": "not an @ address", "roles": ["viewer"]},
        format="json",
    )
    assert response.status_code == 400
    assert "not a valid e-mail address" in str(response.json())
    assert not Invitation.objects.exists()
