import pytest

from screening.models import ImportBatch, Record
from tests.conftest import FIXTURES

pytestmark = pytest.mark.django_db(transaction=True)


def test_upload_poll_and_list_records_through_the_api(api_for, review, lead):
    api = api_for(lead)
    with open(FIXTURES / "donners_sample.ris", "rb") as fh:
        created = api.post(
            f"/api/reviews/{review.pk}/imports/",
            {"file": fh, "source_database": "MEDLINE", "search_date": "2019-06-13"},
            format="multipart",
        )
    assert created.status_code == 202
    status = api.get(f"/api/reviews/{review.pk}/imports/{created.json()['id']}/").json()
    assert status["status"] == "done" and status["progress"] == 100
    assert status["records_imported"] == 21 and status["duplicates_found"] == 1
    records = api.get(f"/api/reviews/{review.pk}/records/", {"status": "duplicate"}).json()
    assert records["count"] == 1
    assert records["results"][0]["duplicate_of"] is not None


def test_a_bad_upload_gets_a_400_naming_the_problem(api_for, review, lead):
    api = api_for(lead)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api.post(
        f"/api/reviews/{review.pk}/imports/",
        {"file": SimpleUploadedFile("x.pdf", b"%PDF-1.4"), "source_database": "MEDLINE"},
        format="multipart",
    )
    assert response.status_code == 400
    assert "not a reference file" in response.json()["file"][0]
    assert not ImportBatch.objects.exists()


def test_split_and_undo_through_the_api(api_for, review, lead):
    api = api_for(lead)
    with open(FIXTURES / "donners_sample.ris", "rb") as fh:
        api.post(
            f"/api/reviews/{review.pk}/imports/",
            {"file": fh, "source_database": "MEDLINE"},
            format="multipart",
        )
    duplicate = Record.objects.get(review=review, duplicate_of__isnull=False)
    split = api.post(f"/api/reviews/{review.pk}/records/{duplicate.pk}/split/")
    assert split.status_code == 201
    duplicate.refresh_from_db()
    assert duplicate.duplicate_of_id is None
    again = api.post(f"/api/reviews/{review.pk}/records/{duplicate.pk}/split/")
    assert again.status_code == 400  # a double click does not split twice
    undo = api.post(f"/api/reviews/{review.pk}/dedup-actions/{split.json()['id']}/undo/")
    assert undo.status_code == 200
    duplicate.refresh_from_db()
    assert duplicate.duplicate_of_id is not None
