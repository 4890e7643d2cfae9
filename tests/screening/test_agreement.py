import csv
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from screening.agreement import AgreementResult, agreement, agreement_table_csv

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "agreement_reference.json").read_text()
)["cases"]

# R prints kappa, its SE and psych's CI unrounded; 1e-9 only absorbs float summation order.
EXACT = 1e-9
# irrCAC rounds AC1 and the Brennan-Prediger coefficient (PABAK) to 5 decimals.
IRRCAC_ROUNDING = 5e-6


def pairs_from_table(categories, table):
    return [
        (categories[i], categories[j])
        for i, row in enumerate(table)
        for j, count in enumerate(row)
        for _ in range(count)
    ]


def approx_or_none(expected, tolerance):
    return None if expected is None else pytest.approx(expected, abs=tolerance)


@pytest.mark.parametrize("case", REFERENCE, ids=[case["name"] for case in REFERENCE])
def test_it_matches_r_irr_irrcac_vcd_and_psych(case):
    result = agreement(
        pairs_from_table(case["categories"], case["table"]), categories=case["categories"]
    )

    assert result.n == case["n"]
    assert result.percent_agreement == pytest.approx(case["percent_agreement"], abs=EXACT)
    assert result.kappa == approx_or_none(case["kappa"], EXACT)
    assert result.kappa_se == approx_or_none(case["kappa_se"], EXACT)
    assert result.kappa_ci_lb == approx_or_none(case["kappa_ci_lb_psych"], EXACT)
    assert result.kappa_ci_ub == approx_or_none(case["kappa_ci_ub_psych"], EXACT)
    assert result.pabak == pytest.approx(case["pabak"], abs=IRRCAC_ROUNDING)
    assert result.ac1 == pytest.approx(case["ac1"], abs=IRRCAC_ROUNDING)


def test_it_reproduces_cohens_1960_worked_example():
    # Cohen (1960), Educ Psychol Meas 20:37-46, Table 1: po = .70, pc = .41, kappa = .492.
    table = [[88, 14, 18], [10, 40, 10], [2, 6, 12]]
    result = agreement(pairs_from_table("abc", table), categories=["a", "b", "c"])

    assert result.percent_agreement == pytest.approx(70)
    assert round(result.kappa, 3) == 0.492


def test_it_gives_one_pabak_for_the_kappa_paradox_tables():
    # Feinstein & Cicchetti (1990), J Clin Epidemiol 43:543: both tables have po = .85 but
    # kappa .70 and .32; Byrt, Bishop & Carlin (1993) PABAK = 2 * .85 - 1 = .70 for both.
    balanced = agreement(pairs_from_table("yn", [[40, 9], [6, 45]]), categories=["y", "n"])
    skewed = agreement(pairs_from_table("yn", [[80, 10], [5, 5]]), categories=["y", "n"])

    assert round(balanced.kappa, 2) == 0.70
    assert round(skewed.kappa, 2) == 0.32
    assert balanced.pabak == pytest.approx(0.70)
    assert skewed.pabak == pytest.approx(0.70)


def test_it_counts_an_unused_category_of_the_scale_in_pabak_and_ac1_but_not_kappa():
    case = next(c for c in REFERENCE if c["name"] == "screening_maybe_unused")
    pairs = pairs_from_table(case["categories"], case["table"])

    three = agreement(pairs, categories=("include", "exclude", "maybe"))
    two = agreement(pairs, categories=("include", "exclude"))

    assert three.kappa == pytest.approx(two.kappa)
    assert three.pabak == pytest.approx((3 * 0.955 - 1) / 2)
    assert two.pabak == pytest.approx(2 * 0.955 - 1)
    # irrCAC without categ.labels uses only the observed categories: that is `two`.
    assert two.ac1 == pytest.approx(case["ac1_observed_categories_only"], abs=IRRCAC_ROUNDING)
    assert three.ac1 == pytest.approx(case["ac1"], abs=IRRCAC_ROUNDING)


def test_it_returns_no_statistics_for_no_pairs():
    result = agreement([])

    assert result.n == 0
    assert result.categories == ("include", "exclude", "maybe")
    assert [
        result.percent_agreement,
        result.kappa,
        result.kappa_se,
        result.kappa_ci_lb,
        result.kappa_ci_ub,
        result.pabak,
        result.ac1,
    ] == [None] * 7


def test_it_leaves_kappa_undefined_but_ac1_defined_when_everyone_excludes_everything():
    result = agreement([("exclude", "exclude")] * 40)

    assert result.percent_agreement == 100
    assert result.kappa is None
    assert result.kappa_se is None
    assert result.kappa_ci_lb is None and result.kappa_ci_ub is None
    assert result.pabak == 1
    assert result.ac1 == 1


def test_it_gives_kappa_one_with_zero_se_for_perfect_agreement_on_two_categories():
    result = agreement([("include", "include")] * 3 + [("exclude", "exclude")] * 7)

    assert result.kappa == pytest.approx(1)
    assert result.kappa_se == pytest.approx(0, abs=1e-12)
    assert result.kappa_ci_ub == 1


def test_it_rejects_an_unknown_vote_and_names_it():
    with pytest.raises(ValueError, match=r"'excluded'.*pair 1"):
        agreement([("include", "include"), ("include", "excluded")])


