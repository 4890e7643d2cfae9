"""Single-group proportions (prevalence) and correlations: entered per study for the whole
sample (no arm), validated, read by analyses and exported for metafor."""

import pytest

from extraction import exports, selectors, services
from extraction.models import OutcomeData
from tests.extraction.test_pages import entry_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def prevalence(review):
    return services.outcome_save(review=review, name="Prevalence", outcome_type="proportion")


@pytest.fixture
def association(review):
    return services.outcome_save(review=review, name="Association", outcome_type="correlation")


def _save(sheet, study, lead, rows, version=0):
    return services.extraction_save(
        form=sheet, study=study, user=lead, expected_version=version,
        data=services.ExtractionInput(answers={}, arms=[], outcomes=rows),
    )  # fmt: skip


def test_impossible_proportions_and_correlations_are_refused_with_messages(
    sheet, studies, lead, prevalence, association
):
    with pytest.raises(services.ValidationFailed) as caught:
        _save(sheet, studies[0], lead, [
            {"outcome": prevalence.pk, "timepoint": "baseline", "events": 12, "total": 10},
            {"outcome": association.pk, "timepoint": "baseline", "r": 1.4, "n": 50},
            {"outcome": association.pk, "timepoint": "6 months", "r": 0.2, "n": 50, "mean": 3},
        ])  # fmt: skip
    errors = caught.value.errors
    assert "12 events exceed the total of 10" in errors["outcomes.0.events"][0]
    assert errors["outcomes.1.r"] == [
        "Association, baseline, contrast: a correlation lies between -1 and 1 (got 1.4)."
    ]
    assert "mean does not apply to a correlation outcome" in errors["outcomes.2.mean"][0]
    assert not OutcomeData.objects.exists()


def test_the_analysis_rows_carry_the_whole_samples_numbers(
    sheet, studies, lead, prevalence, association
):
    _save(sheet, studies[0], lead, [
        {"outcome": prevalence.pk, "timepoint": "baseline", "events": 12, "total": 80},
        {"outcome": association.pk, "timepoint": "baseline", "r": "-0.25", "n": 64},
    ])  # fmt: skip
    _save(sheet, studies[1], lead, [
        {"outcome": prevalence.pk, "timepoint": "baseline", "events": 3},
        {"outcome": association.pk, "timepoint": "baseline", "n": 30},
    ])  # fmt: skip
    rows = {r.study_label: r for r in selectors.analysis_rows(outcome=prevalence)}
    first, second = studies[0].label, studies[1].label
    assert (rows[first].events, rows[first].total, rows[first].missing) == (12, 80, None)
    assert rows[second].missing == "no total reported"
    rows = {r.study_label: r for r in selectors.analysis_rows(outcome=association)}
    assert (rows[first].r, rows[first].n) == (-0.25, 64)
    assert rows[second].missing == "no correlation reported"
    # metafor's argument names: escalc(measure = "PLO", xi = xi, ni = ni, data = ...).
    lines = exports.metafor_csv(outcome=prevalence).splitlines()
    assert lines[0].startswith("study,timepoint,xi,ni,")
    assert lines[1].startswith(f"{first},baseline,12,80")
    lines = exports.metafor_csv(outcome=association).splitlines()
    assert lines[0].startswith("study,timepoint,ri,ni,")
    assert lines[1].startswith(f"{first},baseline,-0.25,64")


def test_the_entry_page_offers_r_and_n_for_a_correlation_without_an_arm(
    client_for, review, lead, sheet, studies, association, prevalence
):
    client = client_for(lead)
    page = client.get(entry_url(review, sheet, studies[0])).content.decode()
    assert "Correlation (r, n)" in page and "Single-group proportion (events, total)" in page
    post = {
        "version": "0",
        "o__0__outcome": str(association.pk),
        "o__0__timepoint": "baseline",
        "o__0__arm": "",
        "o__0__r": "0.31",
        "o__0__n": "120",
        "o__1__outcome": str(prevalence.pk),
        "o__1__timepoint": "baseline",
        "o__1__arm": "",
        "o__1__events": "9",
        "o__1__total": "60",
    }
    response = client.post(entry_url(review, sheet, studies[0], "save/"), post)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert OutcomeData.objects.get(outcome=association).r == 0.31
    stored = OutcomeData.objects.get(outcome=prevalence)
    assert (stored.arm, stored.events, stored.total) == ("", 9, 60)
    bad = client.post(
        entry_url(review, sheet, studies[0], "save/"), {**post, "version": "1", "o__0__r": "-2"}
    )
    assert bad.status_code == 400
    assert "a correlation lies between -1 and 1 (got -2)" in bad.content.decode()


