"""The three-level model against metafor's rma.mv and clubSandwich's CR2 (reference JSON from
tests/analysis/stats/reference/make_multilevel_reference.R; R is not needed here)."""

import json
from pathlib import Path

import numpy as np
import pytest

from analysis.stats import pool, pool_multilevel

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "multilevel_reference.json").read_text()
)
CASES = REFERENCE["cases"]
# metafor's optimiser stops at a relative tolerance near 1e-8 (our log-likelihood is never
# below its own at the optimum, see test_the_fit_is_at_least_as_good_as_metafors): the
# components agree to about 1e-6 of the largest one, the rest follows.
RTOL = 2e-5


def _fit(case, **kwargs):
    i = case["inputs"]
    return pool_multilevel(i["yi"], i["vi"], i["study"], method=case["method"], **kwargs)


def _close(actual, expected, scale=1.0):
    return actual == pytest.approx(expected, rel=RTOL, abs=RTOL * scale)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['name']}-{c['method']}")
def test_the_model_based_results_match_metafor(case):
    out = _fit(case).to_dict()
    expected = case["expected"]
    scale = expected["sigma2_between"] + expected["sigma2_within"]
    for key in ("sigma2_between", "sigma2_within"):
        assert _close(out[key], expected[key], scale), key
    for key in ("i2_between", "i2_within"):
        assert _close(out[key], expected[key], 100), key
    for key in ("estimate", "se", "zval", "pval", "ci_lb", "ci_ub", "q", "q_pval", "loglik"):
        assert _close(out[key], expected[key]), key
    assert (out["k"], out["n_studies"], out["q_df"]) == (
        expected["k"],
        expected["n_studies"],
        expected["q_df"],
    )
    assert out["tval"] is None and out["df"] is None


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['name']}-{c['method']}")
def test_the_cluster_robust_results_match_clubsandwich_cr2(case):
    out = _fit(case, robust=True).to_dict()
    expected = case["robust"]
    for key in ("se", "tval", "df", "pval", "ci_lb", "ci_ub"):
        assert _close(out[key], expected[key]), key
    assert out["zval"] is None
    assert _close(out["estimate"], case["expected"]["estimate"])


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['name']}-{c['method']}")
def test_the_fit_is_at_least_as_good_as_metafors(case):
    assert _fit(case).loglik >= case["expected"]["loglik"] - 1e-9


def test_weights_are_each_effect_sizes_share_of_the_estimate():
    case = CASES[0]
    result = _fit(case)
    weights = np.array(result.weights) / 100
    assert weights.sum() == pytest.approx(1.0)
    assert np.dot(weights, case["inputs"]["yi"]) == pytest.approx(result.estimate)


def test_study_labels_of_any_type_and_order_give_the_same_fit():
    case = CASES[2]
    i = case["inputs"]
    as_text = pool_multilevel(i["yi"], i["vi"], i["study"])
    as_numbers = pool_multilevel(i["yi"], i["vi"], np.array([int(s) for s in i["study"]]))
    order = np.random.default_rng(3).permutation(len(i["yi"]))
    shuffled = pool_multilevel(
        np.array(i["yi"])[order], np.array(i["vi"])[order], np.array(i["study"])[order]
    )
    for other in (as_numbers, shuffled):
        assert other.estimate == pytest.approx(as_text.estimate, rel=1e-9)
        assert other.sigma2_between == pytest.approx(as_text.sigma2_between, rel=1e-6)


def test_a_level_of_90_narrows_the_interval():
    case = CASES[0]
    wide, narrow = _fit(case), _fit(case, level=90)
    assert narrow.ci_ub - narrow.ci_lb < wide.ci_ub - wide.ci_lb
    assert narrow.level == pytest.approx(90)


@pytest.mark.parametrize(
    ("yi", "vi", "study", "message"),
    [
        ([0.1, 0.2, 0.3], [0.1, 0.1, 0.1], ["a", "b", "c"], "one effect size"),
        ([0.1, 0.2, 0.3], [0.1, 0.1, 0.1], ["a", "a", "a"], "at least two studies"),
        ([0.1, 0.2], [0.1, 0.1], ["a", "b"], "at least three"),
        ([0.1, 0.2, 0.3, 0.4], [0.1, 0, 0.1, 0.1], ["a", "a", "b", "b"], "greater than zero"),
        ([0.1, float("nan"), 0.3, 0.4], [0.1] * 4, ["a", "a", "b", "b"], "finite"),
        ([0.1, 0.2, 0.3], [0.1, 0.1], ["a", "a", "b"], "same length"),
    ],
)
def test_impossible_input_is_refused_with_a_message(yi, vi, study, message):
    with pytest.raises(ValueError, match=message):
        pool_multilevel(yi, vi, study)


def test_an_unknown_method_is_refused():
    with pytest.raises(ValueError, match="REML"):
        pool_multilevel([0.1, 0.2, 0.3], [0.1] * 3, ["a", "a", "b"], method="DL")


def test_without_within_study_variation_the_total_matches_the_two_level_model():
    """With one effect size per study save one, the between component carries all the
    heterogeneity the two-level REML model finds (a sanity link between the two engines)."""
    case = next(c for c in CASES if c["name"] == "no_within_heterogeneity")
    three = _fit(case)
    i = case["inputs"]
    two = pool(np.array(i["yi"]), np.array(i["vi"]), method=case["method"])
    assert three.sigma2_within == pytest.approx(0, abs=1e-8)
    # Effect sizes of one study share u_i, so the two models differ; both see heterogeneity.
    assert three.sigma2_between > 0 and two.tau2 > 0
