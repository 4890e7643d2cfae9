"""Every page of a populated review, opened in Chromium as its lead and as a reviewer, under the
enforced Content-Security-Policy: no violation and no script error on any of them (the watch in
conftest.py fails the test on either), plots drawn, and the behaviour that moved from inline
script to static files still works."""

import re
import time

import pytest

from analysis.models import Analysis
from extraction.models import FormSection
from screening.models import Decision, DedupAction, Record
from tests.csp_pages import html_responses
from tests.factories import RecordFactory
from tests.populated import populate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Pages whose static script draws plotly figures from JSON blocks in the page.
FIGURE_SOURCES = "script[data-figure], [data-ranking-figure], #traffic-light-data"


@pytest.fixture
def populated():
    return populate("csp")


@pytest.fixture
def log_in(browser, live_server):
    """Log a user in, in a context of their own; the contexts close before the database is
    flushed, so no page is still polling the server while it is."""
    contexts = []

    def log_in(user):
        context = browser.new_context(accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", "pass-word-123")
        page.press("#id_password", "Enter")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    yield log_in
    for context in contexts:
        context.close()


def _walk(page, base, urls):
    """Open each page; where it embeds figures, wait until plotly has drawn one."""
    drawn = 0
    for url in urls:
        response = page.goto(base + url)
        assert response is not None and response.ok, url
        assert "script-src 'self'" in response.headers["content-security-policy"], url
        # (An htmx fragment opened on its own has the figure's data but not the page's scripts.)
        if page.locator(FIGURE_SOURCES).count() and page.evaluate("() => !!window.Plotly"):
            try:
                page.wait_for_selector(".js-plotly-plot .main-svg", state="attached")
            except Exception as exc:
                raise AssertionError(f"no figure drawn on {url}") from exc
            drawn += 1
    return drawn


def test_every_page_keeps_to_the_policy_for_the_lead_and_a_reviewer(
    browser, live_server, log_in, client, populated
):
    lead_pages = [url for url, _ in html_responses(client, populated, populated.lead)]
    reviewer_pages = [url for url, _ in html_responses(client, populated, populated.reviewer_a)]
    assert len(lead_pages) >= 40 and len(reviewer_pages) >= 25
    for wanted in ("/screening/", "/library/", "/duplicates/", "/imports/", "/prisma/",
                   "/team/", "/settings/", "/dashboard/", "/analyses/", "/extraction/",
                   "/rob/", "/full-texts/", "/conflicts/", "/screen/"):  # fmt: skip
        assert any(wanted in url for url in lead_pages), wanted

    drawn = _walk(log_in(populated.lead), live_server.url, lead_pages)
    assert drawn >= 3  # the analysis, the dashboard, the ranking dashboard at least
    _walk(log_in(populated.reviewer_a), live_server.url, reviewer_pages)
    # The autouse watch (conftest.py) now fails the test on any violation or script error.


def test_the_watch_catches_a_violation(browser, live_server, log_in, populated):
    """An inline script added to a page is blocked and reported: the walk above can fail."""
    page = log_in(populated.lead)
    page.goto(f"{live_server.url}/reviews/{populated.review.pk}/")
    page.evaluate(
        """() => {
        const s = document.createElement("script");
        s.textContent = "window.ran = true";
        document.body.appendChild(s);
        document.body.setAttribute("style", "color: red");
    }"""
    )
    page.wait_for_function("() => true")
    assert page.evaluate("window.ran") is None
    page.wait_for_timeout(200)
    problems = list(browser.problems)
    browser.problems.clear()
    assert any("script-src" in p for p in problems), problems
    assert any("style-src" in p for p in problems), problems


def test_moved_screening_behaviour_still_works(browser, live_server, log_in, populated):
    review, base = populated.review, live_server.url
    lead = log_in(populated.lead)

    # Library: "/" focuses the search box, and typing searches (htmx) without a reload.
    RecordFactory(review=review, title="Zoster vaccine in older adults: a randomised trial")
    lead.goto(f"{base}/reviews/{review.pk}/library/")
    lead.keyboard.press("/")
    assert lead.evaluate("document.activeElement.id") == "q"
    lead.keyboard.type("Zoster")
    lead.wait_for_function(
        "() => document.querySelector('#results').textContent.includes('Zoster vaccine')"
    )

    # Duplicates: the merge form posts to the record typed in; "u" undoes the merge.
    first, second = RecordFactory.create_batch(2, review=review)
    lead.goto(f"{base}/reviews/{review.pk}/duplicates/")
    lead.click("details:has(#merge-form) > summary")
    lead.fill("#merge-record", str(second.pk))
    lead.fill("#merge-other", str(first.pk))
    with lead.expect_navigation():
        lead.click("#merge-form button[type=submit]")
    second.refresh_from_db()
    assert second.duplicate_of_id == first.pk
    lead.wait_for_selector("#undo")
    with lead.expect_navigation():
        lead.keyboard.press("u")
    _wait_until(lambda: Record.objects.get(pk=second.pk).duplicate_of_id is None)
    assert DedupAction.objects.filter(record=second, undone_at__isnull=False).exists()

    # PRISMA: the PNG is drawn in the page and downloaded under the review's name.
    lead.goto(f"{base}/reviews/{review.pk}/prisma/")
    with lead.expect_download() as download:
        lead.click("#download-png")
    assert download.value.suggested_filename == f"prisma-review-{review.pk}.png"

    # Screening with the keyboard: "?" shows the help, "i" includes the record shown.
    reviewer = log_in(populated.reviewer_a)
    reviewer.goto(f"{base}/reviews/{review.pk}/screening/ta/screen/")
    reviewer.keyboard.press("?")
    assert reviewer.locator("#help-overlay").is_visible()
    reviewer.keyboard.press("Escape")
    shown = reviewer.inner_text("#record-title")
    reviewer.keyboard.press("i")
    _wait_until(
        lambda: Decision.objects.filter(
            reviewer=populated.reviewer_a, record__title=shown, verdict="include"
        ).exists()
    )


def test_moved_extraction_and_analysis_behaviour_still_works(
    browser, live_server, log_in, populated
):
    review, base, ids = populated.review, live_server.url, populated.ids
    lead = log_in(populated.lead)

    # The form builder removes a section at once and offers Undo (builder.js), which brings
    # it back.
    lead.goto(f"{base}/reviews/{review.pk}/extraction/forms/{ids['form_pk']}/")
    asked: list[str] = []
    lead.click(f"#section-{ids['section_pk']} button[value=remove]")
    lead.get_by_role("button", name="Undo").click()
    lead.locator(f"#section-{ids['section_pk']}").wait_for()
    assert FormSection.objects.filter(pk=ids["section_pk"]).exists()

    # The analysis: the forest plot is drawn, tabs switch to the funnel plot, sorting redraws.
    lead.goto(f"{base}/reviews/{review.pk}/analyses/{ids['analysis_pk']}/")
    lead.wait_for_selector("#fig-forest .main-svg", state="attached")
    # Rich text (the bold headers) survives the policy: plotly-csp.js routes its styles to CSSOM.
    bold = (
        "() => [...document.querySelectorAll('#fig-forest tspan')]"
        ".filter((t) => getComputedStyle(t).fontWeight === '700').length"
    )
    assert lead.evaluate(bold) >= 3
    lead.click("[data-tab=funnel]")
    assert lead.locator("[data-panel=funnel]").is_visible()
    lead.wait_for_selector("#fig-funnel .main-svg", state="attached")
    assert not lead.locator("[data-panel=forest]").is_visible()
    lead.keyboard.press("1")
    assert lead.locator("[data-panel=forest]").is_visible()
    options = lead.locator("select[name=sort] option").all_inner_texts()
    with lead.expect_response(re.compile(r"/result/")):
        lead.select_option("select[name=sort]", options[-1])
    lead.wait_for_selector("#fig-forest .main-svg", state="attached")

    # Deleting asks first; dismissing keeps the analysis.
    lead.click("#settings summary")
    asked.clear()
    lead.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    lead.click("button:has-text('Delete analysis')")
    assert asked == ["Delete this analysis and its results?"]
    assert Analysis.objects.filter(pk=ids["analysis_pk"]).exists()

    # The dashboard draws its forest plots.
    lead.goto(f"{base}/reviews/{review.pk}/dashboard/")
    lead.wait_for_selector("[id^=dash-forest-] .main-svg", state="attached")


def _wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_the_api_docs_browsable_api_and_admin_login_keep_to_the_policy(
    browser, live_server, log_in, populated
):
    page = log_in(populated.lead)
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", state="attached")
    page.goto(f"{live_server.url}/api/reviews/{populated.review.pk}/")
    page.wait_for_selector(".response-info", state="attached")
    page.goto(f"{live_server.url}/admin/")
    page.wait_for_selector("#login-form, #content", state="attached")
    # The autouse watch (conftest.py) fails the test on any violation or script error.


def test_a_full_text_pdf_opens_in_the_browsers_viewer_under_the_policy(
    browser, live_server, log_in, populated
):
    """Full texts open in their own tab; the policy on the PDF (object-src and frame-src 'none')
    must not stop Chromium's PDF viewer, which older Chromium versions hosted in an <embed>."""
    page = log_in(populated.lead)
    record = populated.ids["fulltext_record_pk"]
    url = f"/reviews/{populated.review.pk}/screening/full-texts/{record}/pdf/"
    served = page.request.get(live_server.url + url)  # the answer as sent, with the session
    assert served.headers["content-type"] == "application/pdf"
    assert "object-src 'none'" in served.headers["content-security-policy"]
    page.goto(live_server.url + url)
    # The viewer starts in frames of its own; a policy that blocked it would be reported to the
    # watch (conftest.py), which fails the test.
    for _ in range(100):  # Playwright's own wait, so its frame events are processed
        if any(f.url.startswith("chrome-extension://") for f in page.frames):
            break
        page.wait_for_timeout(100)
    assert any(f.url.startswith("chrome-extension://") for f in page.frames), page.frames
    page.wait_for_timeout(500)
