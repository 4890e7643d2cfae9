"""Begg and Mazumdar's rank correlation test against metafor's ranktest at every k.

metafor (cor.test(exact = TRUE)) uses the exact null distribution of Kendall's tau whenever
there are no ties; it is reproduced here up to k = 170, where R's permutation counts
overflow. Above that the two exact algorithms (the recursion over permutation counts and the
inversion of the characteristic function) are checked against each other.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats as sps

from analysis.stats import begg
from analysis.stats.bias import kendall_exact_cdf

from ._reference import close

REFERENCE = Path(__file__).parent / "reference" / "metafor_ranktest.json"


@cache
def _cases() -> list[dict[str, Any]]:
    return list(json.loads(REFERENCE.read_text())["cases"])


def _with_pval() -> list[dict[str, Any]]:
    return [c for c in _cases() if c["expected"]["pval"] is not None]


def _case(name: str) -> dict[str, Any]:
    return next(c for c in _cases() if c["dataset"] == name)


@pytest.mark.parametrize("case", _with_pval(), ids=lambda c: c["dataset"])
def test_it_matches_metafor_ranktest(case: dict[str, Any]) -> None:
    res = begg(case["input"]["yi"], case["input"]["vi"])
    close(res.tau, case["expected"]["tau"], rtol=1e-12)
    # R computes an upper-tail p as 1 - P(T <= q - 1) from a sum of thousands of counts,
    # which leaves an absolute error near 1e-13 (0.3 % of p = 8e-11 at k = 170); our values
    # agree with exact rational arithmetic (below), so the comparison allows that error.
    close(res.pval, case["expected"]["pval"], rtol=1e-9, atol=5e-13)
    assert res.exact is not case["dataset"].startswith("ties")


def _exact_tail(n: int, q: int) -> float:
    """P(D <= q) in exact integer arithmetic (permutation counts with <= q inversions)."""
    counts = [1]
    for j in range(2, n + 1):
        prefix = [0]
        for c in counts:
            prefix.append(prefix[-1] + c)
        size = min(len(counts) + j - 1, q + 1)
        counts = [
            prefix[min(i, len(counts) - 1) + 1] - prefix[max(0, i - j + 1)] for i in range(size)
        ]
    return float(Fraction(sum(counts[: q + 1]), math.factorial(n)))


@pytest.mark.parametrize("name", ["asymmetric_k100", "asymmetric_k150", "asymmetric_k170"])
def test_small_p_values_are_exact_to_twelve_digits(name: str) -> None:
    case = _case(name)
    res = begg(case["input"]["yi"], case["input"]["vi"])
    n = res.k
    m = n * (n - 1) // 2
    concordant = round((res.tau + 1) * m / 2)
    expected = 2 * _exact_tail(n, min(concordant, m - concordant))
    assert res.pval == pytest.approx(expected, rel=1e-12)


def test_it_stays_exact_above_k_100() -> None:
    # The finding: 0.2155 from the normal approximation, metafor's exact p is 0.2169.
    case = _case("p_near_0.2_k120")
    res = begg(case["input"]["yi"], case["input"]["vi"])
    assert res.exact
    assert res.pval == pytest.approx(0.216896067066947, rel=1e-10)


def test_above_k_170_where_r_overflows_the_p_value_is_still_exact() -> None:
    case = _case("null_k200")
    assert case["expected"]["pval"] is None  # R: NaN
    yi, vi = case["input"]["yi"], case["input"]["vi"]
    res = begg(yi, vi)
    assert res.exact
    close(res.tau, case["expected"]["tau"], rtol=1e-12)
    approx = sps.kendalltau(*_deviates(yi, vi), method="asymptotic").pvalue
    assert res.pval == pytest.approx(approx, abs=2e-3) and res.pval != approx


def _deviates(yi: list[float], vi: list[float]) -> tuple[np.ndarray, np.ndarray]:
    y, v = np.asarray(yi), np.asarray(vi)
    w = 1 / v
    theta = (w @ y) / w.sum()
    return (y - theta) / np.sqrt(v - 1 / w.sum()), v


@pytest.mark.parametrize(("n", "q"), [(4, 2), (10, 11), (30, 100), (60, 885)])
def test_the_exact_cdf_counts_permutations(n: int, q: int) -> None:
    # Brute force for n = 4; the Mahonian recursion in integers otherwise.
    counts = [1]
    for j in range(2, n + 1):
        new = [0] * (len(counts) + j - 1)
        for i, c in enumerate(counts):
            for u in range(j):
                new[i + u] += c
        counts = new
    expected = sum(counts[: q + 1]) / sum(counts)
    for method in ("recursion", "fourier"):
        assert kendall_exact_cdf(n, q, method=method) == pytest.approx(expected, rel=1e-11)


@pytest.mark.parametrize("n", [171, 400, 900])
def test_the_two_exact_algorithms_agree_at_large_k(n: int) -> None:
    m = n * (n - 1) // 2
    for q in (m // 2 - 3 * n, m // 2 - n**1.5 // 2, m // 2):
        q = int(q)
        a = kendall_exact_cdf(n, q, method="recursion")
        b = kendall_exact_cdf(n, q, method="fourier")
        assert a == pytest.approx(b, rel=1e-10, abs=1e-14)


def test_large_k_is_fast_enough_and_close_to_the_normal_approximation() -> None:
    rng = np.random.default_rng(7)
    vi = rng.uniform(0.01, 0.5, 20_000)
    yi = rng.normal(0, np.sqrt(vi)) + 0.01 * np.sqrt(vi)
    res = begg(yi, vi)
    approx = sps.kendalltau(*_deviates(list(yi), list(vi)), method="asymptotic").pvalue
    assert res.exact and res.pval == pytest.approx(approx, abs=1e-3)


def test_all_variances_equal_gives_a_clear_message_not_a_bare_nan() -> None:
    case = _case("equal_vi_k6")
    assert case["expected"]["tau"] is None  # metafor: NA
    res = begg(case["input"]["yi"], case["input"]["vi"])
    assert res.pval is None and res.tau is None
    assert "same sampling variance" in (res.message or "")
    d = res.to_dict()
    assert d["pval"] is None and "same sampling variance" in d["message"]
    json.dumps(d, allow_nan=False)


def test_identical_estimates_are_reported_as_undefined_too() -> None:
    res = begg([0.2, 0.2, 0.2, 0.2], [0.1, 0.2, 0.3, 0.4])
    assert res.pval is None and "same" in (res.message or "")