def test_rates_take_events_and_person_time_per_arm_or_for_one_group(review, sheet, studies, lead):
    rate = services.outcome_save(review=review, name="Relapses", outcome_type="rate")
    single = services.outcome_save(review=review, name="Incidence", outcome_type="single_rate")
    with pytest.raises(services.ValidationFailed) as caught:
        _save(sheet, studies[0], lead, [
            {"outcome": single.pk, "timepoint": "1 year", "events": 3, "person_time": 0},
        ])  # fmt: skip
    assert (
        "person-time must be greater than 0 (got 0)"
        in caught.value.errors["outcomes.0.person_time"][0]
    )
    services.extraction_save(
        form=sheet, study=studies[0], user=lead, expected_version=0,
        data=services.ExtractionInput(answers={}, arms=[
            {"label": "Peer support", "role": "intervention"},
            {"label": "Usual care", "role": "control"},
        ], outcomes=[
            {"outcome": rate.pk, "timepoint": "1 year", "arm": "Peer support", "events": 4,
             "person_time": 120.5},
            {"outcome": rate.pk, "timepoint": "1 year", "arm": "Usual care", "events": 9,
             "person_time": 118},
            {"outcome": single.pk, "timepoint": "1 year", "events": 13, "person_time": 238.5},
        ]),
    )  # fmt: skip
    row = next(r for r in selectors.analysis_rows(outcome=rate) if r.study_id == studies[0].pk)
    assert (row.intervention.events, row.intervention.person_time) == (4, 120.5)
    assert row.missing is None
    lines = exports.metafor_csv(outcome=rate).splitlines()
    assert lines[0].startswith("study,timepoint,x1i,t1i,x2i,t2i,")
    assert lines[1].startswith(f"{studies[0].label},1 year,4,120.5,9,118.0")
    lines = exports.metafor_csv(outcome=single).splitlines()
    assert lines[0].startswith("study,timepoint,xi,ti,")
    assert lines[1].startswith(f"{studies[0].label},1 year,13,238.5")


def test_a_paired_outcome_takes_both_occasions_and_an_optional_correlation(
    review, sheet, studies, lead
):
    paired = services.outcome_save(review=review, name="Symptoms", outcome_type="paired")
    with pytest.raises(services.ValidationFailed) as caught:
        _save(sheet, studies[0], lead, [
            {"outcome": paired.pk, "timepoint": "12 weeks", "mean_pre": 20, "sd_pre": -1,
             "mean": 18, "sd": 5, "n": 30},
        ])  # fmt: skip
    assert "SD must be greater than 0 (got -1)" in caught.value.errors["outcomes.0.sd_pre"][0]
    _save(sheet, studies[0], lead, [
        {"outcome": paired.pk, "timepoint": "12 weeks", "mean_pre": 20, "sd_pre": 6,
         "mean": 18, "sd": 5.5, "n": 30},
    ])  # fmt: skip
    _save(sheet, studies[1], lead, [
        {"outcome": paired.pk, "timepoint": "12 weeks", "mean": 18, "sd": 5.5, "n": 30},
    ])  # fmt: skip
    rows = {r.study_label: r for r in selectors.analysis_rows(outcome=paired)}
    first = rows[studies[0].label]
    assert (first.mean_pre, first.sd_pre, first.mean, first.sd, first.n, first.r) == (
        20,
        6,
        18,
        5.5,
        30,
        None,
    )
    assert first.missing is None  # the correlation is imputed by the analysis
    assert rows[studies[1].label].missing == "no baseline mean reported"
    lines = exports.metafor_csv(outcome=paired).splitlines()
    assert lines[0].startswith("study,timepoint,m1i,sd1i,m2i,sd2i,ni,ri,")


def test_the_entry_page_takes_a_single_group_mean_without_an_arm(
    client_for, review, lead, sheet, studies
):
    biomass = services.outcome_save(review=review, name="Biomass", outcome_type="mean")
    client = client_for(lead)
    page = client.get(entry_url(review, sheet, studies[0])).content.decode()
    assert "Single-group mean (mean, SD, n)" in page
    assert 'name="o__0__mean"' in page and 'name="o__0__events"' not in page
    post = {
        "version": "0",
        "o__0__outcome": str(biomass.pk),
        "o__0__timepoint": "baseline",
        "o__0__arm": "",
        "o__0__mean": "3.9",
        "o__0__sd": "1.1",
        "o__0__n": "25",
    }
    response = client.post(entry_url(review, sheet, studies[0], "save/"), post)
    assert response.status_code == 302, response.content.decode()[:2000]
    stored = OutcomeData.objects.get(outcome=biomass)
    assert (stored.arm, stored.mean, stored.sd, stored.n) == ("", 3.9, 1.1, 25)
    bad = client.post(
        entry_url(review, sheet, studies[0], "save/"), {**post, "version": "1", "o__0__sd": "0"}
    )
    assert bad.status_code == 400
    assert "SD must be greater than 0 (got 0)" in bad.content.decode()
    assert OutcomeData.objects.get(outcome=biomass).sd == 1.1  # bad input costs no data


def test_a_paired_row_without_a_follow_up_sd_is_left_to_the_analysis(review, sheet, studies, lead):
    paired = services.outcome_save(review=review, name="Symptoms", outcome_type="paired")
    _save(sheet, studies[0], lead, [
        {"outcome": paired.pk, "timepoint": "12 weeks", "mean_pre": 20, "sd_pre": 6,
         "mean": 18, "n": 30},
    ])  # fmt: skip
    row = selectors.analysis_rows(outcome=paired)[0]
    assert row.missing is None  # SMCR uses it; the other measures list it as missing
