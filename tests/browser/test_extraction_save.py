"""Saving an extraction, as the extractor meets it (issue 11: no full-page reload for routine
actions): Ctrl+S saves in place, the page stays where it was with what was typed, a refused
save says what to fix beside the inputs, and a save after someone else's says so in place."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from extraction import services
from tests.browser.test_extraction import login
from tests.browser.test_extraction_plausibility import fill_arms_and_rows
from tests.extraction.conftest import build_use_case_form
from tests.factories import include_study

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def entry(live_server, review, lead):
    """The entry page of one included study on the use case's form."""
    form = build_use_case_form(review, lead)
    services.outcome_save(
        review=review, name="Quality of life", outcome_type="continuous", scale_min=0, scale_max=10
    )
    study = include_study(review, "Chinman 2015")
    return f"{live_server.url}/reviews/{review.pk}/extraction/forms/{form.pk}/studies/{study.pk}/"


def mark_the_page(page):
    """A marker that only survives if the page is never loaded again, and a count of the
    main frame's navigations."""
    page.evaluate("() => { window.entryMarker = 'still here'; }")
    loads = []
    page.on(
        "framenavigated",
        lambda frame: loads.append(frame.url) if frame == page.main_frame else None,
    )
    return loads


def marker(page):
    return page.evaluate("() => window.entryMarker")


def version(page):
    return page.input_value("#entry-form input[name=version]")


def severe_axe_violations(page):
    """axe-core's serious and critical findings on the page as it is now."""
    found = Axe().run(page).response["violations"]
    return [
        f"{v['id']}: {v['help']} at {[n['html'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def wait_for_version(page, expected):
    page.wait_for_function(
        "v => document.querySelector('#entry-form input[name=version]').value === v",
        arg=str(expected),
    )


def test_ctrl_s_saves_in_place_and_the_version_changes_with_no_page_load(
    browser, live_server, entry
):
    page = login(browser, live_server, "lead")
    page.goto(entry)
    loads = mark_the_page(page)
    page.select_option("#a-design", "Cluster randomised")
    page.check("input[name=a__peer_training][value=yes]")
    page.check("input[name=a__peer_supervision][value=yes]")
    page.locator(".outcome-block").first.locator("button.add-outcome-row").click()
    fill_arms_and_rows(page, [("Peer support", 5, 1, 60), ("Usual care", 5, 1, 55)])
    page.fill("#a-training_hours", "12")
    page.evaluate("() => window.scrollTo(0, 400)")
    where = page.locator("#a-training_hours").bounding_box()
    assert version(page) == "0"

    page.keyboard.press("Control+s")
    wait_for_version(page, 1)
    message = page.locator("#entry-result #saved-message")
    assert message.inner_text() == "Chinman 2015: saved as in progress (version 1)."
    assert page.locator("#entry-result").get_attribute("aria-live") == "polite"
    assert "version 1, in progress" in page.locator("#record-meta").inner_text()
    assert page.locator("#a-org_support").inner_text() == "higher"
    # Same page, same place: no navigation, the focus still in the input typed last.
    assert page.url == entry and marker(page) == "still here" and loads == []
    assert page.evaluate("() => document.activeElement.id") == "a-training_hours"
    # The message appears above; the input typed in stays where it was on the screen.
    assert page.locator("#a-training_hours").bounding_box()["y"] == pytest.approx(where["y"], abs=1)

    page.fill("#a-training_hours", "14")
    page.keyboard.press("Control+s")
    wait_for_version(page, 2)
    assert message.inner_text() == "Chinman 2015: saved as in progress (version 2)."
    assert marker(page) == "still here" and loads == []


def test_a_refused_save_keeps_every_typed_value_and_shows_the_errors_beside_them(
    browser, live_server, entry
):
    page = login(browser, live_server, "lead")
    page.goto(entry)
    loads = mark_the_page(page)
    page.check("input[name=a__peer_training][value=yes]")
    page.check("input[name=a__peer_supervision][value=yes]")
    page.locator(".outcome-block").first.locator("button.add-outcome-row").click()
    fill_arms_and_rows(page, [("Peer support", 5, -1, 60), ("Usual care", 5, 1, 55)])

    page.keyboard.press("Control+s")
    page.locator("#failed").wait_for()
    assert "nothing was saved" in page.locator("#failed").inner_text()
    row = page.locator(".outcome-block tr.outcome-row").nth(0)
    assert row.locator("[name$='__sd']").get_attribute("aria-invalid") == "true"
    assert "SD must be greater than 0" in row.locator("xpath=following-sibling::tr[1]").inner_text()
    # Everything as typed, no extra blank arm, the derived value kept, the same page.
    assert row.locator("[name$='__sd']").input_value() == "-1"
    assert page.locator("#arms input[type=text]").evaluate_all("els => els.map(e => e.value)") == [
        "Peer support",
        "Usual care",
    ]
    assert page.locator("#a-org_support").inner_text() == "higher"
    assert version(page) == "0" and marker(page) == "still here" and loads == []
    assert severe_axe_violations(page) == []

    # Fixed and saved again: the error goes, the save is taken.
    row.locator("[name$='__sd']").fill("1")
    page.keyboard.press("Control+s")
    wait_for_version(page, 1)
    assert page.locator("#failed").count() == 0
    assert page.locator(".outcome-block tr.row-messages").count() == 0
    assert row.locator("[name$='__sd']").get_attribute("aria-invalid") is None


def test_a_save_after_someone_elses_says_so_in_place_and_keeps_what_was_typed(
    browser, live_server, entry, screener_a
):
    mine = login(browser, live_server, "lead")
    mine.goto(entry)
    loads = mark_the_page(mine)
    theirs = login(browser, live_server, "screener_a")
    theirs.goto(entry)
    theirs.select_option("#a-design", "Individually randomised")
    theirs.keyboard.press("Control+s")
    wait_for_version(theirs, 1)

    mine.select_option("#a-design", "Cluster randomised")
    mine.fill("#a-training_hours", "12")
    mine.keyboard.press("Control+s")
    conflict = mine.locator("#conflict")
    conflict.wait_for()
    assert "Not saved: someone else saved first" in conflict.inner_text()
    assert "screener_a saved this record while you were editing it" in conflict.inner_text()
    assert conflict.locator("td.yours", has_text="Cluster randomised").count() == 1
    assert conflict.locator("#reload-saved").is_visible()
    assert mine.input_value("#a-design") == "Cluster randomised"
    assert mine.input_value("#a-training_hours") == "12"
    assert marker(mine) == "still here" and loads == []
    assert severe_axe_violations(mine) == []

    # Saving again, knowingly, replaces their version with this one.
    mine.keyboard.press("Control+s")
    wait_for_version(mine, 2)
    assert mine.locator("#conflict").count() == 0
