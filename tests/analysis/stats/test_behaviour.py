"""Edge cases, validation messages, result objects and the command line."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from analysis.stats import (
    escalc,
    generic_iv,
    mean_sd_from_five_numbers,
    mean_sd_from_median_iqr,
    mean_sd_from_median_range,
    pool,
    sd_from_ci,
    sd_from_md_ci,
    sd_from_p,
    sd_from_se,
    sd_from_t,
)
from analysis.stats.__main__ import main
from analysis.stats.binary import pool_mh

from .data import BCG

REQUIRED_KEYS = {
    "k", "measure", "method", "test", "estimate", "se", "pval", "ci_lb", "ci_ub", "pi_lb", "pi_ub",
    "tau2", "tau2_ci_lb", "tau2_ci_ub", "i2", "i2_ci_lb", "i2_ci_ub", "h2", "q", "q_df", "q_pval",
    "weights",
}  # fmt: skip


def test_to_dict_has_every_documented_key_and_attributes_match() -> None:
    res = pool([0.1, 0.3, -0.2, 0.5], [0.04, 0.02, 0.05, 0.03], measure="SMD")
    d = res.to_dict()
    assert set(d) >= REQUIRED_KEYS and "zval" in d and "tval" not in d
    for key in REQUIRED_KEYS - {"weights"}:
        assert getattr(res, key) == d[key], key
    assert sum(d["weights"]) == pytest.approx(100)
    json.dumps(d, allow_nan=False)
    knha = pool([0.1, 0.3, -0.2, 0.5], [0.04, 0.02, 0.05, 0.03], test="knha").to_dict()
    assert "tval" in knha and knha["df"] == 3


def test_results_are_immutable() -> None:
    res = pool([0.1, 0.3, -0.2], [0.04, 0.02, 0.05])
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.estimate = 0  # type: ignore[misc]  # the frozen field refusing this is the point
    with pytest.raises(ValueError):
        res.weights[0] = 1


def test_fe_reports_tau2_zero_and_a_q_based_i2() -> None:
    res = pool([0.1, 0.3, -0.2, 0.5], [0.04, 0.02, 0.05, 0.03], method="FE")
    assert res.tau2 == 0 and res.tau2_ci_lb is None
    assert res.i2 == pytest.approx(max(0, 100 * (res.q - 3) / res.q))
    assert (res.pi_lb, res.pi_ub) == (res.ci_lb, res.ci_ub)


def test_single_study_returns_the_study_with_heterogeneity_undefined() -> None:
    res = pool([0.4], [0.09], test="knha")
    assert res.k == 1 and res.estimate == 0.4 and res.se == pytest.approx(0.3)
    assert res.test == "z" and res.tau2 is None and res.i2 is None and res.q is None
    assert res.to_dict()["tau2_ci_lb"] is None
    assert any("k = 1" in w for w in res.warnings)


@pytest.mark.parametrize(
    ("yi", "vi", "message"),
    [
        ([], [], "k = 0"),
        ([0.1, 0.2], [0.1, 0.0], "study 2: sampling variance vi must be positive"),
        ([0.1, 0.2], [0.1, -1], "study 2"),
        ([0.1, float("nan")], [0.1, 0.1], "study 2: effect size yi is NaN"),
    ],
)
def test_degenerate_pool_input_names_the_study(yi, vi, message) -> None:
    with pytest.raises(ValueError, match=message):
        pool(yi, vi)


def test_errors_use_the_study_label() -> None:
    with pytest.raises(ValueError, match=r"study 2 \(Smith 2001\)"):
        pool([0.1, 0.2], [0.1, 0], labels=["Jones 1999", "Smith 2001"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n1i": [10, 1]}, "study 2: n1i must be at least 2"),
        ({"sd1i": [1.0, 0.0]}, "study 2: sd1i must be positive"),
        ({"m2i": [5.0, float("nan")]}, "study 2: m2i is missing"),
    ],
)
def test_degenerate_continuous_input_names_the_study(kwargs, message) -> None:
    base = {
        "m1i": [5.0, 6.0],
        "sd1i": [1.0, 2.0],
        "n1i": [10, 12],
        "m2i": [4.0, 5.0],
        "sd2i": [1.0, 2.0],
        "n2i": [11, 9],
    }
    base.update(kwargs)
    with pytest.raises(ValueError, match=message):
        escalc("SMD", **base)


def test_events_above_the_total_are_rejected() -> None:
    with pytest.raises(ValueError, match="study 1: events ai exceed the arm total"):
        escalc("OR", ai=[12], n1i=[10], ci=[1], n2i=[10])


def test_zero_cells_get_half_added_and_double_zero_is_not_estimable_for_ratios() -> None:
    t = {"ai": [0, 0, 3], "bi": [10, 10, 7], "ci": [2, 0, 4], "di": [8, 10, 6]}
    es = escalc("OR", **t)
    assert es.yi[0] == pytest.approx(math.log(0.5 * 8.5 / (10.5 * 2.5)))
    assert np.isnan(es.yi[1]) and "not estimable" in es.notes[1]
    assert es.notes[0].startswith("0.5 added")
    rd = escalc("RD", **t)
    assert rd.yi[1] == 0 and np.isfinite(rd.vi[1])  # double-zero kept for RD
    metafor_like = escalc("OR", **t, drop00=False)
    assert np.isfinite(metafor_like.yi[1])
    res = pool(es)
    assert res.k == 2 and any("not estimable" in w for w in res.warnings)


def test_smd_uses_the_exact_hedges_correction_without_overflow() -> None:
    es = escalc(
        "SMD",
        m1i=[1.0, 1.0],
        sd1i=[1.0, 1.0],
        n1i=[3, 5000],
        m2i=[0.0, 0.0],
        sd2i=[1.0, 1.0],
        n2i=[3, 5000],
    )
    assert es.yi[0] == pytest.approx(math.gamma(2) / (math.sqrt(2) * math.gamma(1.5)))
    assert 0.9999 < es.yi[1] < 1


def test_generic_iv_uses_se_then_ci_then_p() -> None:
    es = generic_iv([0.5, 0.5, 0.5], se=[0.2, None, None], ci_lb=[None, 0.1, None],
                    ci_ub=[None, 0.9, None],
                    pval=[None, None, 0.05])  # fmt: skip
    crit = 1.959963984540054
    np.testing.assert_allclose(es.vi, [0.04, (0.8 / (2 * crit)) ** 2, (0.5 / crit) ** 2])
    with pytest.raises(ValueError, match="study 1: need a standard error"):
        generic_iv([0.5])


def test_handbook_sd_conversions() -> None:
    assert sd_from_se([2.0], [25])[0] == pytest.approx(10)
    # Handbook 6.5.2.2 example: n = 25, CI 3.0 to 7.0 around a mean, t(24) = 2.0639.
    assert sd_from_ci([3.0], [7.0], [25])[0] == pytest.approx(5 * 4 / (2 * 2.0638985616), rel=1e-8)
    assert sd_from_ci([3.0], [7.0], [100])[0] == pytest.approx(10 * 4 / 3.919927969, rel=1e-8)
    se = 1.0 / 2.0
    assert sd_from_t([1.0], [2.0], [20], [20])[0] == pytest.approx(se / math.sqrt(0.1))
    assert sd_from_p([1.0], [0.05], [20], [20])[0] == pytest.approx(
        (1 / 2.0243941639) / math.sqrt(0.1), rel=1e-8
    )
    assert sd_from_md_ci([-1.0], [3.0], [40], [40], dist="z")[0] == pytest.approx(
        4 / 3.919927969 / math.sqrt(0.05)
    )


def test_wan_2014_mean_and_sd_from_medians() -> None:
    mean, sd = mean_sd_from_median_iqr([10.0], [15.0], [22.0], [50])
    from scipy.stats import norm

    assert mean[0] == pytest.approx(47 / 3)
    assert sd[0] == pytest.approx(12 / (2 * norm.ppf((0.75 * 50 - 0.125) / 50.25)))
    mean, sd = mean_sd_from_median_range([2.0], [15.0], [40.0], [30])
    assert mean[0] == pytest.approx(72 / 4) and sd[0] == pytest.approx(
        38 / (2 * norm.ppf(29.625 / 30.25))
    )
    mean, sd = mean_sd_from_five_numbers([2.0], [10.0], [15.0], [22.0], [40.0], [30])
    assert mean[0] == pytest.approx((2 + 20 + 30 + 44 + 40) / 8)
    with pytest.raises(ValueError, match="study 1"):
        mean_sd_from_median_iqr([20.0], [15.0], [22.0], [50])


def test_non_convergence_is_reported_not_hidden() -> None:
    y = [0.1, 0.9, -0.6, 1.4, 0.2]
    v = [0.01, 0.02, 0.015, 0.03, 0.05]
    res = pool(y, v, method="REML", maxiter=1)
    assert res.converged is False and any("did not converge" in w for w in res.warnings)
    assert res.to_dict()["converged"] is False
    assert pool(y, v).converged is True


def test_tau2_zero_boundary_gives_a_null_q_profile_interval() -> None:
    res = pool([0.10, 0.11, 0.10, 0.12], [0.1, 0.2, 0.15, 0.3])
    assert res.tau2 == 0 and res.i2 == 0
    assert res.tau2_ci_lb == 0 and res.tau2_ci_ub == 0
    assert "null set" in " ".join(res.to_dict()["warnings"])


def test_mh_revman_options() -> None:
    t = (BCG["tpos"], BCG["tneg"], BCG["cpos"], BCG["cneg"])
    assert pool_mh(*t, measure="RD", rd_variance="GR").extra["rd_variance"] == "GR"
    zero = pool_mh([0, 3, 5], [10, 7, 5], [2, 4, 6], [8, 6, 4], zero_cell="revman")
    assert math.isfinite(zero.estimate)


def test_cli_prints_json_and_reports_bad_rows(tmp_path, capsys) -> None:
    f = tmp_path / "d.csv"
    f.write_text("study,yi,sei,grp\nA,0.1,0.2,x\nB,0.5,0.1,x\nC,-0.2,0.3,y\nD,0.3,0.15,y\n")
    assert main(["pool", str(f), "--measure", "GEN", "--method", "DL", "--test", "knha"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["method"] == "DL" and out["k"] == 4 and "tval" in out
    assert main(["pool", str(f), "--measure", "GEN", "--subgroup", "grp"]) == 0
    assert set(json.loads(capsys.readouterr().out)["subgroups"]) == {"x", "y"}
    bad = tmp_path / "bad.csv"
    bad.write_text("study,yi,sei\nA,0.1,0.2\nB,oops,0.1\n")
    assert main(["pool", str(bad), "--measure", "GEN"]) == 2
    assert "row 2 (line 3), column 'yi'" in capsys.readouterr().err
    neg = tmp_path / "neg.csv"
    neg.write_text("study,yi,sei\nA,0.1,0.2\nB,0.2,0\n")
    assert main(["pool", str(neg), "--measure", "GEN"]) == 2
    assert "study 2 (B)" in capsys.readouterr().err


def test_to_dict_computes_the_q_profile_interval_only_when_asked() -> None:
    res = pool([0.1, 0.3, -0.2, 0.5, 0.9], [0.04, 0.02, 0.05, 0.03, 0.01], method="PM")
    lean = res.to_dict(qprofile=False)
    assert "qprofile" not in res.__dict__  # nothing was computed
    assert lean["tau2_ci_lb"] is None and lean["i2_ci_ub"] is None
    full = res.to_dict()
    assert full["tau2_ci_lb"] is not None and full["tau2_ci_ub"] > full["tau2_ci_lb"]
    assert {k: v for k, v in full.items() if "_ci_" not in k} == {
        k: v for k, v in lean.items() if "_ci_" not in k
    }
