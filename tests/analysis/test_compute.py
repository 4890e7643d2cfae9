"""The engine is called with the analysis's settings and its numbers reach the payload as they
are. No database: payloads are built from StudyRows."""

import math

import pytest

from analysis import stats
from analysis.inputs import AnalysisInputs, StudyRow, missing_reason, row_from_extraction
from analysis.services import compute_payload, input_hash
from analysis.stats.binary import pool_mh
from analysis.stats.sensitivity import subgroups
from tests.analysis.payloads import (
    CONTINUOUS,
    DICHOTOMOUS,
    continuous_payload,
    dichotomous_payload,
    spec,
)

USABLE = [r for r in CONTINUOUS if r.sd1 is not None]


def _es(rows, measure="SMD"):
    return stats.escalc(
        measure,
        n1i=[r.n1 for r in rows], m1i=[r.m1 for r in rows], sd1i=[r.sd1 for r in rows],
        n2i=[r.n2 for r in rows], m2i=[r.m2 for r in rows], sd2i=[r.sd2 for r in rows],
    )  # fmt: skip


def test_the_pooled_result_is_the_engines_reml_fit():
    payload = continuous_payload()
    expected = stats.pool(_es(USABLE), method="REML")
    overall = payload["overall"]
    assert overall["k"] == 4
    assert overall["estimate"] == pytest.approx(expected.estimate, rel=1e-12)
    assert overall["ci_lb"] == pytest.approx(expected.ci_lb, rel=1e-12)
    assert overall["tau2"] == pytest.approx(expected.tau2, rel=1e-12)
    assert overall["pi_lb"] == pytest.approx(expected.pi_lb, rel=1e-12)
    assert [s["weight"] for s in payload["studies"]] == pytest.approx(list(expected.weights))
    assert payload["participants"] == 40 + 42 + 30 + 31 + 100 + 98 + 25 + 24


def test_a_study_without_an_sd_is_listed_with_the_reason_not_dropped():
    payload = continuous_payload()
    missing = {m["label"]: m["reason"] for m in payload["missing"]}
    assert missing["Kelly 2017"] == "no SD reported for the intervention arm"
    assert missing["Mahlke 2017"] == "not extracted yet"
    assert "Kelly 2017" not in [s["label"] for s in payload["studies"]]


def test_knapp_hartung_and_the_estimator_are_passed_to_the_engine():
    payload = continuous_payload(tau2_method="DL", test="knha")
    expected = stats.pool(_es(USABLE), method="DL", test="knha")
    assert payload["overall"]["method"] == "DL"
    assert payload["overall"]["tval"] == pytest.approx(expected.stat)
    assert payload["overall"]["ci_ub"] == pytest.approx(expected.ci_ub)


def test_a_common_effect_model_has_no_prediction_interval():
    payload = continuous_payload(model="fixed")
    assert payload["overall"]["method"] == "FE"
    assert payload["overall"]["pi_lb"] is None
    assert continuous_payload(prediction_interval=False)["overall"]["pi_lb"] is None


def test_mantel_haenszel_pools_the_2x2_tables():
    payload = dichotomous_payload(model="fixed", mantel_haenszel=True)
    rows = DICHOTOMOUS
    expected = pool_mh(
        [r.events1 for r in rows], n1i=[r.total1 for r in rows],
        ci=[r.events2 for r in rows], n2i=[r.total2 for r in rows], measure="RR",
    )  # fmt: skip
    assert payload["overall"]["method"] == "MH"
    assert payload["overall"]["estimate"] == pytest.approx(expected.estimate)
    assert payload["ratio"] is True


def test_the_revman_preset_uses_greenland_robins_for_mh_risk_differences():
    rows = DICHOTOMOUS
    metafor = dichotomous_payload(measure="RD", model="fixed", mantel_haenszel=True)
    revman = dichotomous_payload(measure="RD", model="fixed", mantel_haenszel=True, revman=True)
    gr = pool_mh(
        [r.events1 for r in rows], n1i=[r.total1 for r in rows], ci=[r.events2 for r in rows],
        n2i=[r.total2 for r in rows], measure="RD", rd_variance="GR", zero_cell="revman",
    )  # fmt: skip
    assert revman["overall"]["se"] == pytest.approx(gr.se)
    assert revman["overall"]["se"] != pytest.approx(metafor["overall"]["se"], rel=1e-9)


def test_subgroups_and_their_test_come_from_the_engine():
    payload = continuous_payload(subgroup_field="org_support")
    groups = [r.subgroups["org_support"] for r in USABLE]
    es = _es(USABLE)
    expected = subgroups(es.yi, es.vi, groups, method="REML")
    sub = payload["subgroups"]
    assert [g["name"] for g in sub["groups"]] == ["higher", "lower"]
    assert sub["groups"][0]["pool"]["estimate"] == pytest.approx(
        expected.subgroups["higher"].estimate
    )
    assert sub["test"]["q"] == pytest.approx(expected.q_between)
    assert sub["test"]["df"] == 1


