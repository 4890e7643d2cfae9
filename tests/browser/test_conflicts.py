"""Issue 11, conflict resolution, as the arbiter works: three conflicts resolved and one
reopened by keyboard alone, in place, without a page load."""

import pytest

from screening.models import ScreeningItem, Stage
from screening.services_screening import decision_record, stage_settings_update
from tests.browser.test_rob import _log_in
from tests.factories import RecordFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TA = Stage.TITLE_ABSTRACT


def test_the_arbiter_resolves_and_reopens_conflicts_by_keyboard(
    live_server, page, review, lead, screener_a, screener_b, arbiter
):
    stage_settings_update(
        review=review,
        stage=TA,
        reviewers_required=2,
        blind=True,
        exclusion_reasons=["Wrong population", "Wrong design"],
    )
    records = [RecordFactory(review=review, title=f"Trial {n}") for n in range(3)]
    for record in records:
        decision_record(record=record, stage=TA, reviewer=screener_a, verdict="include")
        decision_record(record=record, stage=TA, reviewer=screener_b, verdict="exclude")

    _log_in(page, live_server, "arbiter")
    page.goto(f"{live_server.url}/reviews/{review.pk}/screening/ta/conflicts/")
    page.evaluate("() => { window.__sameDocument = true; }")
    first, second, third = (page.locator(f"#conflict-{r.pk}") for r in records)

    page.keyboard.press("i")
    first.filter(has_text="Resolved as").wait_for()
    page.keyboard.press("2")
    page.keyboard.press("e")
    second.filter(has_text="Resolved as").wait_for()
    page.keyboard.press("n")
    page.keyboard.type("both arms eligible")
    page.keyboard.press("Escape")
    page.keyboard.press("i")
    third.filter(has_text="Resolved as").wait_for()

    items = {i.record_id: i for i in ScreeningItem.objects.filter(stage=TA)}
    assert items[records[0].pk].final_verdict == "include"
    assert (items[records[1].pk].final_verdict, items[records[1].pk].final_reason) == (
        "exclude",
        "Wrong design",
    )
    assert items[records[2].pk].resolution_note == "both arms eligible"

    # A resolved card says so at a glance: a badge in its heading and a settled colour.
    for card, verdict in ((first, "Include"), (second, "Exclude"), (third, "Include")):
        badge = card.locator("h2 .badge.resolved")
        assert badge.is_visible() and badge.inner_text() == f"Resolved: {verdict}"

    page.keyboard.press("k")
    page.keyboard.press("r")
    page.keyboard.type("the second reviewer's note was about another trial")
    page.keyboard.press("Enter")
    second.locator("[data-key=include]").wait_for()
    assert ScreeningItem.objects.get(record=records[1], stage=TA).status == "conflict"
    # Reopened, the card loses its badge and takes the open conflict's colour again.
    assert second.locator(".badge.resolved").count() == 0
    settled, reopened = page.evaluate(
        "(ids) => ids.map((id) => getComputedStyle(document.getElementById(id)).borderTopColor)",
        [f"conflict-{records[0].pk}", f"conflict-{records[1].pk}"],
    )
    assert settled != reopened
    assert page.evaluate("() => window.__sameDocument") is True  # never reloaded
