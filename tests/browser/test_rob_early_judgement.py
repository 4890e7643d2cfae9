"""Issue 11 and the RoB 2 guidance, as a reviewer works: opening the "Assess" page creates
nothing; judging a domain before its questions are answered is refused with a message that
says which question is open, every choice stays on the page, and with a justification the same
judgement is saved."""

import pytest

from extraction.models import Outcome
from extraction.rob import services
from extraction.rob.models import RobAssessment
from tests.browser.test_rob import _log_in
from tests.extraction.rob.conftest import included_study

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_early_judgement_needs_a_justification(live_server, page, review, lead, screener_a):
    study = included_study(review, "Chinman 2015")
    outcome = Outcome.objects.create(review=review, name="Hope", outcome_type="continuous")
    tool = services.tool_create(review=review, user=lead, kind="rob2")
    _log_in(page, live_server, "screener_a")
    url = f"{live_server.url}/reviews/{review.pk}/rob/tools/{tool.pk}/studies/{study.pk}/assess/"
    page.goto(f"{url}?outcome={outcome.pk}")
    page.locator("#rob-form").wait_for()
    assert not RobAssessment.objects.filter(tool=tool).exists()  # viewing creates nothing

    page.select_option("#q-2-1", "N")
    page.select_option("#q-2-2", "N")
    page.select_option("#final-D2", "Low")
    page.click("#save-draft")
    error = page.locator("#form-error")
    error.wait_for()
    assert "question 2.6 is unanswered" in error.inner_text()
    # Refused, but nothing typed or chosen is lost.
    assert page.input_value("#q-2-1") == "N" and page.input_value("#final-D2") == "Low"
    assert not RobAssessment.objects.filter(tool=tool, domains__has_key="D2").exists()

    page.fill("#justification-D2", "ITT confirmed by the trialist")
    page.click("#save-draft")
    page.wait_for_function("() => !document.querySelector('#form-error')")
    saved = RobAssessment.objects.get(tool=tool, study=study)
    assert saved.domains["D2"]["final"] == "Low"
    assert saved.domains["D2"]["justification"] == "ITT confirmed by the trialist"
