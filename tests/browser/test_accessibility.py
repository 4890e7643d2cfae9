"""Issue 11, accessibility: every page of a populated review passes axe-core's checks with no
serious or critical violation, for the lead and for a reviewer (axe-playwright-python)."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.csp_pages import html_responses
from tests.populated import populate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEVERE = {"serious", "critical"}


@pytest.fixture
def populated():
    return populate("axe")


def _pages(client, populated, user):
    """Whole pages: htmx fragments (a dashboard body, a result) are checked inside their page."""
    return [
        url
        for url, response in html_responses(client, populated, user)
        if b"<html" in response.content[:500].lower()
    ]


def _violations(browser, live_server, user, urls):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pass-word-123")
    page.press("#id_password", "Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    axe, found = Axe(), []
    for url in urls:
        response = page.goto(live_server.url + url)
        assert response is not None and response.ok, url
        page.wait_for_load_state("networkidle")
        for v in axe.run(page).response["violations"]:
            if v["impact"] in SEVERE:
                targets = [" ".join(n["target"]) for n in v["nodes"]][:3]
                found.append(f"{url}: {v['id']} ({v['impact']}) {v['help']} at {targets}")
    context.close()
    return found


def test_every_page_passes_axe_for_the_lead_and_a_reviewer(browser, live_server, client, populated):
    lead_pages = _pages(client, populated, populated.lead)
    reviewer_pages = _pages(client, populated, populated.reviewer_a)
    assert len(lead_pages) >= 40 and len(reviewer_pages) >= 25
    problems = _violations(browser, live_server, populated.lead, lead_pages)
    problems += _violations(browser, live_server, populated.reviewer_a, reviewer_pages)
    assert problems == [], "\n".join(problems)
