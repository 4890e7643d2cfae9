"""Two reviewers screen the same records in two browsers with the keyboard only; they disagree
on one, the arbiter resolves it, and the PRISMA diagram and the agreement table follow."""

import pytest

from screening.models import Decision, ScreeningItem
from screening.services_screening import stage_settings_update
from tests.factories import RecordFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLES = [
    "One-to-one peer support for adults after discharge: a randomised trial",
    "Group peer support in a day centre: an observational study",
    "Peer mentors for people with psychosis: a randomised controlled trial",
]


def log_in(browser, live_server, username):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-word-123")
    page.press("#id_password", "Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return context, page


def press_and_wait_for(page, key, next_title):
    page.keyboard.press(key)
    page.wait_for_function(
        "t => document.querySelector('#record-title, #queue-empty h1').textContent.includes(t)",
        arg=next_title,
    )


def test_two_reviewers_a_conflict_and_the_arbiter(
    browser, live_server, review, lead, screener_a, screener_b, arbiter
):
    stage_settings_update(
        review=review,
        stage="ta",
        reviewers_required=2,
        blind=True,
        exclusion_reasons=[],
        include_terms=["randomised"],
        exclude_terms=["observational"],
    )
    records = [RecordFactory(review=review, title=t) for t in TITLES]
    screen_url = f"{live_server.url}/reviews/{review.pk}/screening/ta/screen/"
    done = "Nothing left to screen"

    context_a, a = log_in(browser, live_server, "screener_a")
    a.goto(screen_url)
    assert a.inner_text("#record-title") == TITLES[0]
    assert a.locator("mark.hl-include").first.inner_text().lower().startswith("randomised")
    a.keyboard.press("?")
    assert a.locator("#help-overlay").is_visible()
    a.keyboard.press("Escape")
    assert not a.locator("#help-overlay").is_visible()
    url_before = a.url
    press_and_wait_for(a, "i", TITLES[1])
    assert a.url == url_before  # the next record came without a page load
    press_and_wait_for(a, "e", TITLES[2])
    # Undo brings the excluded record back; deciding again moves on.
    press_and_wait_for(a, "u", TITLES[1])
    press_and_wait_for(a, "e", TITLES[2])
    press_and_wait_for(a, "i", done)
    assert Decision.objects.filter(reviewer=screener_a).count() == 3

    context_b, b = log_in(browser, live_server, "screener_b")
    b.goto(screen_url)
    # Blind: screener_a's votes are nowhere on screener_b's page.
    assert "screener_a" not in b.inner_text("#screen-record")
    press_and_wait_for(b, "i", TITLES[1])
    b.keyboard.press("i")  # screener_a excluded this one: a conflict
    b.wait_for_function(
        "t => document.querySelector('#record-title').textContent.includes(t)", arg=TITLES[2]
    )
    # Back to the conflicting record with the left arrow: now both votes show.
    b.keyboard.press("ArrowLeft")
    b.wait_for_function(
        "t => document.querySelector('#record-title').textContent.includes(t)", arg=TITLES[1]
    )
    assert b.inner_text("#screen-record .badge.failed") == "In conflict"
    assert "screener_a" in b.inner_text("#screen-record")
    b.keyboard.press("ArrowRight")
    b.wait_for_function(
        "t => document.querySelector('#record-title').textContent.includes(t)", arg=TITLES[2]
    )
    press_and_wait_for(b, "i", done)
    conflict = ScreeningItem.objects.get(record=records[1], stage="ta")
    assert conflict.status == "conflict"

    # Agreement is on the dashboard; PRISMA shows the conflict as still pending.
    b.goto(f"{live_server.url}/reviews/{review.pk}/")
    b.locator("#screening-summary .agreement").wait_for()
    assert "screener_a · screener_b" in b.inner_text("#screening-summary .agreement")
    kappa_before = b.inner_text("#screening-summary .agreement td.kappa")
    b.goto(f"{live_server.url}/reviews/{review.pk}/prisma/")
    assert b.inner_text("[data-box=records_excluded]") == "0"
    assert "1 record awaits" in b.inner_text("#prisma-pending")

    context_c, c = log_in(browser, live_server, "arbiter")
    c.goto(f"{live_server.url}/reviews/{review.pk}/screening/ta/conflicts/")
    card = c.locator(f"#conflict-{records[1].pk}")
    assert card.locator(".vote").count() == 2
    card.locator("input[name=note]").fill("Group format, not one-to-one")
    card.locator("button[data-key=exclude]").click()
    card.filter(has_text="Resolved as exclude").wait_for()
    c.reload()  # resolved in place; the list, loaded again, has no open conflict left
    assert c.locator("#no-conflicts").is_visible()

    b.goto(f"{live_server.url}/reviews/{review.pk}/prisma/")
    assert b.inner_text("[data-box=records_excluded]") == "1"
    assert b.inner_text("[data-box=reports_sought]") == "2"
    assert b.locator("#prisma-diagram svg").is_visible()
    # Every record has its title/abstract outcome; the two included await their full texts.
    assert b.inner_text("#prisma-pending").endswith(
        "2 reports await retrieval or a full-text decision. "
        "The boxes add up once every record has its decision."
    )
    with b.expect_download() as download:
        b.click("#download-png")
    assert download.value.suggested_filename.endswith(".png")
    # The votes before resolution feed kappa: it is unchanged by the resolution, and shown.
    b.goto(f"{live_server.url}/reviews/{review.pk}/screening/")
    assert b.inner_text("#agreement td.kappa") == kappa_before
    assert b.inner_text("#agreement").count("screener_a · screener_b") == 1
    for context in (context_a, context_b, context_c):
        context.close()