def test_sensitivity_without_high_risk_studies_leaves_them_out():
    payload = continuous_payload(exclude_high_rob=True)
    sens = payload["sensitivity"]["exclude_high_rob"]
    assert sens["excluded"] == ["Gillard 2015"]
    kept = [r for r in USABLE if r.rob != "high"]
    assert sens["pool"]["estimate"] == pytest.approx(stats.pool(_es(kept)).estimate)


def test_leave_one_out_and_cumulative_by_year():
    payload = continuous_payload(cumulative=True)
    loo = payload["sensitivity"]["leave_one_out"]["rows"]
    assert [r["omitted"] for r in loo] == [r.label for r in USABLE]
    cum = payload["sensitivity"]["cumulative"]["rows"]
    assert [r["year"] for r in cum] == [2014, 2015, 2015, 2016]
    assert cum[-1]["estimate"] == pytest.approx(payload["overall"]["estimate"])


def test_harmonised_signs_negate_lower_is_better_effects_only_when_asked():
    plain = continuous_payload(direction="lower")
    flipped = continuous_payload(direction="lower", harmonise_signs=True)
    assert flipped["overall"]["estimate"] == pytest.approx(-plain["overall"]["estimate"])
    assert flipped["harmonised"] is True and plain["harmonised"] is False
    higher = continuous_payload(direction="higher", harmonise_signs=True)
    assert higher["overall"]["estimate"] == pytest.approx(plain["overall"]["estimate"])


def test_impossible_numbers_raise_naming_the_study():
    bad = (StudyRow(1, "Odd 2020", n1=10, m1=1, sd1=-1, n2=10, m2=1, sd2=1),
           StudyRow(2, "Fine 2020", n1=10, m1=1, sd1=1, n2=10, m2=1, sd2=1))  # fmt: skip
    with pytest.raises(ValueError, match="Odd 2020"):
        compute_payload(spec(), AnalysisInputs(rows=bad))


def test_no_usable_study_gives_an_empty_result_with_the_reasons():
    payload = compute_payload(spec(), AnalysisInputs(rows=(CONTINUOUS[4],)))
    assert payload["overall"] is None
    assert payload["missing"][0]["reason"].startswith("no SD")


def test_generic_ratio_estimates_are_pooled_on_the_log_scale():
    rows = (StudyRow(1, "A 2001", estimate=0.8, ci_lower=0.6, ci_upper=1.07),
            StudyRow(2, "B 2002", estimate=0.7, ci_lower=0.5, ci_upper=0.98))  # fmt: skip
    payload = compute_payload(spec(measure="GEN", generic_measure="OR"), AnalysisInputs(rows=rows))
    assert payload["ratio"] is True
    assert payload["studies"][0]["yi"] == pytest.approx(math.log(0.8))


def test_the_input_hash_changes_with_data_and_settings_only():
    inputs = AnalysisInputs(rows=CONTINUOUS)
    assert input_hash(spec(), inputs) == input_hash(spec(), AnalysisInputs(rows=CONTINUOUS))
    changed = AnalysisInputs(rows=CONTINUOUS[:-1])
    assert input_hash(spec(), inputs) != input_hash(spec(), changed)
    assert input_hash(spec(), inputs) != input_hash(spec(tau2_method="DL"), inputs)


def test_missing_reasons_name_what_is_absent():
    assert missing_reason(StudyRow(1, "A", events1=1, total1=None, events2=1, total2=9), "RR") == (
        "no total reported for the intervention arm"
    )
    assert missing_reason(StudyRow(1, "A", estimate=0.2), "GEN") == (
        "no standard error or confidence interval reported"
    )


def test_extraction_rows_map_arms_by_role():
    item = {
        "study_id": 7, "study_label": "Chinman 2015", "missing": None, "timepoint": "12 months",
        "intervention": {"n": 40, "mean": 10.2, "sd": 3.1},
        "control": {"n": 42, "mean": 9.1, "sd": 3.3},
        "variables": {"org_support": "higher", "setting": ["Inpatient", "Community services"]},
    }  # fmt: skip
    row = row_from_extraction(item)
    assert (row.n1, row.m2, row.year) == (40, 9.1, 2015)
    assert row.subgroups == {"org_support": "higher", "setting": "Inpatient, Community services"}
    gone = row_from_extraction(
        {"study_id": 8, "study_label": "X", "missing": "consensus not built yet"}
    )
    assert gone.reason == "consensus not built yet"
