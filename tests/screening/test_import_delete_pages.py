"""The re-import rule and import deletion through the API and the pages."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from screening import selectors, services_imports
from screening import services_screening as votes
from screening.models import ImportBatch, Record, Stage
from tests.conftest import FIXTURES

pytestmark = pytest.mark.django_db

SAMPLE = (FIXTURES / "donners_sample.ris").read_bytes()


def _post_api(api, review, name="medline.ris", source="MEDLINE", **extra):
    return api.post(
        f"/api/reviews/{review.pk}/imports/",
        {"file": SimpleUploadedFile(name, SAMPLE), "source_database": source, **extra},
        format="multipart",
    )


@pytest.fixture
def imported(review, lead, api_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post_api(api_for(lead), review)
    assert response.status_code == 202, response.content
    return ImportBatch.objects.get(pk=response.json()["id"])


# --- API ------------------------------------------------------------------------------------


def test_the_api_refuses_the_same_file_naming_the_earlier_import(imported, review, lead, api_for):
    response = _post_api(api_for(lead), review, name="again.ris", source="Embase")
    assert response.status_code == 400
    message = response.json()["file"][0]
    assert "medline.ris" in message and "MEDLINE" in message and "lead" in message
    assert ImportBatch.objects.filter(review=review).count() == 1


def test_the_api_imports_the_same_file_again_as_a_new_search(
    imported, review, lead, api_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post_api(api_for(lead), review, name="again.ris", new_search="true")
    assert response.status_code == 202, response.content
    assert response.json()["same_file_as"] == imported.pk
    assert response.json()["content_sha256"] == imported.content_sha256


def test_the_api_previews_and_deletes_an_import(
    imported, review, lead, api_for, django_capture_on_commit_callbacks
):
    api = api_for(lead)
    url = f"/api/reviews/{review.pk}/imports/{imported.pk}/"
    preview = api.get(url + "deletion-preview/").json()
    assert preview["records"] == 21 and preview["records_to_delete"] == 21
    assert preview["keep_screened"] is False and preview["refusal"] == ""

    with django_capture_on_commit_callbacks(execute=False) as sent:
        response = api.delete(url)

    # Accepted: the worker deletes; the import says how far it got.
    assert response.status_code == 202, response.content
    assert response.json()["deletion_status"] == "queued"
    assert response.json()["deletion_progress"] == {"percent": 0, "stage": "queued"}
    assert Record.objects.filter(review=review).count() == 21
    for callback in sent:
        callback()
    after = api.get(url).json()
    assert after["deletion_status"] == "done" and after["deletion_error"] == ""
    assert after["deletion_progress"] == {"percent": 100, "stage": "done"}
    assert after["records_deleted"] == 21 and after["deleted_at"] is not None
    assert not Record.objects.filter(review=review).exists()
    assert api.delete(url).status_code == 400  # already deleted


def test_the_api_refuses_to_delete_screened_records_unless_asked_to_keep_them(
    imported, review, lead, screener_a, api_for, django_capture_on_commit_callbacks
):
    record = Record.objects.filter(import_batch=imported, duplicate_of__isnull=True).first()
    votes.decision_record(
        record=record, stage=Stage.TITLE_ABSTRACT, reviewer=screener_a, verdict="exclude"
    )
    api = api_for(lead)
    url = f"/api/reviews/{review.pk}/imports/{imported.pk}/"
    assert api.get(url + "deletion-preview/").json()["loss"] == "1 vote"

    refused = api.delete(url)
    assert refused.status_code == 400
    assert "1 vote" in refused.json()["detail"][0]
    assert Record.objects.filter(review=review).count() == 21

    with django_capture_on_commit_callbacks(execute=True):
        kept = api.delete(url + "?keep_screened=true")
    assert kept.status_code == 202
    after = api.get(url).json()
    assert after["deletion_status"] == "done" and after["records_deleted"] == 20
    assert after["deleted_at"] is None  # the screened copy stays
    assert list(Record.objects.filter(review=review)) == [record]


def test_only_the_lead_deletes_an_import_or_sees_its_preview(imported, review, screener_a, api_for):
    api = api_for(screener_a)
    url = f"/api/reviews/{review.pk}/imports/{imported.pk}/"
    assert api.delete(url).status_code == 403
    assert api.get(url + "deletion-preview/").status_code == 403
    assert Record.objects.filter(review=review).count() == 21


# --- pages ----------------------------------------------------------------------------------


def test_the_upload_form_shows_the_refusal_and_takes_the_new_search_box(
    imported, review, lead, client_for, django_capture_on_commit_callbacks
):
    client = client_for(lead)
    url = f"/reviews/{review.pk}/imports/upload/"
    refused = client.post(
        url, {"file": SimpleUploadedFile("again.ris", SAMPLE), "source_database": "Embase"}
    )
    assert refused.status_code == 400
    assert "already imported into this review as medline.ris" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        accepted = client.post(
            url,
            {
                "file": SimpleUploadedFile("again.ris", SAMPLE),
                "source_database": "Embase",
                "new_search": "on",
            },
        )
    assert accepted.status_code == 302
    again = ImportBatch.objects.get(review=review, file_name="again.ris")
    assert again.same_file_as == imported
    page = client.get(f"/reviews/{review.pk}/imports/").content.decode()
    assert "imported again as a new search" in page


def test_the_imports_page_offers_delete_to_the_lead_only(imported, review, lead, viewer, client):
    delete_url = f"/reviews/{review.pk}/imports/{imported.pk}/delete/"
    client.force_login(lead)
    assert delete_url in client.get(f"/reviews/{review.pk}/imports/").content.decode()
    client.force_login(viewer)
    assert delete_url not in client.get(f"/reviews/{review.pk}/imports/").content.decode()
    assert client.get(delete_url).status_code == 403
    assert client.post(delete_url).status_code == 403


def test_the_confirmation_page_lists_what_would_be_lost_and_keeps_the_screened_copies(
    imported, review, lead, screener_a, client_for, django_capture_on_commit_callbacks
):
    record = Record.objects.filter(import_batch=imported, duplicate_of__isnull=True).first()
    votes.decision_record(
        record=record, stage=Stage.TITLE_ABSTRACT, reviewer=screener_a, verdict="include"
    )
    votes.study_link_report(record=record, new_label="Donner 2020")
    client = client_for(lead)
    url = f"/reviews/{review.pk}/imports/{imported.pk}/delete/"
    page = client.get(url).content.decode()
    assert "would lose 1 vote, 1 study link" in page
    assert "keep the screened copies" in page

    refused = client.post(url, follow=True)  # without keep_screened
    assert "1 vote" in [str(m) for m in refused.context["messages"]][0]
    assert Record.objects.filter(review=review).count() == 21

    with django_capture_on_commit_callbacks(execute=True):
        queued = client.post(url, {"keep_screened": "on"}, follow=True)
    messages = [str(m) for m in queued.context["messages"]]
    assert messages == ["Deleting the records of medline.ris in the background."]
    assert 'aria-label="Deletion progress"' in queued.content.decode()
    page = client.get(f"/reviews/{review.pk}/imports/{imported.pk}/").content.decode()
    assert "Deleted 20 record(s); 1 screened record(s) kept." in page
    assert list(Record.objects.filter(review=review)) == [record]
    counts = selectors.prisma_counts(review=review)
    assert counts.identified_per_source == {"MEDLINE": 1}


def test_deleting_from_the_page_marks_the_import_deleted(
    imported, review, lead, client_for, django_capture_on_commit_callbacks
):
    client = client_for(lead)
    url = f"/reviews/{review.pk}/imports/{imported.pk}/delete/"
    assert "Delete the import" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        queued = client.post(url, follow=True)
    assert [str(m) for m in queued.context["messages"]] == [
        "Deleting the records of medline.ris in the background."
    ]
    page = client.get(f"/reviews/{review.pk}/imports/{imported.pk}/").content.decode()
    assert "Deleted" in page and url not in page
    again = client.post(url, follow=True)
    assert "already deleted" in [str(m) for m in again.context["messages"]][0]


def test_a_deleted_import_is_imported_again_from_its_stored_file(
    imported, review, lead, client_for, api_for, django_capture_on_commit_callbacks
):
    client = client_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/reviews/{review.pk}/imports/{imported.pk}/delete/")
    page = client.get(f"/reviews/{review.pk}/imports/{imported.pk}/").content.decode()
    assert "Import this file again" in page
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(f"/reviews/{review.pk}/imports/{imported.pk}/restore/", follow=True)
    assert [str(m) for m in done.context["messages"]] == ["Importing medline.ris again."]
    again = ImportBatch.objects.exclude(pk=imported.pk).get(review=review)
    assert (again.source_database, again.content_sha256) == ("MEDLINE", imported.content_sha256)
    assert again.status == ImportBatch.Status.DONE and again.records_imported == 21
    assert selectors.prisma_counts(review=review).identified_per_source == {"MEDLINE": 21}
    # The file is standing again: restoring the deleted import twice is refused, by the API too.
    refused = api_for(lead).post(f"/api/reviews/{review.pk}/imports/{imported.pk}/restore/")
    assert refused.status_code == 400
    assert "already imported" in refused.json()["file"][0]


def test_only_a_deleted_import_can_be_restored(imported, review, lead, api_for):
    response = api_for(lead).post(f"/api/reviews/{review.pk}/imports/{imported.pk}/restore/")
    assert response.status_code == 400
    assert "is not deleted" in response.json()["detail"][0]


def test_a_failed_deletion_says_why_on_the_import_page(imported, review, lead, client_for):
    ImportBatch.objects.filter(pk=imported.pk).update(
        deletion_status="failed", deletion_error="1 record(s) of medline.ris carry screening work"
    )
    page = client_for(lead).get(f"/reviews/{review.pk}/imports/{imported.pk}/").content.decode()
    assert "Deletion failed: nothing was deleted" in page
    assert "1 record(s) of medline.ris carry screening work" in page
    assert f"/reviews/{review.pk}/imports/{imported.pk}/delete/" in page  # it may be tried again


def test_the_import_page_polls_the_deletion_while_it_runs(imported, review, lead, client_for):
    ImportBatch.objects.filter(pk=imported.pk).update(deletion_status="running")
    page = client_for(lead).get(f"/reviews/{review.pk}/imports/{imported.pk}/").content.decode()
    assert 'id="deletion-status"' in page and 'hx-trigger="every 1s"' in page
    assert 'aria-label="Deletion progress"' in page
    assert f"/reviews/{review.pk}/imports/{imported.pk}/delete/" not in page


def test_the_confirmation_page_shows_a_queued_deletion_instead_of_offering_another(
    imported, review, lead, client_for
):
    ImportBatch.objects.filter(pk=imported.pk).update(deletion_status="queued")
    url = f"/reviews/{review.pk}/imports/{imported.pk}/delete/"
    client = client_for(lead)

    page = client.get(url).content.decode()

    assert "The deletion of this import is already queued" in page
    assert 'aria-label="Deletion progress"' in page and 'hx-trigger="every 1s"' in page
    assert 'id="deletion-preview"' not in page and "Delete the import</button>" not in page
    refused = client.post(url, follow=True)
    assert refused.redirect_chain[-1][0] == url
    assert "already being deleted" in [str(m) for m in refused.context["messages"]][0]
    assert "The deletion of this import is already queued" in refused.content.decode()


def test_the_confirmation_page_shows_the_progress_of_a_running_deletion(
    imported, review, lead, client_for
):
    ImportBatch.objects.filter(pk=imported.pk).update(deletion_status="running")
    services_imports.import_delete_progress_set(imported.pk, 40, "deleting records")

    page = client_for(lead).get(f"/reviews/{review.pk}/imports/{imported.pk}/delete/")

    html = page.content.decode()
    assert "The deletion of this import is already running" in html
    assert "deleting records" in html and 'value="40"' in html
    assert "would lose" not in html and "keep the screened copies" not in html


def test_queueing_a_deletion_while_the_broker_is_away_says_it_waits_for_the_worker(
    imported, review, lead, client_for
):
    from reviewapp.common.outbox import WAITING_MESSAGE, OutboxTask

    # Work an earlier page could not hand to the broker: it is down.
    OutboxTask.objects.create(task_name="screening.import_delete", attempts=1, last_error="down")
    url = f"/reviews/{review.pk}/imports/{imported.pk}/delete/"

    queued = client_for(lead).post(url, follow=True)

    assert [str(m) for m in queued.context["messages"]] == [
        "Deleting the records of medline.ris in the background.",
        WAITING_MESSAGE,
    ]
    refused = client_for(lead).post(url, follow=True)  # queued already: no second notice
    assert [str(m) for m in refused.context["messages"]] == [
        "medline.ris is already being deleted."
    ]
