"""Issue 11, figures: the lead opens the traffic-light plot of each risk-of-bias tool the
review uses (RoB 2, ROBINS-I, RoB 1) on a desktop (1280x720) and on a phone (390x844). Every
circle is drawn whole and apart from its neighbours, every label and legend item sits inside the
drawing, and a plot too wide for the screen scrolls inside its own box, never the page. The
pages pass axe-core with no serious or critical violation."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from extraction.models import Outcome
from extraction.rob import services as rob
from extraction.rob.plots import MARKER
from tests.browser.test_figures import MEASURE, PAGE_WIDTH, TOO_WIDE, _log_in, _shot
from tests.extraction.rob.conftest import ROB2_ANSWERS, V2_ANSWERS, V2_PRELIMINARY
from tests.factories import include_study

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": (1280, 720), "phone": (390, 844)}
LABELS = [
    "Chinman 2015",
    "Peer Support Collaborative Trial Group 2016",
    "Mahlke 2017",
    "Simpson 2014",
]
# The centres of the traffic light's circles, column by column.
CIRCLES = """() => Array.from(document.querySelectorAll("#traffic-light .scatterlayer .point"))
  .map((e) => e.getBoundingClientRect())
  .map((r) => ({ x: Math.round(r.left + r.width / 2), y: Math.round(r.top + r.height / 2),
    w: Math.round(r.width) }))"""


@pytest.fixture
def tools(review, lead):
    studies = [include_study(review, label) for label in LABELS]
    outcome = Outcome.objects.create(review=review, name="Hope", outcome_type="continuous")
    made = {}
    rob2 = rob.tool_create(review=review, user=lead, kind="rob2")
    robins = rob.tool_create(review=review, user=lead, kind="robins_i_v2")
    rob1 = rob.tool_create(review=review, user=lead, kind="rob1")
    for study in studies:
        a = rob.assessment_open(tool=rob2, study=study, outcome=outcome, user=lead)
        rob.assessment_save(assessment=a, user=lead, version=1, answers=ROB2_ANSWERS, complete=True)
        a = rob.assessment_open(tool=robins, study=study, outcome=outcome, user=lead)
        rob.assessment_save(
            assessment=a,
            user=lead,
            version=1,
            preliminary=V2_PRELIMINARY,
            answers=V2_ANSWERS,
            complete=True,
        )
        a = rob.assessment_open(tool=rob1, study=study, outcome=None, user=lead)
        domains = {f"D{i}": {"final": "Low", "support": "quote"} for i in range(1, 8)}
        domains["D3"] = {"final": "High", "support": "Peer support cannot be blinded"}
        rob.assessment_save(assessment=a, user=lead, version=1, domains=domains, complete=True)
    made.update({"RoB 2": (rob2, 5), "ROBINS-I V2": (robins, 6), "RoB 1": (rob1, 7)})
    return made


def test_every_tools_traffic_light_fits_a_desktop_and_a_phone(live_server, browser, review, tools):
    axe, problems = Axe(), []
    for screen, (width, height) in VIEWPORTS.items():
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.set_default_timeout(20_000)
        _log_in(page, live_server.url)
        for name, (tool, domains) in tools.items():
            where = f"{name} on the {screen}"
            page.goto(f"{live_server.url}/reviews/{review.pk}/rob/tools/{tool.pk}/summary/")
            page.locator("#traffic-light .main-svg").first.wait_for()
            m = page.evaluate(MEASURE, "#traffic-light")
            # The plot fits its box, or its box scrolls; the page never scrolls sideways.
            assert m["svg"] <= m["box"] + 1 or (m["overflow"] == "auto" and m["scroll"] > m["box"])
            document, viewport = page.evaluate(PAGE_WIDTH)
            assert document <= viewport, f"{where}: page scrolls sideways {page.evaluate(TOO_WIDE)}"
            for part in ("legend", "labels"):
                outside = [(p["text"], p["at"]) for p in m[part] if not p["inside"]]
                assert m[part] and not outside, f"{where}: {part} outside the figure: {outside}"
            legend = {p["text"] for p in m["legend"]}
            assert "Low" in legend and len(legend) >= 2, (where, legend)
            # One circle per study and column (the domains and Overall), whole and apart.
            circles = page.evaluate(CIRCLES)
            assert len(circles) == len(LABELS) * (domains + 1), where
            assert min(c["w"] for c in circles) >= MARKER - 2, where
            columns = sorted({c["x"] for c in circles})
            gaps = [b - a for a, b in zip(columns, columns[1:], strict=False)]
            assert len(columns) == domains + 1 and min(gaps) >= MARKER + 2, (where, gaps)
            _shot(page, f"traffic-light-{tool.kind}-{screen}")
            for v in axe.run(page).response["violations"]:
                if v["impact"] in {"serious", "critical"}:
                    problems.append(f"{where}: {v['id']} ({v['impact']}) {v['help']}")
        context.close()
    assert problems == [], "\n".join(problems)
