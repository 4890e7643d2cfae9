"""Single-group means (mean, SD, n: MN, MNLN) and paired outcomes standardised by the baseline
SD (SMCR, SMCRH), from extraction's services to the pooled result, the forest plot, the
exports and the API. Expected values: tests/analysis/reference/app_reference.json, written by
metafor (make_app_reference.R beside it) from the same rows."""

import json
from pathlib import Path

import pytest
from django.urls import reverse

from analysis import services
from analysis.plots import forest_rows
from extraction import exports, selectors
from extraction import services as extraction
from tests.analysis.conftest import include_study

pytestmark = pytest.mark.django_db

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "app_reference.json").read_text(encoding="utf-8")
)
MEANS = REFERENCE["means"]
PAIRED = REFERENCE["paired"]


def _save(sheet, study, user, outcome, **values):
    row = {"outcome": outcome.pk, "timepoint": "baseline", **values}
    return extraction.extraction_save(
        form=sheet, study=study, user=user, expected_version=0,
        data=extraction.ExtractionInput(answers={}, arms=[], outcomes=[row], complete=True),
    )  # fmt: skip


def _create(review, outcome, lead, capture, **settings):
    with capture(execute=True):
        a = services.analysis_create(review=review, outcome=outcome, created_by=lead, **settings)
    a.refresh_from_db()
    return a


@pytest.fixture
def biomass(review):
    return extraction.outcome_save(review=review, name="Biomass", outcome_type="mean")


@pytest.fixture
def mean_data(review, lead, sheet, biomass):
    cols = MEANS["input"]
    for label, m, sd, n in zip(cols["label"], cols["mi"], cols["sdi"], cols["ni"], strict=True):
        study = include_study(review, label, int(label[-4:]))
        _save(sheet, study, lead, biomass, mean=m, sd=sd, n=n)


@pytest.fixture
def symptoms(review):
    return extraction.outcome_save(review=review, name="Symptoms", outcome_type="paired")


@pytest.fixture
def paired_data(review, lead, sheet, symptoms):
    cols = PAIRED["input"]
    keys = ("mean_pre", "sd_pre", "mean", "sd", "n", "r")
    for i, label in enumerate(cols["label"]):
        values = {k: cols[k][i] for k in keys if cols[k][i] is not None}
        _save(sheet, include_study(review, label, int(label[-4:])), lead, symptoms, **values)


def _matches(overall, expected):
    got = [overall[k] for k in ("estimate", "se", "ci_lb", "ci_ub", "tau2", "q")]
    want = [expected[k] for k in ("estimate", "se", "ci_lb", "ci_ub", "tau2", "q")]
    assert got == pytest.approx(want, rel=1e-6, abs=1e-8)
    assert overall["i2"] == pytest.approx(expected["i2"], abs=1e-6)


def test_a_mean_outcome_takes_mean_sd_and_n_for_the_whole_sample(
    review, sheet, lead, biomass, mean_data
):
    rows = {r.study_label: r for r in selectors.analysis_rows(outcome=biomass)}
    first = rows[MEANS["input"]["label"][0]]
    assert (first.mean, first.sd, first.n, first.missing) == (
        MEANS["input"]["mi"][0], MEANS["input"]["sdi"][0], MEANS["input"]["ni"][0], None,
    )  # fmt: skip
    lines = exports.metafor_csv(outcome=biomass).splitlines()
    assert lines[0].startswith("study,timepoint,mi,sdi,ni,")
    assert len(lines) == 1 + len(MEANS["input"]["label"])
    with pytest.raises(extraction.ValidationFailed) as caught:
        _save(sheet, include_study(review, "Late 2020", 2020), lead, biomass,
              mean=3.0, sd=0, n=10, events=2)  # fmt: skip
    errors = caught.value.errors
    assert "events does not apply to a mean outcome" in errors["outcomes.0.events"][0]
    assert "SD must be greater than 0" in errors["outcomes.0.sd"][0]


