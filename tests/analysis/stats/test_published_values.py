"""Published values from docs/meta-analysis-spec.md, asserted at their printed precision.

``PRINTED_4DP``: half a unit in the fourth decimal, for values printed with 4 decimals.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.stats import escalc, generic_iv, metareg, pool
from analysis.stats.bias import begg, egger, trimfill
from analysis.stats.binary import pool_mh, pool_peto
from analysis.stats.sensitivity import cumulative, leave_one_out, subgroups

from .data import ASPIRIN, BCG, CLASP, HINE, MENTAL, NORMAND, RAUDENBUSH

PRINTED_4DP = 5e-5
PRINTED_2DP = 5e-3


def approx4(x: float) -> object:
    return pytest.approx(x, abs=PRINTED_4DP)


@pytest.fixture
def bcg_rr():
    return escalc("RR", ai=BCG["tpos"], bi=BCG["tneg"], ci=BCG["cpos"], di=BCG["cneg"])


def test_bcg_reml_matches_the_published_values(bcg_rr) -> None:
    res = pool(bcg_rr)
    assert res.estimate == approx4(-0.7145)
    assert res.se == approx4(0.1798)
    assert res.zval == approx4(-3.9744)
    assert (res.ci_lb, res.ci_ub) == (approx4(-1.0669), approx4(-0.3622))
    assert res.tau2 == approx4(0.3132)
    assert res.tau2 == pytest.approx(0.313243325980895, abs=1e-8)
    assert res.tau2_se == approx4(0.1664)
    assert res.i2 == approx4(92.2214)
    assert res.h2 == approx4(12.8558)
    assert res.q == approx4(152.2330)
    assert (res.pi_lb, res.pi_ub) == (approx4(-1.8667), approx4(0.4376))


def test_bcg_q_profile_interval_matches_confint(bcg_rr) -> None:
    res = pool(bcg_rr)
    # metafor's uniroot stops at 1.2e-4, so I2's lower bound is printed 0.003 lower.
    assert (res.tau2_ci_lb, res.tau2_ci_ub) == (approx4(0.1197), approx4(1.1115))
    assert (res.i2_ci_lb, res.i2_ci_ub) == (pytest.approx(81.9177, abs=5e-3), approx4(97.6781))
    assert (res.h2_ci_lb, res.h2_ci_ub) == (
        pytest.approx(5.5303, abs=2e-3),
        pytest.approx(43.0680, abs=1e-3),
    )


def test_bcg_fe_and_dl_match_the_published_values(bcg_rr) -> None:
    fe = pool(bcg_rr, method="FE")
    assert fe.estimate == approx4(-0.4303) and fe.zval == approx4(-10.6247)
    assert fe.tau2 == 0 and fe.i2 == pytest.approx(92.12, abs=5e-3)
    dl = pool(bcg_rr, method="DL")
    assert dl.estimate == approx4(-0.7141) and dl.tau2 == approx4(0.3088)
    assert dl.i2 == approx4(92.1173) and dl.h2 == approx4(12.6861)


def test_bcg_knha_matches_the_derived_values(bcg_rr) -> None:
    res = pool(bcg_rr, test="knha")
    assert res.tval is not None and res.zval is None and res.df == 12
    assert res.se == approx4(0.1808)
    assert (res.ci_lb, res.ci_ub) == (approx4(-1.1084), approx4(-0.3206))
    assert (res.pi_lb, res.pi_ub) == (approx4(-1.9960), approx4(0.5670))
    assert pool(bcg_rr, pi_type="hts").pi_lb == approx4(-2.0084)


def test_bcg_other_estimators_match_the_derived_table(bcg_rr) -> None:
    for method, tau2, mu, se in [
        ("ML", 0.2800, -0.7112, 0.1719),
        ("PM", 0.3181, -0.7150, 0.1809),
        ("EB", 0.3181, -0.7150, 0.1809),
        ("HE", 0.3286, -0.7159, 0.1833),
        ("HS", 0.2284, -0.7045, 0.1587),
        ("SJ", 0.3455, -0.7172, 0.1871),
    ]:
        res = pool(bcg_rr, method=method)
        assert (res.tau2, res.estimate, res.se) == (approx4(tau2), approx4(mu), approx4(se)), method


def test_bcg_mantel_haenszel_and_peto() -> None:
    t = (BCG["tpos"], BCG["tneg"], BCG["cpos"], BCG["cneg"])
    mh_or = pool_mh(*t, measure="OR")
    assert mh_or.estimate == approx4(-0.4734) and mh_or.zval == approx4(-11.5444)
    assert mh_or.q == approx4(163.9426) and mh_or.extra["cmh"] == approx4(135.6889)
    mh_rr = pool_mh(*t, measure="RR")
    assert mh_rr.estimate == approx4(-0.4537) and mh_rr.q == approx4(152.5676)
    mh_rd = pool_mh(*t, measure="RD")
    assert mh_rd.zval == approx4(-11.4708) and mh_rd.q == approx4(386.7759)
    assert pool_mh(*t, measure="RD", rd_variance="GR").zval == pytest.approx(-11.557, abs=5e-4)
    peto = pool_peto(*t)
    assert peto.estimate == approx4(-0.4744) and peto.zval == approx4(-11.6689)
    assert peto.q == approx4(167.7302) and peto.i2 == pytest.approx(92.85, abs=5e-3)


def test_bcg_metaregression(bcg_rr) -> None:
    X = np.column_stack([BCG["ablat"], BCG["year"]])
    res = metareg(bcg_rr.yi, bcg_rr.vi, X, names=["ablat", "year"])
    assert res.tau2 == approx4(0.1108) and res.qm == approx4(12.2043) and res.qe == approx4(28.3251)
    assert res.r2 == pytest.approx(64.63, abs=5e-3)
    assert list(res.beta) == [approx4(-3.5455), approx4(-0.0280), approx4(0.0019)]
    fe = metareg(bcg_rr.yi, bcg_rr.vi, X, method="FE")
    assert fe.qm == approx4(123.9079) and fe.qm + fe.qe == pytest.approx(152.2330, abs=1e-4)


def test_bcg_subgroups(bcg_rr) -> None:
    sep = subgroups(bcg_rr, None, BCG["alloc"])
    assert sep.subgroups["random"].estimate == approx4(-0.9710)
    assert sep.subgroups["alternate"].tau2 == approx4(0.1326)
    assert sep.q_between == approx4(1.8614) and sep.q_between_pval == approx4(0.3943)
    assert subgroups(bcg_rr, None, BCG["alloc"], method="DL").q_between == approx4(1.5368)
    com = subgroups(bcg_rr, None, BCG["alloc"], tau2="common")
    assert com.tau2_common == approx4(0.3615) and com.q_between == approx4(1.7675)
    assert subgroups(bcg_rr, None, BCG["alloc"], method="FE").q_between == approx4(19.8654)
    assert set(sep.to_dict()) >= {
        "subgroups",
        "q_between",
        "q_between_df",
        "q_between_pval",
        "overall",
    }


def test_bcg_leave_one_out_and_cumulative(bcg_rr) -> None:
    loo = leave_one_out(bcg_rr)
    assert loo.fits[0].estimate == pytest.approx(-0.707083788, abs=1e-8)
    assert loo.fits[0].tau2 == pytest.approx(0.336156745, abs=1e-8)
    assert loo.column("q")[7] == approx4(67.9858)
    cum = cumulative(bcg_rr, order=BCG["year"])
    expected = [-0.889311, -1.325003, -0.97208, -1.001094, -1.101424, -0.973464, -0.901251,
                -0.788566, -0.865607, -0.785211, -0.708206, -0.794768, -0.714532]  # fmt: skip
    np.testing.assert_allclose(cum.column("estimate"), expected, atol=5e-7)
    assert cum.fits[0].se == pytest.approx(0.571, abs=5e-4)


def test_bcg_rank_test_and_trim_and_fill(bcg_rr) -> None:
    rt = begg(bcg_rr)
    assert rt.tau == approx4(0.0256) and rt.pval == approx4(0.9524)
    tf = trimfill(bcg_rr, method="FE")
    assert tf.k0 == 4 and tf.side == "right" and tf.k0_se == approx4(2.3853)
    np.testing.assert_allclose(
        tf.filled_yi, [0.78929282, 0.85949921, 1.00333667, 1.03884624], atol=5e-9
    )
    assert tf.adjusted.estimate == approx4(-0.2910) and tf.adjusted.q == approx4(262.7316)
    tf = trimfill(bcg_rr)
    assert (
        tf.k0 == 1
        and tf.adjusted.estimate == approx4(-0.6571)
        and tf.adjusted.tau2 == approx4(0.3313)
    )
    r0 = trimfill(bcg_rr, method="FE", estimator="R0")
    assert (
        r0.k0 == 4 and r0.k0_se == approx4(3.1623) and r0.k0_pval == pytest.approx(0.0312, abs=1e-4)
    )  # 0.03125, printed rounded


def test_normand_md_smd_and_rom() -> None:
    md = pool(escalc("MD", **NORMAND))
    assert (
        md.estimate == approx4(-15.1060)
        and md.tau2 == approx4(684.6462)
        and md.q == approx4(238.9158)
    )
    ho = escalc("MD", **NORMAND, vtype="HO")
    assert pool(ho, method="DL").tau2 == approx4(218.7216)
    smd = pool(escalc("SMD", **NORMAND))
    assert (
        smd.estimate == approx4(-0.5371)
        and smd.tau2 == approx4(0.7908)
        and smd.q == approx4(123.7293)
    )
    rom = escalc("ROM", **NORMAND)  # bias-corrected, metafor >= 5.0 default
    assert rom.yi[4] == approx4(-0.2453)
    res = pool(rom)
    assert (
        res.estimate == approx4(-0.2177)
        and res.tau2 == approx4(0.1082)
        and res.q == approx4(149.1398)
    )
    assert escalc("ROM", **NORMAND, correct=False).yi[4] == approx4(-0.2513)


def test_hine_risk_difference() -> None:
    es = escalc("RD", ai=HINE["ai"], n1i=HINE["n1i"], ci=HINE["ci"], n2i=HINE["n2i"])
    np.testing.assert_allclose(
        es.yi * 100, [2.8026, 0.0, 1.9711, 1.7961, 3.5334, 4.4031], atol=PRINTED_4DP
    )
    for method in ("FE", "REML", "DL"):
        res = pool(es, method=method)
        assert res.estimate * 100 == approx4(2.9444) and res.tau2 == 0


def test_hackshaw_generic_inverse_variance_and_dl() -> None:
    es = generic_iv(
        [1.18, 1.45, 2.02], ci_lb=[0.90, 1.02, 0.48], ci_ub=[1.54, 2.08, 8.56], ratio=True
    )
    np.testing.assert_allclose(es.yi, [0.1655, 0.3716, 0.7031], atol=PRINTED_4DP)
    np.testing.assert_allclose(es.vi, [0.0188, 0.0330, 0.5402], atol=PRINTED_4DP)
    conv = generic_iv([1.37, 1.89], ci_lb=[1.03, 1.60], ci_ub=[1.82, 2.23], ratio=True)
    np.testing.assert_allclose(conv.yi, [0.3148, 0.6366], atol=PRINTED_4DP)
    np.testing.assert_allclose(conv.vi, [0.0211, 0.0072], atol=PRINTED_4DP)


def test_clasp_estimator_battery() -> None:
    es = escalc("OR", ai=CLASP["ai"], n1i=CLASP["n1i"], ci=CLASP["ci"], n2i=CLASP["n2i"])
    for method, tau, mu, se in [
        ("PM", 0.3681, -0.3811, 0.2060), ("HE", 0.4410, -0.4035, 0.2327),
        ("DL", 0.2323, -0.3240, 0.1540), ("EB", 0.3681, -0.3811, 0.2060),
        ("ML", 0.0023, -0.1974, 0.0694), ("REML", 0.1843, -0.2980, 0.1343),
        ("HS", 0.1330, -0.2666, 0.1125), ("SJ", 0.4572, -0.4079, 0.2386),
    ]:  # fmt: skip
        res = pool(es, method=method)
        assert (math.sqrt(res.tau2), res.estimate, res.se) == (
            approx4(tau),
            approx4(mu),
            approx4(se),
        ), method


def test_raudenbush_knapp_hartung_battery() -> None:
    y, v = RAUDENBUSH["yi"], RAUDENBUSH["vi"]
    for method, tau2, mu, se_z, se_kh, t in [
        ("FE", 0, 0.0604, 0.0365, 0.0515, 1.1733), ("ML", 0.0126, 0.0777, 0.0475, 0.0593, 1.3110),
        ("REML", 0.0188, 0.0837, 0.0516, 0.0616, 1.3593),
        ("DL", 0.0259, 0.0893, 0.0558, 0.0636, 1.4050),
        ("HE", 0.0804, 0.1143, 0.0792, 0.0711, 1.6078),
    ]:  # fmt: skip
        z = pool(y, v, method=method)
        kh = pool(y, v, method=method, test="knha")
        assert (z.tau2, z.estimate, z.se) == (approx4(tau2), approx4(mu), approx4(se_z)), method
        assert (kh.se, kh.tval) == (approx4(se_kh), approx4(t)), method
    res = pool(y, v)
    assert (res.pi_lb, res.pi_ub) == (approx4(-0.2036), approx4(0.3711))


def test_revman_fleiss_aspirin_mantel_haenszel() -> None:
    res = pool_mh(ASPIRIN["ai"], ci=ASPIRIN["ci"], n1i=ASPIRIN["n1i"], n2i=ASPIRIN["n2i"])
    assert math.exp(res.estimate) == pytest.approx(0.89686556, abs=1e-8)
    assert math.exp(res.ci_lb) == pytest.approx(0.8405144, abs=1e-7)
    assert abs(res.zval) == pytest.approx(3.28763306, abs=1e-7)
    assert res.q == pytest.approx(9.94605598, abs=1e-5) and res.i2 == pytest.approx(
        39.67458046, abs=1e-6
    )
    np.testing.assert_allclose(
        res.weights,
        [3.17649, 3.10168911, 5.67538044, 1.79548462, 3.21762436, 10.15349122, 72.87984024],
        atol=1e-6,
    )


def test_revman_fleiss_mental_health_mean_difference() -> None:
    es = escalc("MD", **MENTAL)
    res = pool(es, method="FE")
    assert res.estimate == pytest.approx(-0.70938839, abs=1e-8)
    assert (res.ci_lb, res.ci_ub) == (
        pytest.approx(-1.25848502, abs=1e-6),
        pytest.approx(-0.16029176, abs=1e-6),
    )
    assert res.q == pytest.approx(5.66012379, abs=1e-7) and res.i2 == pytest.approx(
        29.33016758, abs=1e-6
    )
    np.testing.assert_allclose(
        res.weights, [2.79315513, 38.61251498, 2.19316111, 31.92826572, 24.47290305], atol=1e-6
    )
    np.testing.assert_allclose(
        es.sei, [1.67630546, 0.45085474, 1.89175731, 0.49580742, 0.56631484], atol=1e-7
    )


def test_yusuf_peto_drops_double_zero_tables_from_q_df() -> None:
    from ._reference import cases

    (case,) = [c for c in cases("peto") if c["dataset"] == "yusuf1985"]
    t = case["input"]
    res = pool_peto(t["ai"], t["bi"], t["ci"], t["di"])
    assert math.exp(res.estimate) == approx4(0.9332)
    assert (math.exp(res.ci_lb), math.exp(res.ci_ub)) == (approx4(0.7385), approx4(1.1792))
    assert res.q == approx4(10.8275) and res.q_df == 17 and res.h2 == pytest.approx(0.64, abs=5e-3)
    iv = pool(escalc("PETO", **t, add=0), method="FE")
    assert math.exp(iv.estimate) == approx4(0.9332)


def test_egger_2001_published_regtest_values() -> None:
    from ._reference import cases

    (case,) = [c for c in cases("regtest")
               if c["dataset"] == "egger2001_no_isis4" and c["model"] == "lm"
               and c["predictor"] == "sei"]  # fmt: skip
    y, v = case["input"]["yi"], case["input"]["vi"]
    pool_res = pool(y, v)
    assert pool_res.estimate == approx4(-0.8745) and pool_res.tau2 == approx4(0.1911)
    lm = egger(y, v, model="lm")
    assert lm.tval == approx4(-3.1783) and lm.df == 13 and lm.pval == approx4(0.0073)
    assert (lm.limit, lm.limit_ci_lb, lm.limit_ci_ub) == (
        approx4(-0.1512),
        approx4(-0.5130),
        approx4(0.2106),
    )
    rma = egger(y, v)
    assert rma.zval == approx4(-2.8062) and rma.pval == approx4(0.0050)
    assert (rma.limit, rma.limit_ci_lb, rma.limit_ci_ub) == (
        approx4(-0.1639),
        approx4(-0.5681),
        approx4(0.2402),
    )
