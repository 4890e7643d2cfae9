"""Issue 11, as a reviewer assesses risk of bias: she answers the signalling questions and
presses Ctrl+S; the version, the status and a saved message change where she is, with no page
load (the address and a marker on the window stay), her cursor still in the box she was typing
in. A judgement without its justification is refused beside the field with everything kept; when
a colleague saved first she is told so, keeps her answers, and saves them over his."""

import pytest

from extraction.models import Outcome
from extraction.rob import services
from extraction.rob.models import RobAssessment
from tests.browser.test_rob import _log_in
from tests.extraction.rob.conftest import included_study

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _version(page):
    return page.inner_text("#version-shown")


def _wait_for_version(page, version):
    page.wait_for_function(
        "v => document.querySelector('#version-shown')?.textContent === v", arg=str(version)
    )


def _still_here(page, url):
    assert page.url == url
    assert page.evaluate("() => window.robMarker") == "no reload"


def test_a_reviewer_saves_her_assessment_in_place_with_ctrl_s(
    live_server, page, review, lead, screener_a, screener_b
):
    study = included_study(review, "Chinman 2015")
    outcome = Outcome.objects.create(review=review, name="Hope", outcome_type="continuous")
    tool = services.tool_create(review=review, user=lead, kind="rob2")
    _log_in(page, live_server, "screener_a")
    url = f"{live_server.url}/reviews/{review.pk}/rob/tools/{tool.pk}/studies/{study.pk}/assess/"
    url += f"?outcome={outcome.pk}"
    page.goto(url)
    page.locator("#rob-form").wait_for()
    assert not RobAssessment.objects.filter(tool=tool).exists()  # opening created nothing
    assert page.inner_text("#assessment-status") == "Not started"
    page.evaluate("() => { window.robMarker = 'no reload'; }")

    # She answers domain 1 and the proposal follows; then writes her support and saves.
    for qid, value in (("1-1", "Y"), ("1-2", "PY"), ("1-3", "N")):
        page.select_option(f"#q-{qid}", value)
    page.wait_for_function("() => document.querySelector('#proposed-D1').dataset.j === 'Low'")
    page.click("#support-D1")
    page.keyboard.type("Computer-generated sequence, central allocation")
    page.keyboard.press("Control+s")
    _wait_for_version(page, 2)
    _still_here(page, url)
    assert page.inner_text("#assessment-status") == "In progress"
    assert "saved as a draft (version 2)" in page.inner_text("#save-feedback")
    assert page.evaluate("() => document.activeElement.id") == "support-D1"
    assert page.evaluate(
        "() => { const r = document.activeElement.getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; }"
    )
    saved = RobAssessment.objects.get(tool=tool, study=study)
    assert saved.answers == {"1.1": "Y", "1.2": "PY", "1.3": "N"}
    assert saved.domains["D1"]["support"] == "Computer-generated sequence, central allocation"

    # Judging D2 before its questions are answered needs a reason: refused beside the field.
    page.select_option("#q-2-1", "N")
    page.select_option("#final-D2", "Low")
    page.fill("#support-D2", "Blinded trial")
    page.click("#save-draft")
    page.locator("#error-D2").wait_for(state="visible")
    assert "question 2.2 is unanswered" in page.inner_text("#error-D2")
    assert "question 2.2 is unanswered" in page.inner_text("#form-error")
    _still_here(page, url)
    assert _version(page) == "2"
    assert page.input_value("#final-D2") == "Low" and page.input_value("#q-2-1") == "N"
    assert page.input_value("#support-D2") == "Blinded trial"
    assert page.input_value("#support-D1") == "Computer-generated sequence, central allocation"

    page.fill("#justification-D2", "Trialist confirmed blinding held")
    page.keyboard.press("Control+s")
    _wait_for_version(page, 3)
    assert page.locator("#error-D2").is_hidden() and page.locator("#form-error").count() == 0

    # A colleague saves the shared assessment meanwhile: her next save is refused, 409, in place.
    theirs = RobAssessment.objects.get(tool=tool, study=study)
    services.assessment_save(
        assessment=theirs, user=screener_b, version=3, answers={**theirs.answers, "1.3": "Y"}
    )
    page.select_option("#q-1-2", "Y")
    with page.expect_response(lambda r: r.request.method == "POST" and "/assess/" in r.url) as r:
        page.keyboard.press("Control+s")
    assert r.value.status == 409
    conflict = page.locator("#conflict")
    conflict.wait_for()
    assert "screener_b saved this assessment (version 4)" in conflict.inner_text()
    _still_here(page, url)
    assert _version(page) == "4"
    assert page.input_value("#q-1-2") == "Y" and page.input_value("#q-1-3") == "N"
    assert page.input_value("#justification-D2") == "Trialist confirmed blinding held"

    # Saving again puts her version over his.
    page.keyboard.press("Control+s")
    _wait_for_version(page, 5)
    assert page.locator("#conflict").count() == 0
    _still_here(page, url)
    saved = RobAssessment.objects.get(tool=tool, study=study)
    assert saved.answers["1.2"] == "Y" and saved.answers["1.3"] == "N"
    assert saved.domains["D2"]["final"] == "Low"
