"""The analysis page, opened from the analyses list, draws the forest plot at once and the
other figures when their tab is opened (by click or by its number key), on a desktop
(1280x720) and on a phone (390x844): each fits or scrolls inside its own box."""

import pytest

from analysis import services
from tests.analysis.conftest import (  # noqa: F401 -- eager is imported to register the fixture
    eager,
    include_study,
    save_continuous,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("eager"),  # the analysis is computed in-process
]

VIEWPORTS = {"desktop": (1280, 720), "phone": (390, 844)}
STUDIES = {
    "Chinman 2015": ((10.2, 3.1, 40), (9.1, 3.3, 42)),
    "Gillard 2015": ((8.2, 2.9, 30), (8.9, 3.0, 31)),
    "Rogers 2016": ((11.0, 4.0, 100), (10.0, 4.1, 98)),
}
DRAWN = "(id) => document.getElementById(id)?.data?.length > 0"
BOX = """(id) => {
  const box = document.getElementById(id);
  return [box.querySelector("svg.main-svg").getBoundingClientRect().width, box.clientWidth,
          box.scrollWidth, getComputedStyle(box).overflowX];
}"""


@pytest.fixture
def analysis(review, lead, sheet, outcome):
    for label, (treated, control) in STUDIES.items():
        study = include_study(review, label, int(label[-4:]))
        save_continuous(sheet, study, lead, outcome, treated, control)
    return services.analysis_create(review=review, outcome=outcome, created_by=lead)


def _fits_or_scrolls_inside(page, figure_id):
    svg, box, scroll, overflow = page.evaluate(BOX, figure_id)
    assert svg <= box + 1 or (overflow == "auto" and scroll > box), (figure_id, svg, box)


@pytest.mark.parametrize("screen", VIEWPORTS)
def test_the_forest_plot_draws_first_and_other_figures_when_their_tab_opens(
    live_server, browser, review, analysis, screen
):
    width, height = VIEWPORTS[screen]
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", "pass-word-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/reviews/{review.pk}/analyses/")
    page.click(f"a[href$='/analyses/{analysis.pk}/']")
    page.wait_for_function(DRAWN, arg="fig-forest")
    squares = "() => document.getElementById('fig-forest').data.find(t => t.name === 'Studies').x"
    assert len(page.evaluate(squares)) == len(STUDIES)
    _fits_or_scrolls_inside(page, "fig-forest")
    # The figures in hidden tabs wait for their tab.
    assert page.locator("#fig-funnel .main-svg").count() == 0
    assert page.locator("#fig-leave-one-out .main-svg").count() == 0

    page.click("[data-tab=funnel]")
    page.wait_for_function(DRAWN, arg="fig-funnel")
    assert page.locator("#fig-funnel").is_visible() and not page.locator("#fig-forest").is_visible()
    _fits_or_scrolls_inside(page, "fig-funnel")
    page.keyboard.press("3")
    page.wait_for_function(DRAWN, arg="fig-leave-one-out")
    _fits_or_scrolls_inside(page, "fig-leave-one-out")
    # Back to the forest plot: drawn already, shown again as it was.
    page.keyboard.press("1")
    assert page.locator("#fig-forest .main-svg").first.is_visible()
    _fits_or_scrolls_inside(page, "fig-forest")
