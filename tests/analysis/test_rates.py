"""Events over person-time: incidence rate ratios between two arms, and single-group rates,
from consensus data to the pooled result, the forest plot and the R script."""

import pytest
from django.urls import reverse

from analysis import services, stats
from analysis.results import ComputedResult
from extraction import services as extraction
from tests.analysis.conftest import ARMS, include_study

pytestmark = pytest.mark.django_db

TRIALS = {  # (events, person-years) intervention, control
    "Kemp 2011": ((14, 410.0), (25, 395.5)),
    "Lund 2014": ((9, 220.0), (12, 230.0)),
    "Moss 2017": ((30, 1020.0), (41, 990.0)),
}
COHORTS = {  # events, person-years
    "Nash 2010": (18, 2400.0),
    "Odom 2013": (7, 1310.0),
    "Pike 2016": (33, 5100.0),
    "Quinn 2019": (0, 640.0),
}


def _save(sheet, study, user, rows, arms=()):
    return extraction.extraction_save(
        form=sheet, study=study, user=user, expected_version=0,
        data=extraction.ExtractionInput(answers={}, arms=list(arms), outcomes=rows,
                                        complete=True),
    )  # fmt: skip


@pytest.fixture
def relapses(review):
    return extraction.outcome_save(
        review=review, name="Relapses", outcome_type="rate", desirable_direction="lower"
    )


@pytest.fixture
def incidence(review):
    return extraction.outcome_save(review=review, name="Incidence", outcome_type="single_rate")


@pytest.fixture
def trials(review, lead, sheet, relapses):
    for label, arms in TRIALS.items():
        rows = [
            {"outcome": relapses.pk, "timepoint": "2 years", "arm": arm["label"],
             "events": x, "person_time": t}
            for arm, (x, t) in zip(ARMS, arms, strict=True)
        ]  # fmt: skip
        _save(sheet, include_study(review, label, int(label[-4:])), lead, rows, ARMS)


@pytest.fixture
def cohorts(review, lead, sheet, incidence):
    for label, (x, t) in COHORTS.items():
        row = {"outcome": incidence.pk, "timepoint": "follow-up", "events": x, "person_time": t}
        _save(sheet, include_study(review, label, int(label[-4:])), lead, [row])


def _create(review, outcome, lead, capture, **settings):
    with capture(execute=True):
        a = services.analysis_create(review=review, outcome=outcome, created_by=lead, **settings)
    a.refresh_from_db()
    return a


def test_incidence_rate_ratios_are_pooled_on_the_log_scale_and_shown_as_ratios(
    review, lead, relapses, trials, eager, django_capture_on_commit_callbacks
):
    from analysis.plots import forest_plot, forest_rows

    analysis = _create(review, relapses, lead, django_capture_on_commit_callbacks)
    assert analysis.measure == "IRR"
    arms = list(TRIALS.values())
    es = stats.escalc("IRR", x1i=[a[0][0] for a in arms], t1i=[a[0][1] for a in arms],
                      x2i=[a[1][0] for a in arms], t2i=[a[1][1] for a in arms])  # fmt: skip
    expected = stats.pool(es, method="REML")
    result = analysis.current_result
    assert result.estimate == pytest.approx(expected.estimate, rel=1e-12)
    assert result.estimate_text == f"IRR {stats.transform('IRR', expected.estimate):.2f}"
    payload = result.payload
    study = next(
        r
        for r in forest_rows(ComputedResult.from_json(payload))
        if r.cells.get("label") == "Kemp 2011"
    )
    assert (study.cells["events1"], study.cells["pt1"]) == ("14", "410.00")
    assert study.cells["effect"].startswith(f"{(14 / 410) / (25 / 395.5):.2f} [")
    fig = forest_plot(ComputedResult.from_json(payload)).to_plotly_json()
    assert fig["layout"]["xaxis8"]["type"] == "log"
    labels = {a.get("name"): a["text"] for a in fig["layout"]["annotations"] if a.get("name")}
    assert labels["favours-left"] == "Favours intervention"  # fewer relapses is better


def test_single_group_rates_are_shown_per_1000_person_time(
    review, lead, incidence, cohorts, eager, django_capture_on_commit_callbacks
):
    from analysis.plots import forest_rows

    analysis = _create(review, incidence, lead, django_capture_on_commit_callbacks)
    assert analysis.measure == "IRLN"
    es = stats.escalc("IRLN", xi=[x for x, _t in COHORTS.values()],
                      ti=[t for _x, t in COHORTS.values()])  # fmt: skip
    expected = stats.pool(es, method="REML")
    payload = analysis.current_result.payload
    assert payload["overall"]["estimate"] == pytest.approx(expected.estimate, rel=1e-12)
    rows = {
        r.cells["label"]: r.cells
        for r in forest_rows(ComputedResult.from_json(payload))
        if r.kind == "study"
    }
    assert rows["Nash 2010"]["effect"].startswith(f"{1000 * 18 / 2400:.2f} [")
    total = next(r for r in forest_rows(ComputedResult.from_json(payload)) if r.kind == "total")
    assert total.cells["effect"].startswith(
        f"{1000 * stats.transform('IRLN', expected.estimate):.2f}"
    )


def test_freeman_tukey_rates_use_the_harmonic_mean_person_time(
    review, lead, incidence, cohorts, eager, django_capture_on_commit_callbacks
):
    from analysis import scales

    analysis = _create(review, incidence, lead, django_capture_on_commit_callbacks,
                       measure="IRFT")  # fmt: skip
    payload = analysis.current_result.payload
    times = [t for _x, t in COHORTS.values()]
    assert payload["transform_ti"] == pytest.approx(len(times) / sum(1 / t for t in times))
    est = payload["overall"]["estimate"]
    assert scales.natural(ComputedResult.from_json(payload), est) == pytest.approx(
        1000 * stats.transform("IRFT", est, ti=times)
    )


def test_a_missing_person_time_is_reported_and_the_r_script_uses_metafors_arguments(
    client_for, viewer, review, lead, sheet, relapses, trials, eager,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    study = include_study(review, "Reed 2020", 2020)
    rows = [{"outcome": relapses.pk, "timepoint": "2 years", "arm": "Peer support", "events": 3},
            {"outcome": relapses.pk, "timepoint": "2 years", "arm": "Usual care", "events": 4,
             "person_time": 90}]  # fmt: skip
    _save(sheet, study, lead, rows, ARMS)
    analysis = _create(review, relapses, lead, django_capture_on_commit_callbacks)
    missing = {m["label"]: m["reason"] for m in analysis.current_result.missing}
    assert missing["Reed 2020"] == "no person-time reported (Peer support)"
    url = reverse("analysis_download", args=[review.pk, analysis.pk, "R"])
    script = client_for(viewer).get(url).content.decode()
    assert 'escalc(measure = "IRR", x1i = events1, t1i = pt1, x2i = events2, t2i = pt2' in script
    assert "Reed 2020" not in script
