"""Prevalence (single-group proportions) and correlational reviews, from consensus data
entered through extraction's own services to the pooled result, the forest plot on the
natural scale, the R script and the API."""

import json

import numpy as np
import pytest
from django.urls import reverse

from analysis import services, stats
from analysis.models import Analysis
from analysis.results import ComputedResult
from extraction import services as extraction
from reviewapp.errors import DomainError
from tests.analysis.conftest import include_study

pytestmark = pytest.mark.django_db

PREVALENCE = {  # events, total (one sample per study)
    "Avery 2014": (12, 80),
    "Brandt 2016": (30, 150),
    "Cole 2018": (0, 45),  # no event: escalc's 0.5 correction
    "Dunn 2019": (41, 120),
}
CORRELATIONS = {  # r, n
    "Ellis 2012": (0.31, 120),
    "Fox 2015": (0.12, 85),
    "Grant 2017": (0.45, 60),
    "Hale 2020": (-0.05, 200),
}


def save_single(sheet, study, user, outcome, **values):
    """One row for the study's whole sample (no arm), as a prevalence or correlation form."""
    row = {"outcome": outcome.pk, "timepoint": "baseline", **values}
    return extraction.extraction_save(
        form=sheet, study=study, user=user, expected_version=0,
        data=extraction.ExtractionInput(answers={}, arms=[], outcomes=[row], complete=True),
    )  # fmt: skip


@pytest.fixture
def prevalence(review):
    return extraction.outcome_save(
        review=review, name="Depression prevalence", outcome_type="proportion"
    )


@pytest.fixture
def association(review):
    return extraction.outcome_save(
        review=review, name="Support and recovery", outcome_type="correlation"
    )


@pytest.fixture
def prevalence_data(review, lead, sheet, prevalence):
    for label, (x, n) in PREVALENCE.items():
        study = include_study(review, label, int(label[-4:]))
        save_single(sheet, study, lead, prevalence, events=x, total=n)


@pytest.fixture
def correlation_data(review, lead, sheet, association):
    for label, (r, n) in CORRELATIONS.items():
        study = include_study(review, label, int(label[-4:]))
        save_single(sheet, study, lead, association, r=r, n=n)


def _create(review, outcome, lead, capture, **settings):
    with capture(execute=True):
        a = services.analysis_create(review=review, outcome=outcome, created_by=lead, **settings)
    a.refresh_from_db()
    return a


def _engine(measure, data, *, args):
    es = stats.escalc(measure, **args(list(data.values())))
    return stats.pool(es, method="REML")


def _props(rows):
    return {"xi": [r[0] for r in rows], "ni": [r[1] for r in rows]}


def _cors(rows):
    return {"ri": [r[0] for r in rows], "ni": [r[1] for r in rows]}


def test_a_prevalence_analysis_pools_logit_proportions_by_default(
    review, lead, prevalence, prevalence_data, eager, django_capture_on_commit_callbacks
):
    analysis = _create(review, prevalence, lead, django_capture_on_commit_callbacks)
    assert analysis.measure == "PLO"
    result = analysis.current_result
    expected = _engine("PLO", PREVALENCE, args=_props)
    assert result.k == 4
    assert result.estimate == pytest.approx(expected.estimate, rel=1e-12)
    assert result.ci_lb == pytest.approx(expected.ci_lb, rel=1e-12)
    assert result.participants == sum(n for _x, n in PREVALENCE.values())
    # The headline is a percentage on the natural scale, not a logit.
    pct = 100 * stats.transform("PLO", expected.estimate)
    assert result.estimate_text == f"{pct:.1f}% (PLO)"
    assert 0 < pct < 100


