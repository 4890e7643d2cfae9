"""escalc's single-group, rate, correlation, change-score, mean and variability measures,
pooled, and back-transformed for display, against metafor on its own datasets
(reference/metafor_measures.json, written by reference/make_reference_measures.R)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analysis.stats import escalc, pool, transform
from analysis.stats.effect_sizes import MEASURES

from ._reference import CLOSED_FORM_RTOL, FISHER_RTOL, arr, close

REFERENCE = Path(__file__).parent / "reference" / "metafor_measures.json"
NEW_MEASURES = [
    *("PR", "PLN", "PLO", "PAS", "PFT"),
    *("IR", "IRLN", "IRS", "IRFT", "IRR", "IRD", "IRSD"),
    *("COR", "UCOR", "ZCOR", "MC", "SMCC", "SMCR", "SMCRH", "MN", "MNLN", "VR", "CVR"),
]


@cache
def _cases() -> list[dict[str, Any]]:
    return list(json.loads(REFERENCE.read_text())["cases"])


def _kind(kind: str) -> list[dict[str, Any]]:
    return [c for c in _cases() if c["kind"] == kind]


def _id(c: dict[str, Any]) -> str:
    parts = [c["dataset"], c["measure"], c.get("method") or ""]
    parts += [f"{k}={v}" for k, v in (c.get("params") or {}).items()]
    return "/".join(p for p in parts if p)


def test_every_measure_has_reference_values_from_metafor() -> None:
    assert set(NEW_MEASURES) <= set(MEASURES)
    assert {c["measure"] for c in _kind("escalc")} == set(NEW_MEASURES)
    assert {c["measure"] for c in _kind("pool")} == set(NEW_MEASURES)


@pytest.mark.parametrize("case", _kind("escalc"), ids=_id)
def test_escalc_matches_metafor(case: dict[str, Any]) -> None:
    es = escalc(case["measure"], **case["input"], **(case["params"] or {}))
    yi, vi = arr(case["expected"]["yi"]), arr(case["expected"]["vi"])
    # metafor keeps a zero variance (a study that cannot be pooled); we report it as not
    # estimable, with a note, so that pool() leaves it out and says so.
    zero = vi == 0
    yi[zero] = np.nan
    vi[zero] = np.nan
    yi[np.isnan(vi)] = np.nan
    close(es.yi, yi, rtol=CLOSED_FORM_RTOL, atol=1e-14)
    close(es.vi, vi, rtol=CLOSED_FORM_RTOL, atol=1e-14)
    for i in np.flatnonzero(np.isnan(vi)).tolist():
        assert (es.notes[i] or "").startswith("not estimable"), es.notes[i]


@pytest.mark.parametrize("case", _kind("pool"), ids=_id)
def test_the_pooled_estimate_and_its_back_transformation_match_metafor(
    case: dict[str, Any],
) -> None:
    exp = case["expected"]
    res = pool(case["input"]["yi"], case["input"]["vi"], method=case["method"])
    rtol = FISHER_RTOL if case["method"] == "REML" else CLOSED_FORM_RTOL
    for key in ("estimate", "se", "ci_lb", "ci_ub", "i2", "q"):
        close(getattr(res, key), exp[key], rtol=rtol)
    close(res.tau2, exp["tau2"], rtol=rtol, atol=1e-12)
    if "transf" not in exp:
        np.testing.assert_array_equal(transform(case["measure"], [1.5, -0.2]), [1.5, -0.2])
        return
    extra = _transform_args(case["measure"], exp.get("transf_targs"))
    shown = transform(case["measure"], [res.estimate, res.ci_lb, res.ci_ub], **extra)
    close(shown, [exp["transf_pred"], exp["transf_ci_lb"], exp["transf_ci_ub"]], rtol=rtol)
    close(transform(case["measure"], res.pi_lb, **extra), exp["transf_pi_lb"], rtol=rtol)
    close(transform(case["measure"], res.pi_ub, **extra), exp["transf_pi_ub"], rtol=rtol)


def _transform_args(measure: str, targs: Any) -> dict[str, Any]:
    if measure == "PFT":
        return {"ni": targs["ni"]}  # harmonic mean of the studies' n (transf.ipft.hm)
    if measure == "IRFT":
        return {"ti": targs}
    return {}


@pytest.mark.parametrize("case", [c for c in _kind("pool") if "transf" in c["expected"]], ids=_id)
def test_per_study_back_transformation_matches_metafor(case: dict[str, Any]) -> None:
    source = next(
        c
        for c in _kind("escalc")
        if (c["dataset"], c["measure"]) == (case["dataset"], case["measure"]) and not c["params"]
    )
    es = escalc(case["measure"], **source["input"])
    yi = np.asarray(es.yi)
    inp = source["input"]
    if case["measure"] == "PFT":
        ni = inp.get("ni") or list(np.add(inp["xi"], inp["mi"]))
        shown = transform("PFT", yi, ni=ni, harmonic=False)
    elif case["measure"] == "IRFT":
        shown = transform("IRFT", yi, ti=inp["ti"], harmonic=False)
    else:
        shown = transform(case["measure"], yi)
    expected = arr(case["expected"]["transf_yi"])
    finite = np.isfinite(yi)
    close(np.asarray(shown)[finite], expected[finite], rtol=1e-9, atol=1e-15)


def test_transform_keeps_the_shape_of_its_input() -> None:
    assert transform("PLO", 0.0) == pytest.approx(0.5)
    assert isinstance(transform("ZCOR", 0.2), float)
    assert transform("ZCOR", [0.2, np.nan])[1] != transform("ZCOR", [0.2, np.nan])[1]
    assert transform("OR", None) is None


def test_the_freeman_tukey_inverse_needs_the_sample_sizes() -> None:
    with pytest.raises(ValueError, match="ni"):
        transform("PFT", [0.8])
    with pytest.raises(ValueError, match="ti"):
        transform("IRFT", [0.8])


def test_an_unknown_measure_is_named() -> None:
    with pytest.raises(ValueError, match="unknown measure 'XYZ'"):
        transform("XYZ", [1.0])


@pytest.mark.parametrize(
    ("measure", "kwargs", "message"),
    [
        ("PR", {"xi": [3, 12], "ni": [10, 11]}, "study 2: xi (events) exceeds ni"),
        ("PLO", {"xi": [3, -1], "ni": [10, 11]}, "study 2: xi (events) is negative"),
        ("PR", {"xi": [3, 4], "mi": [7, 6], "ni": [10, 11]}, "study 2: ni is not xi + mi"),
        ("PR", {"xi": [3, 4]}, "PR needs xi with ni or mi"),
        ("IR", {"xi": [3, 4], "ti": [100, 0]}, "study 2: ti (person-time) must be positive"),
        (
            "IRR",
            {"x1i": [3], "t1i": [100], "x2i": [2]},
            "IRR needs x1i, t1i, x2i and t2i",
        ),
        ("ZCOR", {"ri": [0.3, 1.2], "ni": [30, 40]}, "study 2: ri must be between -1 and 1"),
        ("COR", {"ri": [0.3, 0.2], "ni": [30, 0]}, "study 2: ni must be positive"),
        (
            "SMCR",
            {"m1i": [5], "m2i": [4], "sd1i": [-1], "ni": [20], "ri": [0.5]},
            "study 1: sd1i must not be negative",
        ),
        (
            "MC",
            {"m1i": [5], "m2i": [4], "sd1i": [1], "sd2i": [1], "ni": [20], "ri": [1.5]},
            "study 1: ri must be between -1 and 1",
        ),
        ("MNLN", {"mi": [5, -2], "sdi": [1, 1], "ni": [20, 20]}, "study 2: mi must be positive"),
        (
            "CVR",
            {"m1i": [5], "sd1i": [1], "n1i": [1], "m2i": [4], "sd2i": [1], "n2i": [9]},
            "study 1: n1i must be at least 2",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_study(
    measure: str, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        escalc(measure, **kwargs)


def test_a_measure_given_arguments_of_another_design_says_which_it_needs() -> None:
    with pytest.raises(ValueError, match="ZCOR needs ri and ni"):
        escalc("ZCOR", ai=[1], bi=[2], ci=[3], di=[4])


def test_labels_reach_the_messages_and_results() -> None:
    es = escalc("PLO", xi=[0, 5], ni=[10, 20], labels=["Alpha 2001", "Beta 2003"])
    assert es.labels == ("Alpha 2001", "Beta 2003")
    assert es.notes[0] == "0.5 added to xi and mi (zero cell)"
    res = pool(es)
    assert res.measure == "PLO" and res.labels == ("Alpha 2001", "Beta 2003")


def test_the_command_line_pools_a_new_measure(tmp_path: Path, capsys: Any) -> None:
    from analysis.stats.__main__ import main

    f = tmp_path / "prev.csv"
    f.write_text("study,xi,ni\nA,3,40\nB,10,52\nC,0,17\nD,22,90\n")
    assert main(["pool", str(f), "--measure", "PLO"]) == 0
    out = json.loads(capsys.readouterr().out)
    es = escalc("PLO", xi=[3, 10, 0, 22], ni=[40, 52, 17, 90])
    assert out["estimate"] == pytest.approx(pool(es).estimate, rel=1e-12)
    assert out["measure"] == "PLO" and out["studies"] == ["A", "B", "C", "D"]