@pytest.mark.parametrize("measure", ["MN", "MNLN"])
def test_a_mean_analysis_matches_metafor_and_is_shown_as_a_mean(
    review, lead, biomass, mean_data, eager, django_capture_on_commit_callbacks, measure
):
    settings = {} if measure == "MN" else {"measure": measure}
    analysis = _create(review, biomass, lead, django_capture_on_commit_callbacks, **settings)
    assert analysis.measure == measure  # MN by default
    payload = analysis.current_result.payload
    expected = MEANS["expected"][measure]
    _matches(payload["overall"], expected)
    by_label = {s["label"]: s["yi"] for s in payload["studies"]}
    assert [by_label[label] for label in MEANS["input"]["label"]] == pytest.approx(
        expected["yi"], rel=1e-10
    )
    assert payload["single_group"] and payload["natural_label"] == "Mean"
    rows = forest_rows(analysis.current_result.computed)
    total = next(r for r in rows if r.kind == "total")
    natural = expected.get("natural") or [expected[k] for k in ("estimate", "ci_lb", "ci_ub")]
    assert total.cells["effect"] == "{:.2f} [{:.2f}, {:.2f}]".format(*natural)
    assert total.cells["n"] == str(sum(MEANS["input"]["ni"]))
    first = next(r for r in rows if r.cells.get("label") == MEANS["input"]["label"][0])
    assert first.cells["effect"].startswith(f"{MEANS['input']['mi'][0]:.2f} [")
    assert "Favours" not in json.dumps(payload)


def test_a_mean_outcome_refuses_two_group_measures(review, lead, biomass):
    from reviewapp.errors import DomainError

    with pytest.raises(DomainError, match="choose one of MN, MNLN"):
        services.analysis_create(review=review, outcome=biomass, created_by=lead, measure="SMD")


@pytest.mark.parametrize("measure", ["SMCR", "SMCRH"])
def test_baseline_standardised_change_matches_metafor_where_the_data_allow(
    review, lead, symptoms, paired_data, eager, django_capture_on_commit_callbacks, measure
):
    analysis = _create(review, symptoms, lead, django_capture_on_commit_callbacks,
                       measure=measure)  # fmt: skip
    payload = analysis.current_result.payload
    expected = PAIRED["expected"][measure]
    _matches(payload["overall"], expected)
    assert payload["overall"]["k"] == expected["k"]
    missing = {m["label"]: m["reason"] for m in payload["missing"]}
    # Eady reports no follow-up SD: SMCR does without it, SMCRH needs it.
    assert missing == ({} if measure == "SMCR" else {"Eady 2022": "no follow-up SD reported"})
    assert any("Boyd 2016, Dean 2021" in w for w in payload["warnings"])


def test_the_downloads_and_the_api_carry_a_mean_analysis(
    client_for, api_for, viewer, review, lead, biomass, mean_data, eager,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    analysis = _create(review, biomass, lead, django_capture_on_commit_callbacks,
                       measure="MNLN")  # fmt: skip

    def get(kind):
        url = reverse("analysis_download", args=[review.pk, analysis.pk, kind])
        return client_for(viewer).get(url).content.decode()

    assert get("csv").splitlines()[0].startswith("study_id,study,year,mean,sd,n,")
    script = get("R")
    assert 'escalc(measure = "MNLN", mi = mean, sdi = sd, ni = n' in script
    assert "transf = exp" in script
    api = api_for(lead)
    live = api.get(f"/api/reviews/{review.pk}/analyses/{analysis.pk}/result/").data
    assert live["result"]["payload"]["overall"]["estimate"] == pytest.approx(
        MEANS["expected"]["MNLN"]["estimate"], rel=1e-6
    )
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            f"/api/reviews/{review.pk}/analyses/",
            {"outcome": biomass.pk, "name": "Raw", "measure": "MN"},
            format="json",
        )
    assert created.status_code == 201, created.data
    outcome = api.get(f"/api/reviews/{review.pk}/outcomes/{biomass.pk}/")
    assert outcome.status_code == 200 and outcome.data["outcome_type"] == "mean"