def test_freeman_tukey_is_back_transformed_with_the_harmonic_mean_of_n(
    review, lead, prevalence, prevalence_data, eager, django_capture_on_commit_callbacks
):
    analysis = _create(review, prevalence, lead, django_capture_on_commit_callbacks, measure="PFT")
    payload = analysis.current_result.payload
    sizes = [n for _x, n in PREVALENCE.values()]
    hm = len(sizes) / sum(1 / n for n in sizes)
    assert payload["transform_ni"] == pytest.approx(hm)
    expected = _engine("PFT", PREVALENCE, args=_props)
    assert payload["overall"]["estimate"] == pytest.approx(expected.estimate, rel=1e-12)
    back = 100 * stats.transform("PFT", expected.estimate, ni=sizes)
    assert analysis.current_result.estimate_text == f"{back:.1f}% (PFT)"


def test_the_prevalence_forest_plot_is_in_percent_without_favours_labels(
    review, lead, prevalence, prevalence_data, eager, django_capture_on_commit_callbacks
):
    from analysis.plots import forest_plot, forest_rows

    analysis = _create(review, prevalence, lead, django_capture_on_commit_callbacks)
    payload = analysis.current_result.payload
    rows = {
        r.cells["label"]: r.cells
        for r in forest_rows(ComputedResult.from_json(payload))
        if r.kind == "study"
    }
    # A study's own proportion, back-transformed: 12/80 = 15.0%.
    assert rows["Avery 2014"]["effect"].startswith("15.0 [")
    assert rows["Avery 2014"]["events"] == "12" and rows["Avery 2014"]["total"] == "80"
    fig = forest_plot(ComputedResult.from_json(payload)).to_plotly_json()
    squares = next(t for t in fig["data"] if t.get("name") == "Studies")
    # Observed proportions; Cole's zero count has escalc's 0.5 added to both cells (0.5/46).
    observed = [100 * (x or 0.5) / (n + (0 if x else 1)) for x, n in PREVALENCE.values()]
    assert sorted(squares["x"]) == pytest.approx(sorted(observed), rel=1e-9)
    axis = fig["layout"]["xaxis6"]  # label, events, total, weight, effect, then the plot
    assert axis["type"] == "linear" and 0 <= axis["range"][0] < axis["range"][1] <= 100
    labels = {a.get("name"): a["text"] for a in fig["layout"]["annotations"] if a.get("name")}
    assert labels["favours-left"] == labels["favours-right"] == ""
    assert not fig["layout"].get("shapes")  # no line of no effect for a single proportion


def test_a_correlational_analysis_pools_fisher_z_and_shows_r(
    review, lead, association, correlation_data, eager, django_capture_on_commit_callbacks
):
    from analysis.plots import forest_plot, forest_rows

    analysis = _create(review, association, lead, django_capture_on_commit_callbacks)
    assert analysis.measure == "ZCOR"
    payload = analysis.current_result.payload
    expected = _engine("ZCOR", CORRELATIONS, args=_cors)
    assert payload["overall"]["estimate"] == pytest.approx(expected.estimate, rel=1e-12)
    assert payload["overall"]["tau2"] == pytest.approx(expected.tau2, rel=1e-9, abs=1e-12)
    total = next(r for r in forest_rows(ComputedResult.from_json(payload)) if r.kind == "total")
    r_pooled = np.tanh(expected.estimate)
    assert total.cells["effect"].startswith(f"{r_pooled:.2f} [")
    assert total.cells["n"] == str(sum(n for _r, n in CORRELATIONS.values()))
    study = next(
        r
        for r in forest_rows(ComputedResult.from_json(payload))
        if r.cells.get("label") == "Grant 2017"
    )
    assert study.cells["effect"].startswith("0.45 [")
    fig = forest_plot(ComputedResult.from_json(payload)).to_plotly_json()
    squares = next(t for t in fig["data"] if t.get("name") == "Studies")
    assert sorted(squares["x"]) == pytest.approx(sorted(r for r, _n in CORRELATIONS.values()))
    assert fig["layout"]["shapes"][0]["x0"] == 0.0  # no correlation
    lo, hi = fig["layout"]["xaxis6"]["range"]
    assert -1 <= lo < 0 < hi <= 1


