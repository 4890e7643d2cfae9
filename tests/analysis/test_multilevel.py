"""The three-level model on the analysis page: every timepoint a study reports is an effect
size nested in its study, pooled as metafor's rma.mv(yi, vi, random = ~ 1 | study/es)."""

import pytest
from django.urls import reverse

from analysis import services, stats
from analysis.results import ComputedResult
from extraction import services as extraction
from reviewapp.errors import DomainError
from tests.analysis.conftest import ARMS, include_study

pytestmark = pytest.mark.django_db

DATA = {  # timepoint, weeks -> (mean, sd, n) intervention, control
    "Chinman 2015": {("6 months", 26): ((10.2, 3.1, 40), (9.1, 3.3, 42)),
                     ("12 months", 52): ((10.8, 3.0, 38), (9.0, 3.2, 40))},
    "Gillard 2015": {("6 months", 26): ((8.2, 2.9, 30), (8.9, 3.0, 31)),
                     ("12 months", 52): ((8.6, 2.8, 29), (8.8, 3.1, 30))},
    "Rogers 2016": {("12 months", 52): ((11.0, 4.0, 100), (10.0, 4.1, 98))},
    "Simpson 2014": {("3 months", 13): ((9.0, 3.5, 25), (8.1, 3.6, 24)),
                     ("6 months", 26): ((9.6, 3.3, 25), (8.0, 3.4, 24)),
                     ("12 months", 52): ((9.9, 3.6, 24), (8.3, 3.5, 23))},
}  # fmt: skip


@pytest.fixture
def repeated(review, lead, sheet, outcome):
    for label, points in DATA.items():
        rows = [
            {"outcome": outcome.pk, "timepoint": tp, "timepoint_weeks": weeks, "arm": arm["label"],
             "mean": m, "sd": sd, "n": n}
            for (tp, weeks), arms in points.items()
            for arm, (m, sd, n) in zip(ARMS, arms, strict=True)
        ]  # fmt: skip
        extraction.extraction_save(
            form=sheet, study=include_study(review, label, int(label[-4:])), user=lead,
            expected_version=0,
            data=extraction.ExtractionInput(answers={}, arms=ARMS, outcomes=rows, complete=True),
        )  # fmt: skip


def _engine(method="REML"):
    arms = [a for points in DATA.values() for a in points.values()]
    es = stats.escalc(
        "SMD", m1i=[a[0][0] for a in arms], sd1i=[a[0][1] for a in arms],
        n1i=[a[0][2] for a in arms], m2i=[a[1][0] for a in arms],
        sd2i=[a[1][1] for a in arms], n2i=[a[1][2] for a in arms],
    )  # fmt: skip
    study = [label for label, points in DATA.items() for _ in points]
    return stats.pool_multilevel(es.yi, es.vi, study, method=method)


def _create(review, outcome, lead, capture, **settings):
    with capture(execute=True):
        a = services.analysis_create(review=review, outcome=outcome, created_by=lead, **settings)
    a.refresh_from_db()
    return a


def test_every_timepoint_enters_a_three_level_model_with_its_variance_components(
    review, lead, outcome, repeated, eager, django_capture_on_commit_callbacks
):
    single = _create(review, outcome, lead, django_capture_on_commit_callbacks, name="Usual")
    assert single.current_result.k == 4  # one effect size per study: the longest follow-up
    analysis = _create(review, outcome, lead, django_capture_on_commit_callbacks,
                       name="Three-level", multilevel=True)  # fmt: skip
    overall = analysis.current_result.payload["overall"]
    expected = _engine().to_dict()
    assert (overall["k"], overall["n_studies"]) == (8, 4)
    for key in ("estimate", "se", "ci_lb", "ci_ub", "pval", "q"):
        assert overall[key] == pytest.approx(expected[key], rel=1e-10), key
    for key in ("sigma2_between", "sigma2_within", "i2_between", "i2_within"):
        assert overall[key] == pytest.approx(expected[key], rel=1e-6, abs=1e-10), key
    assert analysis.current_result.estimate == pytest.approx(expected["estimate"], rel=1e-10)
    ml = _create(review, outcome, lead, django_capture_on_commit_callbacks,
                 name="ML", multilevel=True, tau2_method="ML")  # fmt: skip
    assert ml.current_result.estimate == pytest.approx(_engine("ML").estimate, rel=1e-10)


def test_the_forest_plot_groups_effect_sizes_by_study_and_splits_i2(
    client_for, viewer, review, lead, outcome, repeated, eager,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    from analysis.plots import forest_plot, forest_rows

    analysis = _create(review, outcome, lead, django_capture_on_commit_callbacks,
                       multilevel=True)  # fmt: skip
    payload = analysis.current_result.payload
    rows = forest_rows(ComputedResult.from_json(payload))
    kinds = [(r.kind, r.cells.get("label", "").strip()) for r in rows]
    at = kinds.index(("header", "Simpson 2014"))
    assert [k for k, _label in kinds[at + 1 : at + 4]] == ["study"] * 3
    assert {label for _k, label in kinds[at + 1 : at + 4]} == {"3 months", "6 months", "12 months"}
    het = next(r for r in rows if r.kind == "het").cells["label"]
    assert "σ² between studies" in het and "I² between" in het and "within" in het
    assert forest_plot(ComputedResult.from_json(payload)).to_plotly_json()["data"]
    page = client_for(viewer).get(reverse("analysis_detail", args=[review.pk, analysis.pk]))
    assert "effect sizes in 4 studies (three-level model)" in page.content.decode()
    url = reverse("analysis_download", args=[review.pk, analysis.pk, "R"])
    script = client_for(viewer).get(url).content.decode()
    assert "rma.mv(yi, vi, random = ~ 1 | study_id/es" in script
    assert script.count("Simpson 2014") == 3


def test_the_three_level_model_needs_random_effects_by_reml_or_ml(review, lead, outcome):
    with pytest.raises(DomainError, match="REML or ML"):
        services.analysis_create(review=review, outcome=outcome, created_by=lead,
                                 multilevel=True, tau2_method="DL")  # fmt: skip
    with pytest.raises(DomainError, match="REML or ML"):
        services.analysis_create(review=review, outcome=outcome, created_by=lead,
                                 multilevel=True, model="fixed")  # fmt: skip


def test_cluster_robust_inference_uses_the_engines_cr2(
    review, lead, outcome, repeated, eager, django_capture_on_commit_callbacks
):
    analysis = _create(review, outcome, lead, django_capture_on_commit_callbacks,
                       multilevel=True, robust=True)  # fmt: skip
    overall = analysis.current_result.payload["overall"]
    arms = [a for points in DATA.values() for a in points.values()]
    es = stats.escalc(
        "SMD", m1i=[a[0][0] for a in arms], sd1i=[a[0][1] for a in arms],
        n1i=[a[0][2] for a in arms], m2i=[a[1][0] for a in arms],
        sd2i=[a[1][1] for a in arms], n2i=[a[1][2] for a in arms],
    )  # fmt: skip
    study = [label for label, points in DATA.items() for _ in points]
    expected = stats.pool_multilevel(es.yi, es.vi, study, robust=True).to_dict()
    assert overall["robust"] is True
    for key in ("se", "tval", "df", "pval", "ci_lb", "ci_ub"):
        assert overall[key] == pytest.approx(expected[key], rel=1e-10), key
    assert overall["se"] != pytest.approx(_engine().se, rel=1e-6)
    with pytest.raises(DomainError, match="three-level model"):
        services.analysis_create(review=review, outcome=outcome, created_by=lead,
                                 name="Robust alone", robust=True)  # fmt: skip
