"""In Chromium: a reviewer works through the possible-duplicates queue with the keyboard only
(j/k, d, s, Enter, u), the queue is swapped in place, and the records follow."""

import pytest

from screening import services
from screening.models import PossibleDuplicate, Record
from screening.references.dedup import PossiblePair
from tests.browser.test_ranking import wait_until
from tests.browser.test_screening import log_in
from tests.factories import RecordFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _status(pair):
    return PossibleDuplicate.objects.get(pk=pair.pk).status


def _expect_current(page, pair):
    # Waits out htmx's settle, during which a swapped pair still carries its old classes.
    page.wait_for_selector(f"#possible-{pair.pk}.current")
    assert page.locator("#possible-queue .possible-pair.current").count() == 1


def _wait_for_count(page, n):
    page.wait_for_function(
        "n => document.querySelector('#possible-count').textContent.trim() === String(n)", arg=n
    )


def test_a_reviewer_decides_the_queue_with_the_keyboard(browser, live_server, review, screener_a):
    records = [
        RecordFactory(review=review, title=f"Peer support trial {n}", pages=p)
        for n, p in enumerate(["1-9", "1-9", "20-29", "A39", "40-49", "40-49"])
    ]
    services.possible_pairs_store(
        review_id=review.pk,
        pairs=[
            PossiblePair(a=records[i].pk, b=records[i + 1].pk, reason="title 88% similar")
            for i in (0, 2, 4)
        ],
    )
    first, second, third = PossibleDuplicate.objects.filter(review=review).order_by("pk")
    context, page = log_in(browser, live_server, "screener_a")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/reviews/{review.pk}/duplicates/")
    assert page.inner_text("#possible-count") == "3"
    _expect_current(page, first)
    assert page.is_visible(f"#possible-{second.pk} tr.differ[data-field='pages']")

    page.keyboard.press("j")
    _expect_current(page, second)
    page.keyboard.press("d")
    _wait_for_count(page, 2)
    assert _status(second) == "confirmed"
    assert Record.objects.get(pk=records[3].pk).duplicate_of_id == records[2].pk
    # The cursor stays in place, on the pair that followed.
    _expect_current(page, third)

    page.keyboard.press("k")
    _expect_current(page, first)
    page.keyboard.press("s")
    _wait_for_count(page, 1)
    assert _status(first) == "separated"

    page.keyboard.press("u")
    _wait_for_count(page, 2)
    assert _status(first) == "open"
    _expect_current(page, first)

    page.keyboard.press("Enter")
    _wait_for_count(page, 1)
    assert _status(first) == "confirmed"
    page.keyboard.press("d")
    page.wait_for_selector("#possible-empty")
    assert _status(third) == "confirmed"
    assert wait_until(lambda: Record.objects.filter(review=review).unique().count() == 3)
    assert "1 duplicate" not in page.inner_text("#dedup-summary")
    assert page.inner_text("#dedup-summary").startswith("3 duplicate records in 3 groups")
    assert errors == []
    context.close()


def test_the_merge_form_and_u_still_work_without_a_queue(browser, live_server, review, lead):
    kept, missed = (RecordFactory(review=review, title=f"Peer mentors {n}") for n in range(2))
    context, page = log_in(browser, live_server, "lead")
    page.goto(f"{live_server.url}/reviews/{review.pk}/duplicates/")
    assert page.is_visible("#possible-empty")
    page.click("#merge-form >> xpath=.. >> summary")
    page.fill("#merge-record", str(missed.pk))
    page.fill("#merge-other", str(kept.pk))
    page.click("#merge-form button[type=submit]")
    page.wait_for_selector("#undo")
    assert Record.objects.get(pk=missed.pk).duplicate_of_id == kept.pk
    page.keyboard.press("u")
    assert wait_until(lambda: Record.objects.get(pk=missed.pk).duplicate_of_id is None)
    context.close()
