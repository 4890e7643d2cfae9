"""Issue 11, analysis definition, as the lead sees it: choosing "RevMan 5 defaults" fills the
form with what will be saved (DerSimonian-Laird, no prediction interval, Mantel-Haenszel for a
dichotomous outcome), a hand change makes it "Custom", and the subgroup variable is a list."""

import pytest

from analysis.models import Analysis
from tests.browser.test_rob import _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_preset_fills_the_form_with_what_it_saves(
    live_server, page, review, lead, sheet, hospitalised, symptoms
):
    _log_in(page, live_server, "lead")
    page.goto(f"{live_server.url}/reviews/{review.pk}/analyses/")
    form = page.locator("form:has(select[name=preset])").first
    form.locator("select[name=outcome]").select_option(str(hospitalised.pk))
    form.locator("select[name=preset]").select_option("revman5")

    assert form.locator("select[name=tau2_method]").input_value() == "DL"
    assert not form.locator("input[name=prediction_interval]").is_checked()
    assert form.locator("input[name=mantel_haenszel]").is_checked()
    options = form.locator("select[name=subgroup_field] option").all_text_contents()
    assert options[0] == "No subgroups" and any("org_support" in o for o in options)

    form.locator("input[name=name]").fill("RevMan check")
    form.locator("input[name=intervention_label]").fill("peer support")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/analyses/*/")
    saved = Analysis.objects.get(name="RevMan check")
    assert (saved.tau2_method, saved.prediction_interval, saved.mantel_haenszel) == (
        "DL",
        False,
        True,
    )

    # A continuous outcome cannot be pooled by Mantel-Haenszel: the form does not pretend.
    page.goto(f"{live_server.url}/reviews/{review.pk}/analyses/")
    form = page.locator("form:has(select[name=preset])").first
    form.locator("select[name=outcome]").select_option(str(symptoms.pk))
    form.locator("select[name=preset]").select_option("revman5")
    assert not form.locator("input[name=mantel_haenszel]").is_checked()
    form.locator("select[name=tau2_method]").select_option("PM")
    assert form.locator("select[name=preset]").input_value() == "custom"
