"""Every case in reference/metafor_reference.json, recomputed and compared."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from analysis.stats import escalc, generic_iv, metareg, pool
from analysis.stats.bias import begg, egger, trimfill
from analysis.stats.binary import pool_mh, pool_peto
from analysis.stats.sensitivity import cumulative, leave_one_out, subgroups

from ._reference import (
    CLOSED_FORM_RTOL,
    FISHER_RTOL,
    ROOT_TAU2_ATOL,
    ROOT_TIGHT_ATOL,
    arr,
    case_id,
    cases,
    close,
)

FISHER = ("REML", "ML", "EB")


def _rtol(method: str) -> float:
    return FISHER_RTOL if method in FISHER else CLOSED_FORM_RTOL


def test_reference_was_generated_with_metafor() -> None:
    from ._reference import reference

    ref = reference()
    assert ref["metafor_version"].count(".") == 2
    assert len(ref["cases"]) > 400


@pytest.mark.parametrize("case", cases("escalc"), ids=case_id)
def test_it_matches_metafor_escalc(case: dict[str, Any]) -> None:
    params = dict(case["params"] or {})
    params.setdefault("drop00", False)  # metafor's escalc keeps double-zero studies
    if case["measure"] == "ROM":
        params["correct"] = False  # metafor < 5.0: no bias correction
    if case["measure"] not in ("RR", "OR", "RD", "PETO"):
        params.pop("drop00")
    es = escalc(case["measure"], **case["input"], **params)
    close(es.yi, case["expected"]["yi"], rtol=CLOSED_FORM_RTOL, atol=1e-14)
    close(es.vi, case["expected"]["vi"], rtol=CLOSED_FORM_RTOL, atol=1e-14)


def test_it_matches_the_generic_inverse_variance_conversion() -> None:
    (case,) = cases("generic")
    es = generic_iv(
        case["input"]["estimate"],
        ci_lb=case["input"]["ci_lb"],
        ci_ub=case["input"]["ci_ub"],
        ratio=True,
    )
    close(es.yi, case["expected"]["yi"], rtol=CLOSED_FORM_RTOL)
    close(es.vi, case["expected"]["vi"], rtol=CLOSED_FORM_RTOL)
    # metadat stores the same values rounded to 4 decimals.
    close(es.yi, case["expected"]["yi_metadat"], atol=5e-5)
    close(es.vi, case["expected"]["vi_metadat"], atol=5e-5)


@pytest.mark.parametrize("case", cases("pool"), ids=case_id)
def test_it_matches_metafor_rma(case: dict[str, Any]) -> None:
    method, exp = case["method"], case["expected"]
    res = pool(case["input"]["yi"], case["input"]["vi"], method=method, test=case["test"])
    d = res.to_dict()
    assert d["k"] == exp["k"]
    if method == "PM":
        # Compare with metafor's tight-tolerance PM fit; the default fit is 1e-4 away at most.
        close(res.tau2, exp["tau2"], atol=ROOT_TAU2_ATOL)
        close(res.tau2, exp["tau2_tight"], atol=ROOT_TIGHT_ATOL)
        close(res.estimate, exp["estimate_tight"], rtol=1e-6, atol=1e-9)
        close(res.estimate, exp["estimate"], atol=1e-3)
        return
    rtol = _rtol(method)
    atol = 1e-12
    for key in (
        "estimate",
        "se",
        "ci_lb",
        "ci_ub",
        "pi_lb",
        "pi_ub",
        "tau2",
        "i2",
        "h2",
        "q",
        "q_pval",
    ):
        close(getattr(res, key), exp[key], rtol=rtol, atol=atol)
    close(res.stat, exp["stat"], rtol=rtol, atol=atol)
    close(res.pval, exp["pval"], rtol=max(rtol, 1e-9), atol=1e-15)
    close(res.weights, exp["weights"], rtol=rtol, atol=atol)
    if method != "FE":
        close(res.tau2_se, exp["tau2_se"], rtol=rtol, atol=atol)
    if "tau2_ci_tight" in exp:
        tau2_max = max(100.0, 10.0 * exp["tau2"])
        if np.isclose(exp["tau2_ci_tight"][1], tau2_max):
            # metafor stops the upper-bound search at tau2.max = max(100, 10 tau2) and
            # reports that value ("> tau2.max"); we keep searching and find the root.
            assert d["tau2_ci_ub"] > tau2_max
            close(d["tau2_ci_lb"], exp["tau2_ci_tight"][0], atol=ROOT_TIGHT_ATOL)
            return
        close([d["tau2_ci_lb"], d["tau2_ci_ub"]], exp["tau2_ci"], atol=ROOT_TAU2_ATOL)
        close([d["tau2_ci_lb"], d["tau2_ci_ub"]], exp["tau2_ci_tight"], atol=ROOT_TIGHT_ATOL)
        close([d["i2_ci_lb"], d["i2_ci_ub"]], exp["i2_ci_tight"], atol=1e-4)
        close([d["h2_ci_lb"], d["h2_ci_ub"]], exp["h2_ci_tight"], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", cases("mh") + cases("peto"), ids=case_id)
def test_it_matches_metafor_mh_and_peto(case: dict[str, Any]) -> None:
    t = case["input"]
    if case["kind"] == "mh":
        res = pool_mh(t["ai"], t["bi"], t["ci"], t["di"], measure=case["measure"])
    else:
        res = pool_peto(t["ai"], t["bi"], t["ci"], t["di"])
    exp = case["expected"]
    for key in ("estimate", "se", "stat", "pval", "ci_lb", "ci_ub", "q", "q_pval", "i2", "h2"):
        close(getattr(res, key), exp[key], rtol=CLOSED_FORM_RTOL, atol=1e-13)
    assert res.q_df == exp["q_df"]
    close(res.weights, exp["weights"], rtol=CLOSED_FORM_RTOL, atol=1e-13)
    if "cmh" in exp:
        close(res.extra["cmh"], exp["cmh"], rtol=CLOSED_FORM_RTOL)


@pytest.mark.parametrize("case", cases("leave1out"), ids=case_id)
def test_it_matches_metafor_leave1out(case: dict[str, Any]) -> None:
    res = leave_one_out(
        case["input"]["yi"], case["input"]["vi"], method=case["method"], test=case["test"]
    )
    exp = case["expected"]
    rtol = _rtol(case["method"])
    for key in ("estimate", "se", "pval", "ci_lb", "ci_ub", "q", "q_pval", "i2", "h2"):
        close(res.column(key), exp[key], rtol=rtol, atol=1e-12)
    if case["method"] != "FE":
        close(res.column("tau2"), exp["tau2"], rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("case", cases("cumul"), ids=case_id)
def test_it_matches_metafor_cumul(case: dict[str, Any]) -> None:
    inp = case["input"]
    res = cumulative(
        inp["yi"], inp["vi"], order=inp["order"], method=case["method"], test=case["test"]
    )
    exp = case["expected"]
    rtol = _rtol(case["method"])
    for key in ("estimate", "se", "ci_lb", "ci_ub"):
        close(res.column(key), exp[key], rtol=rtol, atol=1e-12)
    # metafor reports Q = 0, I2 = 0, tau2 = 0 for the k = 1 row; we report them as undefined.
    close(res.column("q")[1:], arr(exp["q"])[1:], rtol=rtol, atol=1e-12)
    assert res.fits[0].q is None and res.fits[0].i2 is None
    if case["method"] != "FE":
        close(res.column("tau2")[1:], arr(exp["tau2"])[1:], rtol=rtol, atol=1e-12)
        close(res.column("i2")[1:], arr(exp["i2"])[1:], rtol=rtol, atol=1e-9)


@pytest.mark.parametrize("case", cases("subgroups"), ids=case_id)
def test_it_matches_metafor_subgroups(case: dict[str, Any]) -> None:
    inp, exp = case["input"], case["expected"]
    method, test = case["method"], case["test"]
    rtol = _rtol(method)
    res = subgroups(inp["yi"], inp["vi"], inp["groups"], method=method, test=test)
    assert list(res.subgroups) == list(exp["subgroups"])
    for name, sub in exp["subgroups"].items():
        fit = res.subgroups[name]
        for key in ("estimate", "se", "q", "ci_lb", "ci_ub", "tau2"):
            close(getattr(fit, key), sub[key], rtol=rtol, atol=1e-12)
    close(res.q_between, exp["q_between"], rtol=rtol)
    close(res.q_between_pval, exp["q_between_pval"], rtol=rtol)
    assert res.q_between_df == exp["q_between_df"]
    d = res.to_dict()
    assert set(d["subgroups"]) == set(exp["subgroups"])
    if "common" in exp:
        com = subgroups(
            inp["yi"], inp["vi"], inp["groups"], method=method, test=test, tau2="common"
        )
        close(com.tau2_common, exp["common"]["tau2"], rtol=rtol, atol=1e-12)
        close(com.q_between, exp["common"]["qm"], rtol=rtol)
        close(com.q_between_pval, exp["common"]["qm_pval"], rtol=rtol)


@pytest.mark.parametrize("case", cases("metareg"), ids=case_id)
def test_it_matches_metafor_metaregression(case: dict[str, Any]) -> None:
    inp, exp = case["input"], case["expected"]
    method = case["method"]
    res = metareg(inp["yi"], inp["vi"], np.array(inp["X"]), method=method, test=case["test"])
    if method == "PM":
        close(res.tau2, exp["tau2"], atol=ROOT_TAU2_ATOL)
        close(res.beta, exp["beta"], rtol=1e-2)
        return
    rtol = _rtol(method)
    for key in (
        "beta",
        "se",
        "stat",
        "ci_lb",
        "ci_ub",
        "tau2",
        "i2",
        "h2",
        "qe",
        "qe_pval",
        "qm",
        "qm_pval",
    ):
        close(getattr(res, key), exp[key], rtol=max(rtol, 1e-8), atol=1e-12)
    close(res.pval, exp["pval"], rtol=1e-7)
    if method not in ("FE",):
        close(res.tau2_se, exp["tau2_se"], rtol=max(rtol, 1e-8))
        close(res.r2, exp["r2"], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("case", cases("regtest"), ids=case_id)
def test_it_matches_metafor_regtest(case: dict[str, Any]) -> None:
    inp, exp = case["input"], case["expected"]
    res = egger(
        inp["yi"], inp["vi"], model=case["model"], predictor=case["predictor"], ni=inp.get("ni")
    )
    close(res.stat, exp["stat"], rtol=FISHER_RTOL)
    close(res.pval, exp["pval"], rtol=FISHER_RTOL)
    if exp.get("df") is not None and case["model"] == "lm":
        assert res.df == exp["df"]
    close(res.limit, exp["limit"], rtol=FISHER_RTOL)
    close(res.limit_ci_lb, exp["limit_ci_lb"], rtol=FISHER_RTOL)
    close(res.limit_ci_ub, exp["limit_ci_ub"], rtol=FISHER_RTOL)


@pytest.mark.parametrize("case", cases("ranktest"), ids=case_id)
def test_it_matches_metafor_ranktest(case: dict[str, Any]) -> None:
    res = begg(case["input"]["yi"], case["input"]["vi"])
    close(res.tau, case["expected"]["tau"], rtol=CLOSED_FORM_RTOL)
    close(res.pval, case["expected"]["pval"], rtol=1e-7)


@pytest.mark.parametrize("case", cases("trimfill"), ids=case_id)
def test_it_matches_metafor_trimfill(case: dict[str, Any]) -> None:
    inp, exp = case["input"], case["expected"]
    res = trimfill(inp["yi"], inp["vi"], method=case["method"], estimator=case["estimator"])
    assert res.k0 == exp["k0"]
    assert res.side == exp["side"]
    close(res.k0_se, exp["k0_se"], rtol=CLOSED_FORM_RTOL)
    if exp["k0"]:
        close(res.filled_yi, exp["filled_yi"], rtol=FISHER_RTOL)
        close(res.filled_vi, exp["filled_vi"], rtol=CLOSED_FORM_RTOL)
    rtol = _rtol(case["method"])
    close(res.adjusted.estimate, exp["estimate"], rtol=rtol)
    close(res.adjusted.se, exp["se"], rtol=rtol)
    close(res.adjusted.q, exp["q"], rtol=rtol)
    if case["method"] != "FE":
        close(res.adjusted.tau2, exp["tau2"], rtol=rtol)
    if exp.get("k0_pval") is not None:
        close(res.k0_pval, exp["k0_pval"], rtol=1e-9)
