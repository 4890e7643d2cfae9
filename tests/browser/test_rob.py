"""A RoB 2 assessment in a real browser: the proposed judgements follow the signalling answers
as the guidance's algorithms say, an override needs a justification, and the summary draws."""

import pytest

from extraction.models import Outcome
from extraction.rob import services
from extraction.rob.models import RobAssessment
from tests.extraction.rob.conftest import included_study

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Signalling answers following paths of the RoB 2 guidance's algorithm figures, with the
# judgement the guidance gives for each domain.
ANSWERS = {
    # Random sequence, concealed allocation, no baseline problem: low.
    "1-1": "Y",
    "1-2": "PY",
    "1-3": "N",
    # Blinded trial, but a per-protocol analysis with potential for substantial impact: high.
    "2-1": "N",
    "2-2": "PN",
    "2-6": "N",
    "2-7": "PY",
    # Data missing, no evidence of no bias, missingness could but probably did not depend on
    # the true value: some concerns.
    "3-1": "N",
    "3-2": "N",
    "3-3": "PY",
    "3-4": "PN",
    # No information on whether measurement differed, assessors unaware: some concerns.
    "4-1": "N",
    "4-2": "NI",
    "4-3": "N",
    # Pre-specified plan, no selection among measurements or analyses: low.
    "5-1": "Y",
    "5-2": "N",
    "5-3": "PN",
}
EXPECTED = {"D1": "Low", "D2": "High", "D3": "Some concerns", "D4": "Some concerns", "D5": "Low"}


def _log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-word-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def _proposed(page, key):
    return page.locator(f"#proposed-{key}").get_attribute("data-j")


def test_a_rob2_assessment_proposes_the_guidance_judgements(
    live_server, page, review, lead, screener_a
):
    study = included_study(review, "Chinman 2015")
    outcome = Outcome.objects.create(review=review, name="Hope", outcome_type="continuous")
    tool = services.tool_create(review=review, user=lead, kind="rob2")
    _log_in(page, live_server, "screener_a")

    page.goto(f"{live_server.url}/reviews/{review.pk}/rob/")
    page.click(f"text={tool.name}")
    page.locator("#rob-grid").get_by_role("link", name="Assess").click()
    page.get_by_role("heading", name="Chinman 2015 · Hope").wait_for()

    page.select_option("#q-1-1", "Y")
    page.select_option("#q-1-2", "NI")
    page.select_option("#q-1-3", "PY")
    page.wait_for_function("() => document.querySelector('#proposed-D1').dataset.j === 'High'")

    for qid, value in ANSWERS.items():
        page.select_option(f"#q-{qid}", value)
    # Wait for the proposals of the last answer (each change posts the form; the newest wins).
    page.wait_for_function(
        "expected => Object.entries(expected).every("
        "([key, j]) => document.querySelector('#proposed-' + key).dataset.j === j)",
        arg={**EXPECTED, "overall": "High"},
    )
    assert {key: _proposed(page, key) for key in EXPECTED} == EXPECTED
    assert _proposed(page, "overall") == "High"
    # The guidance does not ask 2.3-2.5 when nobody was aware of the assignment.
    assert "not needed" in page.inner_text("#state-2-3")

    # Overriding D4 without a reason is refused and keeps what was entered.
    page.select_option("#final-D4", "Low")
    page.click("button[value=complete]")
    page.get_by_role("alert").wait_for()
    assert "say why you judge it 'Low'" in page.inner_text("#form-error")
    assert page.input_value("#q-3-3") == "PY"
    page.fill("#justification-D4", "Outcome is a validated self-report scale")
    page.click("button[value=complete]")
    page.get_by_text("complete (version 2)").wait_for()

    saved = RobAssessment.objects.get(tool=tool, study=study, outcome=outcome)
    assert saved.status == "complete"
    assert {k: v["proposed"] for k, v in saved.domains.items()} == EXPECTED
    assert saved.domains["D4"]["final"] == "Low"
    assert saved.overall == "High"

    page.goto(f"{live_server.url}/reviews/{review.pk}/rob/tools/{tool.pk}/summary/")
    page.locator("#traffic-light .main-svg").first.wait_for()
    page.locator("#summary-plot .main-svg").first.wait_for()
    with page.expect_download() as download:
        page.click("#robvis-csv")
    assert download.value.suggested_filename.startswith("robvis-rob2")


def test_the_arbiter_reconciles_two_blind_assessments(
    live_server, page, review, lead, screener_a, screener_b, arbiter
):
    from tests.extraction.rob.conftest import ROB2_ANSWERS

    study = included_study(review, "Mahlke 2017")
    outcome = Outcome.objects.create(review=review, name="Hope", outcome_type="continuous")
    tool = services.tool_create(review=review, user=lead, kind="rob2", mode="dual")
    for user, answers in ((screener_a, ROB2_ANSWERS), (screener_b, {**ROB2_ANSWERS, "2.5": "Y"})):
        a = services.assessment_open(tool=tool, study=study, outcome=outcome, user=user)
        services.assessment_save(assessment=a, user=user, version=1, answers=answers, complete=True)
    _log_in(page, live_server, "arbiter")

    page.goto(f"{live_server.url}/reviews/{review.pk}/rob/tools/{tool.pk}/")
    page.click("text=Compare")
    page.get_by_role("heading", name="Compare and agree: Mahlke 2017 · Hope").wait_for()
    assert page.locator("tbody.differs").count() == 1  # only D2 differs
    assert page.locator("#compare-D2 tr.diff").count() == 1  # question 2.5
    page.click("text=Start the consensus")
    page.click('button:has-text("Take screener_b\'s D2")')
    page.get_by_text("D2: took screener_b's answers.").wait_for()
    assert page.input_value("#q-2-5") == "Y"
    assert _proposed(page, "D2") == "Some concerns"
    page.click("button:has-text('Complete consensus')")
    page.get_by_text("Consensus saved.").wait_for()

    consensus = RobAssessment.objects.get(tool=tool, kind="consensus")
    assert consensus.status == "complete" and consensus.overall == "Some concerns"
    page.goto(f"{live_server.url}/reviews/{review.pk}/rob/tools/{tool.pk}/summary/")
    page.get_by_text("1 completed assessment (consensus)").wait_for()
