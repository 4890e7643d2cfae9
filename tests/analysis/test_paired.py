"""Paired (pre-post) designs: one group measured twice. The pre-post correlation is used
where reported and imputed with the analysis's setting (0.5 by default) where not."""

import pytest
from django.urls import reverse

from analysis import services, stats
from analysis.results import ComputedResult
from extraction import services as extraction
from reviewapp.errors import DomainError
from tests.analysis.conftest import include_study

pytestmark = pytest.mark.django_db

STUDIES = {  # baseline mean, SD; follow-up mean, SD; n; r (None: not reported)
    "Abel 2013": (22.0, 6.1, 17.5, 6.4, 40, 0.62),
    "Boyd 2016": (25.3, 5.0, 21.9, 5.6, 28, None),
    "Cruz 2018": (19.8, 7.2, 18.1, 7.0, 75, 0.71),
    "Dean 2021": (23.4, 6.6, 20.2, 6.9, 52, None),
}


@pytest.fixture
def symptoms(review):
    return extraction.outcome_save(
        review=review, name="Depressive symptoms", outcome_type="paired",
        desirable_direction="lower",
    )  # fmt: skip


@pytest.fixture
def paired_data(review, lead, sheet, symptoms):
    for label, (m0, s0, m1, s1, n, r) in STUDIES.items():
        row = {"outcome": symptoms.pk, "timepoint": "12 weeks", "mean_pre": m0, "sd_pre": s0,
               "mean": m1, "sd": s1, "n": n, "r": r}  # fmt: skip
        extraction.extraction_save(
            form=sheet, study=include_study(review, label, int(label[-4:])), user=lead,
            expected_version=0,
            data=extraction.ExtractionInput(answers={}, arms=[], outcomes=[row], complete=True),
        )  # fmt: skip


def _engine(measure, r_default):
    rows = list(STUDIES.values())
    es = stats.escalc(
        measure, m1i=[x[2] for x in rows], sd1i=[x[3] for x in rows],
        m2i=[x[0] for x in rows], sd2i=[x[1] for x in rows], ni=[x[4] for x in rows],
        ri=[r_default if x[5] is None else x[5] for x in rows],
    )  # fmt: skip
    return stats.pool(es, method="REML")


def _create(review, outcome, lead, capture, **settings):
    with capture(execute=True):
        a = services.analysis_create(review=review, outcome=outcome, created_by=lead, **settings)
    a.refresh_from_db()
    return a


def test_a_paired_analysis_imputes_the_missing_pre_post_correlation_and_says_so(
    review, lead, symptoms, paired_data, eager, django_capture_on_commit_callbacks
):
    analysis = _create(review, symptoms, lead, django_capture_on_commit_callbacks)
    assert (analysis.measure, analysis.prepost_correlation) == ("SMCC", 0.5)
    payload = analysis.current_result.payload
    assert payload["overall"]["estimate"] == pytest.approx(_engine("SMCC", 0.5).estimate, rel=1e-12)
    assert any("0.5 used" in w and "Boyd 2016, Dean 2021" in w for w in payload["warnings"]), (
        payload["warnings"]
    )
    assert analysis.current_result.participants == sum(x[4] for x in STUDIES.values())


def test_the_lead_changes_the_imputed_correlation_and_the_measure(
    review, lead, symptoms, paired_data, eager, django_capture_on_commit_callbacks
):
    from analysis.plots import forest_rows

    analysis = _create(review, symptoms, lead, django_capture_on_commit_callbacks,
                       measure="MC", prepost_correlation=0.8)  # fmt: skip
    expected = _engine("MC", 0.8)
    assert analysis.current_result.estimate == pytest.approx(expected.estimate, rel=1e-12)
    assert expected.estimate != pytest.approx(_engine("MC", 0.5).estimate)
    study = next(r for r in forest_rows(ComputedResult.from_json(analysis.current_result.payload))
                 if r.cells.get("label") == "Abel 2013")  # fmt: skip
    assert study.cells["effect"].startswith(f"{17.5 - 22.0:.2f} [")
    assert (study.cells["mean_pre"], study.cells["r"]) == ("22.00", "0.62")
    with pytest.raises(DomainError, match="between -1 and 1"):
        services.analysis_update(analysis=analysis, prepost_correlation=1.0)


def test_the_r_script_imputes_the_same_correlation(
    client_for, viewer, review, lead, symptoms, paired_data, eager,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    analysis = _create(review, symptoms, lead, django_capture_on_commit_callbacks,
                       prepost_correlation=0.6)  # fmt: skip
    url = reverse("analysis_download", args=[review.pk, analysis.pk, "R"])
    script = client_for(viewer).get(url).content.decode()
    assert "dat$r[is.na(dat$r)] <- 0.6" in script
    assert ('escalc(measure = "SMCC", m1i = mean, sd1i = sd, m2i = mean_pre, sd2i = sd_pre, '
            "ni = n, ri = r") in script  # fmt: skip


def test_the_lead_sets_the_imputed_correlation_on_the_analysis_form(
    client_for, review, lead, symptoms
):
    client = client_for(lead)
    base = {"outcome": symptoms.pk, "preset": "custom", "model": "random", "tau2_method": "REML",
            "test": "z", "level": 95, "intervention_label": "i", "control_label": "c",
            "sort_by": "study"}  # fmt: skip
    url = reverse("analysis_create", args=[review.pk])
    assert client.post(url, {**base, "name": "Default r"}).status_code == 302
    assert (
        client.post(url, {**base, "name": "r 0.3", "prepost_correlation": "0.3"}).status_code == 302
    )
    bad = client.post(url, {**base, "name": "r 1", "prepost_correlation": "1"})
    assert bad.status_code == 400 and "between -1 and 1" in bad.content.decode()
    from analysis.models import Analysis

    saved = dict(Analysis.objects.values_list("name", "prepost_correlation"))
    assert saved == {"Default r": 0.5, "r 0.3": 0.3}
    assert Analysis.objects.get(name="r 0.3").measure == "SMCC"
