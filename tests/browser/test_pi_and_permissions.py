"""Issue 11, roles and errors, as the PI (a viewer) works: in blind mode the dashboard lists the
two people who screen with their counts, not the PI, the lead or the arbiter; an action that
needs the lead answers with a page inside the app that names the role and the leads and leads
back to the review. Both pages pass axe-core."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from screening.models import Stage
from screening.services_screening import decision_record, stage_settings_update
from tests.browser.test_rob import _log_in
from tests.factories import RecordFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TA = Stage.TITLE_ABSTRACT
ROWS = """() => Array.from(document.querySelector("#dash-screening table").tBodies[0].rows)
  .map((tr) => Array.from(tr.cells).slice(0, 2).map((td) => td.textContent.trim()))"""


def _severe(page):
    return [
        f"{v['id']} ({v['impact']})"
        for v in Axe().run(page).response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def test_the_pi_follows_progress_blind_and_is_told_who_can_change_a_setting(
    live_server, page, review, lead, screener_a, screener_b, arbiter, viewer
):
    stage_settings_update(
        review=review,
        stage=TA,
        reviewers_required=2,
        blind=True,
        exclusion_reasons=["Wrong design"],
    )
    first, second = RecordFactory(review=review), RecordFactory(review=review)
    decision_record(record=first, stage=TA, reviewer=screener_a, verdict="include")
    decision_record(record=first, stage=TA, reviewer=screener_b, verdict="include")
    decision_record(record=second, stage=TA, reviewer=screener_a, verdict="exclude")

    _log_in(page, live_server, "viewer")
    page.goto(f"{live_server.url}/reviews/{review.pk}/dashboard/")
    page.locator("#dash-screening table").first.wait_for()
    # Only the two who screen, with their counts: not the PI, the lead or the arbiter.
    assert page.evaluate(ROWS) == [["screener_a", "2"], ["screener_b", "1"]]
    assert _severe(page) == []

    response = page.goto(f"{live_server.url}/reviews/{review.pk}/settings/")
    assert response is not None and response.status == 403
    body = (
        page.locator("main").inner_text()
        if page.locator("main").count()
        else page.inner_text("body")
    )
    assert "needs the Lead role" in body and lead.email in body
    assert page.locator("header, .top").first.is_visible()  # inside the app, with navigation
    assert _severe(page) == []
    page.get_by_role("link", name="Back to the review").click()
    page.wait_for_url(f"{live_server.url}/reviews/{review.pk}/")
