"""In a real browser: the lead downloads the archive, deletes the review and restores it."""

import io
import json
import zipfile

import pytest

from reviewapp.models import Review
from tests.factories import MembershipFactory, RecordFactory, ReviewFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-word-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_the_lead_downloads_the_archive_then_deletes_and_restores_the_review(live_server, page):
    review = ReviewFactory(title="Peer support for psychosis")
    lead = UserFactory(username="pi")
    MembershipFactory(review=review, user=lead, is_lead=True)
    RecordFactory.create_batch(3, review=review)
    _login(page, live_server, "pi")

    page.goto(f"{live_server.url}/reviews/{review.pk}/settings/")
    page.click("#archive-prepare")
    page.locator("#archive-download").wait_for()
    with page.expect_download() as download:
        page.click("#archive-download")
    with zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read())) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["review"]["title"] == "Peer support for psychosis"
    assert {m["label"]: m["rows"] for m in manifest["models"]}["screening.record"] == 3

    page.fill("#confirm-title", "Peer support for psychosis")
    page.click("button:has-text('Delete review')")
    page.get_by_text("was deleted").wait_for()
    bin_ = page.locator("#deleted-reviews")
    assert "Peer support for psychosis" in bin_.inner_text()
    assert Review.objects.filter(pk=review.pk).count() == 0
    page.goto(f"{live_server.url}/reviews/{review.pk}/")
    assert page.get_by_text("Not Found").count() + page.get_by_text("404").count() >= 1

    page.goto(f"{live_server.url}/")
    page.locator("#deleted-reviews button:has-text('Restore')").click()
    page.get_by_text("was restored").wait_for()
    assert Review.objects.filter(pk=review.pk).count() == 1
