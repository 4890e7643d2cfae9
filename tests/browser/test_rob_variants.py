"""RoB 2's per-protocol and cluster variants and ROBINS-I V2 in a real browser: the
preliminary considerations redraw the questions, the proposals follow the published
algorithms, and the licence notice is on the page."""

import pytest

from extraction.models import Outcome
from extraction.rob import services
from extraction.rob.models import RobAssessment
from tests.browser.test_rob import _log_in
from tests.extraction.rob.conftest import ROB2_ANSWERS, V2_ANSWERS, included_study

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _dom(qid):
    return qid.replace(".", "-")


def _wait_for_proposals(page, expected):
    page.wait_for_function(
        "expected => Object.entries(expected).every("
        "([key, j]) => document.querySelector('#proposed-' + key)?.dataset.j === j)",
        arg=expected,
    )


def _open(page, live_server, review, tool, study, outcome):
    url = f"{live_server.url}/reviews/{review.pk}/rob/tools/{tool.pk}/studies/{study.pk}/assess/"
    page.goto(f"{url}?outcome={outcome.pk}")
    page.locator("#preliminary").wait_for()


def test_a_per_protocol_assessment_follows_the_adhering_algorithm(
    live_server, page, review, lead, screener_a
):
    study = included_study(review, "Chinman 2015")
    outcome = Outcome.objects.create(review=review, name="Hope", outcome_type="continuous")
    tool = services.tool_create(review=review, user=lead, kind="rob2")
    a = services.assessment_open(tool=tool, study=study, outcome=outcome, user=screener_a)
    services.assessment_save(assessment=a, user=screener_a, version=1, answers=ROB2_ANSWERS)
    _log_in(page, live_server, "screener_a")
    _open(page, live_server, review, tool, study, outcome)
    assert "CC BY-NC-ND 4.0" in page.inner_text("#licence-notice")

    page.select_option("#pre-input-aim", "adhering")  # saves and redraws domain 2
    page.get_by_text("effect of adhering", exact=False).first.wait_for()
    page.locator("#pre-deviations").wait_for(state="visible")
    page.check("input[name=pre_deviations][value=non_adherence]")
    page.locator("#variant-shown").wait_for()
    page.wait_for_function("() => document.querySelector('#q-2-6') !== null")
    # Participants aware; non-protocol interventions and implementation not addressed (NA);
    # non-adherence that could affect outcomes; an appropriate per-protocol analysis.
    for qid, value in {"2.1": "Y", "2.2": "Y", "2.3": "NA", "2.4": "NA", "2.5": "PY"}.items():
        page.select_option(f"#q-{_dom(qid)}", value)
    page.wait_for_function(
        "() => document.querySelector('#proposed-D2').textContent.includes('answer 2.6')"
    )
    page.select_option("#q-2-6", "Y")
    _wait_for_proposals(page, {"D2": "Some concerns"})
    page.click("button[value=complete]")
    page.get_by_text("complete (version", exact=False).wait_for()

    saved = RobAssessment.objects.get(tool=tool, study=study)
    assert saved.preliminary["aim"] == "adhering"
    assert saved.preliminary["deviations"] == ["non_adherence"]
    assert saved.domains["D2"]["proposed"] == "Some concerns" and saved.status == "complete"
    assert "2.7" not in saved.answers  # an effect-of-assignment question, cleared


def test_a_cluster_trial_gets_domain_1b(live_server, page, review, lead, screener_a):
    study = included_study(review, "Mahlke 2017")
    outcome = Outcome.objects.create(review=review, name="Hope", outcome_type="continuous")
    tool = services.tool_create(review=review, user=lead, kind="rob2")
    _log_in(page, live_server, "screener_a")
    _open(page, live_server, review, tool, study, outcome)
    assert page.locator("#domain-D1b").count() == 0

    page.select_option("#pre-input-design", "cluster")
    page.locator("#domain-D1b").wait_for()
    assert page.locator("#q-1a-1").count() == 1 and page.locator("#q-2-1a").count() == 1
    page.select_option("#q-1b-1", "N")
    page.select_option("#q-1b-2", "PY")
    page.select_option("#q-1b-3", "N")
    _wait_for_proposals(page, {"D1b": "High"})
    page.select_option("#q-1b-2", "N")
    _wait_for_proposals(page, {"D1b": "Low"})
    page.click("#save-draft")  # saved in place: the message is in the save bar
    page.locator("#save-feedback").get_by_text("saved as a draft", exact=False).wait_for()
    assert page.locator("main > .messages").count() == 0  # the earlier page's message went
    saved = RobAssessment.objects.get(tool=tool, study=study)
    assert saved.preliminary["design"] == "cluster"
    assert saved.domains["D1b"]["proposed"] == "Low"


def test_a_robins_i_v2_assessment_reaches_critical(live_server, page, review, lead, screener_a):
    study = included_study(review, "Simpson 2014")
    outcome = Outcome.objects.create(review=review, name="Hope", outcome_type="continuous")
    tool = services.tool_create(review=review, user=lead, kind="robins_i_v2")
    _log_in(page, live_server, "screener_a")
    _open(page, live_server, review, tool, study, outcome)
    assert "ROBINS-I V2" in page.inner_text("#licence-notice")
    page.fill("#pre-input-result", "HR 0.71 (0.52 to 0.97)")
    page.select_option("#pre-input-B1", "Y")
    page.locator("#preliminary").wait_for()
    page.select_option("#pre-input-B3", "N")
    page.locator("#domain-D6").wait_for()
    for qid, value in V2_ANSWERS.items():
        page.select_option(f"#q-{_dom(qid)}", value)
    _wait_for_proposals(page, {"D1": "Critical", "D2": "Low", "D6": "Low", "overall": "Critical"})
    page.click("button[value=complete]")
    page.get_by_text("complete (version", exact=False).wait_for()
    saved = RobAssessment.objects.get(tool=tool, study=study)
    assert saved.overall == "Critical" and saved.domains["D1"]["final"] == "Critical"
    assert saved.preliminary["result"] == "HR 0.71 (0.52 to 0.97)"

    page.goto(f"{live_server.url}/reviews/{review.pk}/rob/tools/{tool.pk}/summary/")
    page.locator("#traffic-light .main-svg").first.wait_for()
    assert "Generic" in page.inner_text("#robvis-csv")
