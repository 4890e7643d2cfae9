"""A new user's first ten minutes, in a real browser: sign up, create a review, import, look."""

import pytest

from tests.conftest import FIXTURES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_create_a_review_import_a_file_and_see_the_records(live_server, page):
    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("#id_username", "pi")
    page.fill("#id_email", "pi@uni.example")
    page.fill("#id_password1", "a-long-pass-phrase")
    page.fill("#id_password2", "a-long-pass-phrase")
    page.click("button[type=submit]")
    page.get_by_text("not on any review yet").wait_for()

    page.click("text=Create your first review")
    page.fill("#id_title", "One-to-one peer support")
    page.fill("#id_protocol_registration", "CRD42015025621")
    page.fill("#id_inclusion_criteria", "Randomised controlled trials\nOne-to-one peer support")
    page.click("button:has-text('Create review')")
    page.get_by_role("heading", name="One-to-one peer support").wait_for()
    assert page.get_by_text("CRD42015025621").is_visible()

    page.click("text=Import search results")
    page.set_input_files("#id_file", str(FIXTURES / "donners_sample.ris"))
    page.fill("#id_source_database", "MEDLINE (Ovid)")
    page.click("button:has-text('Upload and import')")
    page.get_by_role("heading", name="Import finished").wait_for()
    assert page.inner_text("#records-imported") == "21"
    assert page.inner_text("#duplicates-found").startswith("1")

    page.click("text=See the records")
    rows = page.locator("#records tbody tr")
    rows.first.wait_for()
    assert rows.count() == 21
    assert page.locator("#records .badge.dup").count() == 1

    page.get_by_role("heading", name="Library").click()  # focus leaves the search box
    page.keyboard.press("/")
    page.keyboard.type("emicizumab")
    page.wait_for_function("() => document.querySelectorAll('#records tbody tr').length < 21")
    assert 0 < rows.count() < 21


def test_a_bad_upload_shows_what_is_wrong_and_stores_nothing(live_server, page, review, lead):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", "pass-word-123")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/reviews/{review.pk}/imports/")
    page.set_input_files(
        "#id_file",
        files=[{"name": "report.docx", "mimeType": "application/octet-stream", "buffer": b"PK"}],
    )
    page.fill("#id_source_database", "Embase")
    page.click("button:has-text('Upload and import')")
    page.get_by_role("alert").first.wait_for()
    assert "not a reference file we read" in page.inner_text("body")
    assert review.records.count() == 0
