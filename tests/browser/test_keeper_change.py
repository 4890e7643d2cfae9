"""'Keep this one' after screening, in a real browser: the page says what moves to the record
kept before doing it, the screened work follows, and undo puts it back."""

import pytest

from screening.models import Decision, Record
from tests.browser.test_screening import log_in
from tests.factories import RecordFactory, include_study

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_keep_this_one_shows_what_moves_and_moves_it(browser, live_server, review, lead):
    kept = RecordFactory(review=review, title="Peer support for psychosis: a randomised trial")
    copy = RecordFactory(
        review=review, title="Peer support for psychosis: a randomised trial", duplicate_of=kept
    )
    include_study(review, "Chinman 2015", record=kept)
    context, page = log_in(browser, live_server, "lead")
    page.goto(f"{live_server.url}/reviews/{review.pk}/duplicates/")
    page.locator(f".member[data-record='{copy.pk}'] button[value=primary]").click()
    page.wait_for_url(lambda url: "/confirm/" in url)
    plan = page.locator("#dedup-plan")
    text = plan.inner_text()
    assert f"Moves from record #{kept.pk} to record #{copy.pk}" in text
    assert "Title and abstract: included (2 votes)" in text
    assert "Full text: PDF attached" in text
    assert "Report of the study 'Chinman 2015'" in text
    assert Record.objects.get(pk=copy.pk).duplicate_of_id == kept.pk  # nothing done yet
    page.click("#confirm")
    page.get_by_text(f"Record {copy.pk} is now the record kept.").wait_for()
    assert Decision.objects.filter(record_id=copy.pk).count() == 4
    page.press("body", "u")  # undo, from the keyboard
    page.get_by_text("Undone: make primary.").wait_for()
    assert Decision.objects.filter(record_id=kept.pk).count() == 4
    context.close()