def test_it_rejects_a_single_category_scale():
    with pytest.raises(ValueError, match="at least two categories"):
        agreement([("include", "include")], categories=("include",))


def test_it_rejects_a_level_outside_zero_and_one():
    with pytest.raises(ValueError, match="level"):
        agreement([("include", "include")], level=95)


def test_it_widens_the_interval_with_the_level():
    pairs = pairs_from_table("yn", [[40, 9], [6, 45]])

    narrow = agreement(pairs, categories=["y", "n"], level=0.8)
    wide = agreement(pairs, categories=["y", "n"], level=0.99)

    assert narrow.kappa == wide.kappa
    assert wide.kappa_ci_lb < narrow.kappa_ci_lb < narrow.kappa < narrow.kappa_ci_ub
    assert narrow.kappa_ci_ub < wide.kappa_ci_ub
    assert (narrow.kappa_ci_ub - narrow.kappa) == pytest.approx(1.2815516 * narrow.kappa_se)


def test_it_ignores_the_order_in_which_categories_are_given():
    pairs = [("include", "exclude"), ("maybe", "maybe"), ("exclude", "exclude")] * 5 + [
        ("include", "include")
    ]

    a = agreement(pairs, categories=("include", "exclude", "maybe"))
    b = agreement(pairs, categories=("maybe", "include", "exclude"))

    assert a.kappa == pytest.approx(b.kappa)
    assert a.kappa_se == pytest.approx(b.kappa_se)
    assert a.ac1 == pytest.approx(b.ac1)


def test_to_dict_is_json_ready():
    result = agreement([("include", "include"), ("exclude", "maybe")])

    data = json.loads(json.dumps(result.to_dict()))

    assert data["n"] == 2
    assert data["categories"] == ["include", "exclude", "maybe"]
    assert set(data) >= {"percent_agreement", "kappa", "kappa_se", "kappa_ci_lb", "pabak", "ac1"}


def test_the_csv_has_a_header_row_and_one_row_per_pair_with_blanks_for_undefined():
    defined = agreement(pairs_from_table("yn", [[40, 9], [6, 45]]), categories=["y", "n"])
    undefined = agreement([])

    text = agreement_table_csv(
        [("title_abstract", "Ann", "Bob", defined), ("full_text", "=HYPERLINK()", "Bob", undefined)]
    )
    rows = list(csv.DictReader(io.StringIO(text)))

    assert [row["stage"] for row in rows] == ["title_abstract", "full_text"]
    assert rows[0]["kappa"] == "0.6995"
    assert rows[0]["percent_agreement"] == "85.00"
    assert rows[0]["n"] == "100"
    assert rows[1]["kappa"] == "" and rows[1]["n"] == "0"
    # A reviewer name that a spreadsheet would run as a formula is neutralised.
    assert rows[1]["reviewer_a"] == "'=HYPERLINK()"


def test_it_does_not_import_django():
    code = "import sys, screening.agreement; print('django' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- properties ---------------------------------------------------------------------------

CATEGORIES = ("include", "exclude", "maybe")
vote_pairs = st.lists(st.tuples(st.sampled_from(CATEGORIES), st.sampled_from(CATEGORIES)))


@given(vote_pairs)
def test_statistics_stay_in_their_ranges(pairs):
    result = agreement(pairs)

    assert result.n == len(pairs)
    if not pairs:
        return
    assert 0 <= result.percent_agreement <= 100
    assert -1 / 2 - 1e-12 <= result.pabak <= 1 + 1e-12  # (3 po - 1) / 2 with po in [0, 1]
    assert -1 - 1e-12 <= result.ac1 <= 1 + 1e-12
    if result.kappa is not None:
        assert -1 - 1e-12 <= result.kappa <= 1 + 1e-12
        assert result.kappa_se >= 0
        assert -1 <= result.kappa_ci_lb <= result.kappa + 1e-12
        assert result.kappa - 1e-12 <= result.kappa_ci_ub <= 1


@given(vote_pairs, st.integers(min_value=2, max_value=6))
def test_pabak_follows_from_percent_agreement(pairs, extra):
    scale = CATEGORIES + tuple(f"other{i}" for i in range(extra - 2))
    result = agreement(pairs, categories=scale)

    if pairs:
        po = result.percent_agreement / 100
        k = len(scale)
        assert result.pabak == pytest.approx((k * po - 1) / (k - 1))


@given(vote_pairs)
def test_swapping_the_reviewers_changes_nothing(pairs):
    ab = agreement(pairs)
    ba = agreement([(b, a) for a, b in pairs])

    for name in ("percent_agreement", "kappa", "kappa_se", "pabak", "ac1"):
        x, y = getattr(ab, name), getattr(ba, name)
        assert (x is None and y is None) or math.isclose(x, y, abs_tol=1e-12)


@given(vote_pairs.filter(bool))
def test_kappa_is_undefined_only_when_both_reviewers_used_one_same_category(pairs):
    result = agreement(pairs)

    single = len({vote for pair in pairs for vote in pair}) == 1
    assert (result.kappa is None) == single
    assert isinstance(result, AgreementResult)
