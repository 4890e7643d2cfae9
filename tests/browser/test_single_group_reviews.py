"""Issue 14: a prevalence review, a correlational review and a review of single-group means in
the browser, from the extraction page (one row per study, no arm) through the analysis form to
a forest plot drawn on the natural scale: percent for proportions, r for correlations, the
mean for means."""

import pytest

from analysis import stats
from analysis.models import Analysis
from extraction import services as extraction
from reviewapp.celery import app as celery_app
from tests.analysis.conftest import include_study
from tests.browser.test_rob import _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def in_process():
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager


def _enter(page, base, review, sheet, study, values):
    page.goto(f"{base}/reviews/{review.pk}/extraction/forms/{sheet.pk}/studies/{study.pk}/")
    page.fill("input[name=o__0__timepoint]", "baseline")
    assert page.locator("input[name=o__0__arm]").input_value() == ""
    for name, value in values.items():
        page.fill(f"input[name=o__0__{name}]", str(value))
    page.click("#save")
    page.wait_for_selector("text=version 1")


def _analyse(page, base, review, outcome, name):
    page.goto(f"{base}/reviews/{review.pk}/analyses/")
    form = page.locator("form:has(select[name=preset])").first
    form.locator("select[name=outcome]").select_option(str(outcome.pk))
    form.locator("input[name=name]").fill(name)
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/analyses/*/")
    forest = page.locator("#fig-forest")
    forest.locator("svg").first.wait_for()
    return Analysis.objects.get(name=name), forest


@pytest.mark.parametrize(
    ("outcome_type", "data", "measure", "natural"),
    [
        (
            "proportion",
            {"Avery 2014": (12, 80), "Brandt 2016": (30, 150), "Dunn 2019": (41, 120)},
            "PLO",
            "Proportion (%)",
        ),  # fmt: skip
        (
            "correlation",
            {"Ellis 2012": (0.31, 120), "Fox 2015": (0.12, 85), "Grant 2017": (0.45, 60)},
            "ZCOR",
            "Correlation (r)",
        ),  # fmt: skip
        (
            "mean",
            {
                "Ives 2013": (3.95, 1.12, 25),
                "Jory 2016": (2.25, 0.33, 40),
                "Kirk 2020": (6.62, 1.63, 18),
            },
            "MN",
            "Mean",
        ),  # fmt: skip
    ],
)
def test_a_single_group_review_from_extraction_to_forest_plot(
    live_server, page, review, lead, sheet, in_process, outcome_type, data, measure, natural
):
    outcome = extraction.outcome_save(review=review, name="Main outcome", outcome_type=outcome_type)
    keys = {"proportion": ("events", "total"), "correlation": ("r", "n"),
            "mean": ("mean", "sd", "n")}[outcome_type]  # fmt: skip
    _log_in(page, live_server, "lead")
    for label, values in data.items():
        study = include_study(review, label, int(label[-4:]))
        _enter(page, live_server.url, review, sheet, study, dict(zip(keys, values, strict=True)))

    analysis, forest = _analyse(page, live_server.url, review, outcome, "Pooled")
    assert analysis.measure == measure
    metafor = {"events": "xi", "total": "ni", "r": "ri", "n": "ni", "mean": "mi", "sd": "sdi"}
    args = {metafor[k]: [v[i] for v in data.values()] for i, k in enumerate(keys)}
    pooled = stats.pool(stats.escalc(measure, **args), method="REML")
    scale = 100 if outcome_type == "proportion" else 1
    digits = 1 if outcome_type == "proportion" else 2
    est, lo, hi = (scale * stats.transform(measure, v)
                   for v in (pooled.estimate, pooled.ci_lb, pooled.ci_ub))  # fmt: skip
    svg = forest.text_content() or ""  # every SVG layer: traces and annotations
    assert f"{est:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]" in svg
    assert natural in svg
    if outcome_type == "proportion":
        assert "15.0 [" in svg  # Avery: 12 of 80
        assert "Favours" not in svg
    elif outcome_type == "mean":
        assert "6.62 [" in svg  # Kirk's own mean
        assert "Favours" not in svg
    else:
        assert "0.45 [" in svg  # Grant's own r
