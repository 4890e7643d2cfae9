"""In Chromium: a reviewer skips with the keyboard and closing the page gives the record back;
the lead's ranking card draws its plotly figures from JSON data, with no inline script."""

import time

import pytest

from screening import services_ranking
from screening.models import ScreeningLease, StageSettings
from screening.services_screening import decision_record, stage_settings_update
from tests.browser.test_screening import log_in
from tests.factories import RecordFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _cache_dir(settings, tmp_path):
    settings.RANKING_CACHE_DIR = str(tmp_path / "ranking-cache")


def wait_until(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_skip_with_s_and_closing_the_page_releases_the_record(
    browser, live_server, review, screener_a
):
    stage_settings_update(
        review=review,
        stage="ta",
        reviewers_required=1,
        blind=True,
        exclusion_reasons=[],
        order=StageSettings.Order.IMPORT,
    )
    records = [RecordFactory(review=review, title=f"Peer support trial {n}") for n in range(3)]
    context, page = log_in(browser, live_server, "screener_a")
    page.goto(f"{live_server.url}/reviews/{review.pk}/screening/ta/screen/")
    assert page.inner_text("#record-title") == records[0].title
    page.keyboard.press("s")
    page.wait_for_function(
        "t => document.querySelector('#record-title').textContent.includes(t)",
        arg=records[1].title,
    )
    assert "Skipped record" in page.inner_text(".notice")
    assert ScreeningLease.objects.filter(record=records[1], skipped=False).exists()
    page.goto(f"{live_server.url}/reviews/{review.pk}/screening/")  # pagehide: sendBeacon
    assert wait_until(
        lambda: not ScreeningLease.objects.filter(record=records[1], skipped=False).exists()
    )
    context.close()


def test_the_lead_sees_the_ranking_figures_drawn(
    browser, live_server, review, lead, screener_a, screener_b
):
    stage_settings_update(
        review=review, stage="ta", reviewers_required=1, blind=True, exclusion_reasons=[]
    )
    on = [RecordFactory(review=review, abstract="peer support mental health") for _ in range(4)]
    off = [RecordFactory(review=review, abstract="coronary stent registry") for _ in range(8)]
    decision_record(record=on[0], stage="ta", reviewer=screener_a, verdict="include")
    decision_record(record=off[0], stage="ta", reviewer=screener_a, verdict="exclude")
    services_ranking.ranking_train(review_id=review.pk, stage="ta")
    context, page = log_in(browser, live_server, "lead")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/reviews/{review.pk}/screening/")
    page.wait_for_selector("#curve-ta .main-svg")
    page.wait_for_selector("#histogram-ta .main-svg")
    assert "Up to date" in page.inner_text("#ranking-state-ta")
    assert page.inner_text("#consecutive-ta") == "1"
    assert errors == []
    context.close()
