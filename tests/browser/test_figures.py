"""The figures read well on a desktop (1280x720) and on a phone (390x844): the risk-of-bias
figures on the dashboard and on the RoB summary fit their boxes with every legend item and axis
label inside the drawing and bars tall enough to read; the forest plot either fits or scrolls
inside its own box, never the page."""

import os
from pathlib import Path

import pytest

from analysis import services as analysis_services
from extraction.rob import services as rob
from tests.analysis.conftest import (  # noqa: F401 -- eager is imported to register the fixture
    eager,
    include_study,
    save_continuous,
)
from tests.extraction.rob.conftest import ROB2_ANSWERS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("eager"),  # the analysis is computed in-process
]

VIEWPORTS = {"desktop": (1280, 720), "phone": (390, 844)}
STUDIES = {
    "Chinman 2015": ((10.2, 3.1, 40), (9.1, 3.3, 42)),
    "Gillard 2015": ((8.2, 2.9, 30), (8.9, 3.0, 31)),
    "Peer Support Collaborative Trial Group 2016": ((11.0, 4.0, 100), (10.0, 4.1, 98)),
}
# Half the studies were not blinded and analysed per protocol: D2 high for them.
UNBLINDED = {"2.1": "Y", "2.2": "Y", "2.3": "PY", "2.4": "N", "2.5": "PN", "2.6": "N", "2.7": "Y"}

# Where each drawn piece of a plotly figure lies against the figure's own drawing.
MEASURE = """(selector) => {
  const box = document.querySelector(selector);
  const svg = box.querySelector("svg.main-svg").getBoundingClientRect();
  const inside = (r) => r.left >= svg.left - 1 && r.right <= svg.right + 1
    && r.top >= svg.top - 1 && r.bottom <= svg.bottom + 1;
  const parts = (query) => Array.from(box.querySelectorAll(query))
    .map((e) => ({ text: e.textContent, rect: e.getBoundingClientRect() }))
    .filter((p) => p.rect.width > 0 && p.rect.height > 0)
    .map((p) => ({ text: p.text, inside: inside(p.rect),
      at: [p.rect.left, p.rect.top, p.rect.right, p.rect.bottom].map(Math.round).join(" ") }));
  return {
    box: box.clientWidth,
    scroll: box.scrollWidth,
    overflow: getComputedStyle(box).overflowX,
    svg: svg.width,
    plot: box.querySelector(".nsewdrag").getBoundingClientRect().width,
    legend: parts(".legend .traces"),
    labels: parts(".xtick text, .ytick text, .g-xtitle text, .g-ytitle text, .gtitle, "
      + ".annotation-text"),
    bars: Array.from(box.querySelectorAll(".bars .point path"))
      .map((e) => e.getBoundingClientRect())
      .filter((r) => r.width > 0)
      .map((r) => r.height),
  };
}"""
PAGE_WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"
# The elements that reach past the window's right edge, outermost first (to name the culprit).
TOO_WIDE = """() => Array.from(document.querySelectorAll("body *"))
  .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 6).map((e) => e.tagName + "#" + e.id + "." + e.className)"""


def _log_in(page, base):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", "pass-word-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def _shot(page, name):
    directory = os.environ.get("SCREENSHOT_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(directory) / f"{name}.png"), full_page=True)


def _assert_readable(page, selector, *, bars=True, scrolls=False):
    page.locator(f"{selector} .main-svg").first.wait_for()
    m = page.evaluate(MEASURE, selector)
    # A traffic light too wide for a phone scrolls inside its own box (tests/browser/
    # test_rob_traffic_lights.py); every other figure fits.
    fits = m["svg"] <= m["box"] + 1
    assert fits or (scrolls and m["overflow"] == "auto"), f"{selector}: wider than its box"
    # Labels and legend leave the data most of the width, never squashing it.
    assert m["plot"] >= 0.4 * m["svg"], f"{selector}: plot area {m['plot']} of {m['svg']} px"
    for part in ("legend", "labels"):
        outside = [(p["text"], p["at"]) for p in m[part] if not p["inside"]]
        assert m[part] and not outside, f"{selector}: {part} outside the figure: {outside}"
    if bars:
        assert m["bars"] and min(m["bars"]) >= 14, (selector, m["bars"])
    return m


@pytest.fixture
def figures(review, lead, sheet, outcome):
    """Three studies with consensus data, a pooled analysis and a complete RoB 2 assessment each."""
    tool = rob.tool_create(review=review, user=lead, kind="rob2")
    for i, (label, (treated, control)) in enumerate(STUDIES.items()):
        study = include_study(review, label, int(label[-4:]))
        save_continuous(sheet, study, lead, outcome, treated, control)
        answers = {**ROB2_ANSWERS, **(UNBLINDED if i % 2 else {})}
        a = rob.assessment_open(tool=tool, study=study, outcome=outcome, user=lead)
        rob.assessment_save(assessment=a, user=lead, version=1, answers=answers, complete=True)
    analysis_services.analysis_create(review=review, outcome=outcome, created_by=lead)
    return tool


@pytest.mark.parametrize("screen", VIEWPORTS)
def test_the_risk_of_bias_figures_and_the_forest_plot_read_well(
    live_server, browser, review, outcome, figures, screen
):
    width, height = VIEWPORTS[screen]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(20_000)
    _log_in(page, live_server.url)

    page.goto(f"{live_server.url}/reviews/{review.pk}/dashboard/")
    _assert_readable(page, f"#dash-rob-{figures.pk}")
    forest = f"#dash-forest-{outcome.pk}"
    page.locator(f"{forest} .main-svg").first.wait_for()
    m = page.evaluate(MEASURE, forest)
    # The forest plot fits, or scrolls inside its own box; the page itself never scrolls sideways.
    assert m["svg"] <= m["box"] + 1 or (m["overflow"] == "auto" and m["scroll"] > m["box"])
    document, viewport = page.evaluate(PAGE_WIDTH)
    assert document <= viewport, f"the dashboard scrolls sideways: {page.evaluate(TOO_WIDE)}"
    _shot(page, f"figures-dashboard-{screen}")

    page.goto(f"{live_server.url}/reviews/{review.pk}/rob/tools/{figures.pk}/summary/")
    lights = _assert_readable(page, "#traffic-light", bars=False, scrolls=True)
    assert {p["text"] for p in lights["legend"]} >= {"Low", "High"}
    assert any("Peer Support" in p["text"] for p in lights["labels"])
    _assert_readable(page, "#summary-plot")
    document, viewport = page.evaluate(PAGE_WIDTH)
    assert document <= viewport, f"the RoB summary scrolls sideways: {page.evaluate(TOO_WIDE)}"
    _shot(page, f"figures-rob-summary-{screen}")
    context.close()
