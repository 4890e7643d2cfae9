"""Plausibility in extraction, as the extractor meets it (issue 11): a refused save keeps the page
as it was typed, and an implausible number is saved with a readable warning under its input."""

import pytest

from extraction import services
from tests.browser.test_extraction import login
from tests.extraction.conftest import build_use_case_form
from tests.factories import include_study

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def entry(live_server, review, lead):
    form = build_use_case_form(review, lead)
    services.outcome_save(
        review=review,
        name="Quality of life",
        outcome_type="continuous",
        scale_min=0,
        scale_max=10,
    )
    study = include_study(review, "Chinman 2015")
    return f"{live_server.url}/reviews/{review.pk}/extraction/forms/{form.pk}/studies/{study.pk}/"


def fill_arms_and_rows(page, rows):
    page.fill("[name=arm__0__label]", "Peer support")
    page.select_option("[name=arm__0__role]", "intervention")
    page.click("#add-arm")
    page.fill("[name=arm__1__label]", "Usual care")
    page.select_option("[name=arm__1__role]", "control")
    block = page.locator(".outcome-block").first
    for i, (arm, mean, sd, n) in enumerate(rows):
        row = block.locator("tr.outcome-row").nth(i)
        row.locator("[name$='__timepoint']").fill("12 months")
        row.locator("[name$='__timepoint_weeks']").fill("52")
        row.locator("[name$='__arm']").fill(arm)
        row.locator("[name$='__mean']").fill(str(mean))
        row.locator("[name$='__sd']").fill(str(sd))
        row.locator("[name$='__n']").fill(str(n))


def test_a_refused_save_keeps_the_derived_value_and_the_arms_as_typed(browser, live_server, entry):
    page = login(browser, live_server, "lead")
    page.goto(entry)
    page.check("input[name=a__peer_training][value=yes]")
    page.check("input[name=a__peer_supervision][value=yes]")
    page.locator("#a-org_support", has_text="higher").wait_for()
    page.locator(".outcome-block").first.locator("button.add-outcome-row").click()
    fill_arms_and_rows(page, [("Peer support", 5, -1, 60), ("Usual care", 5, 1, 55)])
    page.keyboard.press("Control+s")
    page.locator("#failed").wait_for()
    # The seen finding: "—" in the derived field and one more blank arm after the refusal. The
    # save is refused in place, so the page keeps exactly the arms typed.
    assert page.locator("#a-org_support").inner_text() == "higher"
    arm_inputs = page.locator("#arms input[type=text]")
    assert [arm_inputs.nth(i).input_value() for i in range(arm_inputs.count())] == [
        "Peer support",
        "Usual care",
    ]
    assert page.locator("input[name=a__peer_training][value=yes]").is_checked()
    # The refusal's message is readable: a line under the row, not a column of wrapped words.
    message = page.locator(".outcome-block tr.row-messages", has_text="SD must be greater than 0")
    box = message.bounding_box()
    assert box is not None and box["width"] > 400


def test_an_implausible_n_is_saved_with_a_warning_under_its_input(browser, live_server, entry):
    page = login(browser, live_server, "lead")
    page.goto(entry)
    page.fill("#a-n_randomised", "99999999999")
    page.locator(".outcome-block").first.locator("button.add-outcome-row").click()
    fill_arms_and_rows(page, [("Peer support", 8, 6, 60), ("Usual care", 5, 1, 55)])
    page.keyboard.press("Control+s")
    page.get_by_text("saved as in progress (version 1)").wait_for()
    warning = page.locator("#f-n_randomised .warninglist")
    assert "more people than any trial has randomised" in warning.inner_text()
    assert "the arms add up to only 115" in warning.inner_text()
    box = warning.bounding_box()
    assert box is not None and box["width"] > 400
    sd_warning = page.locator(".outcome-block tr.row-messages .warninglist")
    assert "SD 6 is larger than the scale runs from 0 to 10 allows" in sd_warning.inner_text()
    assert page.locator(".outcome-block tr.outcome-row [name$='__sd'].warn").count() == 1
