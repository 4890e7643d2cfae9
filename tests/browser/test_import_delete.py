"""Taking an import back, in a real browser: the same file is refused until the lead imports it
as a new search; deleting asks first, lists what would be lost and keeps the screened copies."""

import pytest

from screening import services_screening as votes
from screening.models import ImportBatch, Record, Stage
from tests.conftest import FIXTURES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAMPLE = FIXTURES / "donners_sample.ris"


def _upload(page, url, source, new_search=False):
    page.goto(url)
    page.set_input_files("#id_file", str(SAMPLE))
    page.fill("#id_source_database", source)
    if new_search:
        page.check("#id_new_search")
    page.click("button:has-text('Upload and import')")


def test_the_lead_reimports_then_deletes_an_import_keeping_the_screened_copy(
    live_server, page, review, lead, screener_a
):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", "pass-word-123")
    page.click("button[type=submit]")
    imports_url = f"{live_server.url}/reviews/{review.pk}/imports/"

    _upload(page, imports_url, "MEDLINE")
    page.get_by_role("heading", name="Import finished").wait_for()
    _upload(page, imports_url, "Embase")
    refusal = page.get_by_role("alert").first
    refusal.wait_for()
    assert "already imported into this review" in refusal.inner_text()
    assert "MEDLINE" in refusal.inner_text()
    _upload(page, imports_url, "Embase", new_search=True)
    page.get_by_role("heading", name="Import finished").wait_for()

    first = ImportBatch.objects.get(review=review, source_database="MEDLINE")
    screened = Record.objects.filter(import_batch=first, duplicate_of__isnull=True).first()
    votes.decision_record(
        record=screened, stage=Stage.TITLE_ABSTRACT, reviewer=screener_a, verdict="include"
    )

    page.goto(imports_url)
    page.locator(f"tr[data-import='{first.pk}']").get_by_role("link", name="Delete…").click()
    page.get_by_role("heading", name="Delete the import of donners_sample.ris?").wait_for()
    assert page.inner_text("#preview-votes") == "1"
    assert page.inner_text("#preview-records") == "21"
    assert "would lose 1 vote" in page.inner_text("#deletion-preview")
    page.click("button:has-text('keep the screened copies')")

    # The deletion is queued and run by the worker (in-process here); the import's page
    # follows it and says what it did.
    page.get_by_text("Deleting the records of donners_sample.ris in the background").wait_for()
    page.get_by_text("Deleted 20 record(s); 1 screened record(s) kept.").wait_for()
    page.goto(imports_url)
    row = page.locator(f"tr[data-import='{first.pk}']")
    assert "(20 deleted)" in row.inner_text()
    assert list(Record.objects.filter(import_batch=first)) == [screened]

    rerun = ImportBatch.objects.get(review=review, source_database="Embase")
    page.locator(f"tr[data-import='{rerun.pk}']").get_by_role("link", name="Delete…").click()
    page.click("button:has-text('Delete the import')")
    page.get_by_text("Deleted 21 record(s).").wait_for()
    page.goto(imports_url)
    row = page.locator(f"tr[data-import='{rerun.pk}']")
    assert "Deleted" in row.inner_text()
    assert row.get_by_role("link", name="Delete…").count() == 0
    assert list(Record.objects.filter(review=review)) == [screened]


def test_the_import_page_shows_a_running_deletion_and_follows_it_to_the_end(
    live_server, page, review, lead
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from screening import services, services_imports

    batch = services.import_create(
        review=review,
        created_by=lead,
        upload=SimpleUploadedFile("a.ris", SAMPLE.read_bytes()),
        source_database="MEDLINE",
        queue=False,
    )
    services.import_run(batch_id=batch.pk)
    # A worker has the deletion half done.
    ImportBatch.objects.filter(pk=batch.pk).update(deletion_status="running")
    services_imports.import_delete_progress_set(batch.pk, 35, "mending duplicate decisions")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", "pass-word-123")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/reviews/{review.pk}/imports/{batch.pk}/")
    bar = page.get_by_role("progressbar", name="Deletion progress")
    bar.wait_for()
    assert bar.get_attribute("value") == "35"
    assert "mending duplicate decisions" in page.inner_text("#deletion-status")
    assert page.get_by_role("link", name="Delete this import…").count() == 0

    services_imports.import_delete_run(batch_id=batch.pk, user_id=lead.pk, keep_screened=False)
    page.get_by_text("Deleted 21 record(s).").wait_for()  # the page polled and saw the end
    assert page.get_by_role("progressbar", name="Deletion progress").count() == 0