def test_raw_correlations_are_pooled_when_chosen(
    review, lead, association, correlation_data, eager, django_capture_on_commit_callbacks
):
    analysis = _create(review, association, lead, django_capture_on_commit_callbacks,
                       measure="COR", tau2_method="DL")  # fmt: skip
    es = stats.escalc("COR", **_cors(list(CORRELATIONS.values())))
    expected = stats.pool(es, method="DL")
    assert analysis.current_result.estimate == pytest.approx(expected.estimate, rel=1e-12)
    assert analysis.current_result.estimate_text == f"COR {expected.estimate:.2f}"


def test_a_measure_that_does_not_fit_the_outcome_is_refused(review, lead, prevalence, association):
    with pytest.raises(DomainError, match="PLO, PFT, PAS, PLN, PR"):
        services.analysis_create(review=review, outcome=prevalence, created_by=lead, measure="RR")
    with pytest.raises(DomainError, match="ZCOR, COR"):
        services.analysis_create(review=review, outcome=association, created_by=lead, measure="PLO")
    assert not Analysis.objects.exists()


def test_a_study_without_its_total_is_listed_with_the_reason(
    review, lead, sheet, prevalence, prevalence_data, eager, django_capture_on_commit_callbacks
):
    study = include_study(review, "Ives 2021", 2021)
    save_single(sheet, study, lead, prevalence, events=5)
    analysis = _create(review, prevalence, lead, django_capture_on_commit_callbacks)
    missing = {m["label"]: m["reason"] for m in analysis.current_result.missing}
    assert missing["Ives 2021"] == "no total reported"
    assert analysis.current_result.k == 4


def test_the_r_script_calls_escalc_with_the_measure_and_back_transforms(
    client_for, viewer, review, lead, prevalence, prevalence_data, association,
    correlation_data, eager, django_capture_on_commit_callbacks,
):  # fmt: skip
    pft = _create(review, prevalence, lead, django_capture_on_commit_callbacks, measure="PFT")
    zcor = _create(review, association, lead, django_capture_on_commit_callbacks)
    client = client_for(viewer)

    def get(a, fmt):
        url = reverse("analysis_download", args=[review.pk, a.pk, fmt])
        return client.get(url).content.decode()

    csv = get(pft, "csv").splitlines()
    assert csv[0].startswith("study_id,study,year,events,total,")
    assert any(line.split(",")[3:5] == ["12", "80"] for line in csv[1:])
    script = get(pft, "R")
    assert 'escalc(measure = "PFT", xi = events, ni = total' in script
    assert "transf = transf.ipft.hm, targs = list(ni = dat$total)" in script
    assert get(zcor, "csv").splitlines()[0].startswith("study_id,study,year,r,n,")
    script = get(zcor, "R")
    assert 'escalc(measure = "ZCOR", ri = r, ni = n' in script
    assert "transf = transf.ztor" in script


def test_the_analysis_page_and_the_api_show_a_prevalence_result(
    client_for, api_for, viewer, review, lead, prevalence, prevalence_data, eager,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    analysis = _create(review, prevalence, lead, django_capture_on_commit_callbacks)
    response = client_for(viewer).get(reverse("analysis_detail", args=[review.pk, analysis.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Proportion (logit transformed)" in html
    forest = json.loads(response.context["figures"]["forest"])
    assert any("Proportion (%)" in (a.get("text") or "") for a in forest["layout"]["annotations"])
    api = api_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            f"/api/reviews/{review.pk}/analyses/",
            {"outcome": prevalence.pk, "name": "Freeman-Tukey", "measure": "PFT"},
            format="json",
        )
    assert created.status_code == 201, created.data
    live = api.get(f"/api/reviews/{review.pk}/analyses/{created.data['id']}/result/").data
    assert live["result"]["payload"]["transform"] == "PFT"
    assert live["result"]["payload"]["percent"] is True
    bad = api.post(
        f"/api/reviews/{review.pk}/analyses/",
        {"outcome": prevalence.pk, "name": "Wrong", "measure": "SMD"},
        format="json",
    )
    assert bad.status_code == 400 and "measure" in bad.data
