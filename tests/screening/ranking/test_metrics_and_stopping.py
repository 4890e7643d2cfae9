"""The ranking's numbers: WSS, recall, and the buscar stopping test against direct counting."""

import math
import subprocess
import sys

import pytest

from screening.ranking import metrics, stopping


def test_wss_is_asreviews_definition():
    # 20 records, 4 relevant; the 4th relevant is the 10th record screened. 95% of 4 rounds up
    # to all 4, so n95 = 10 and WSS@95 = (20 - 10) / 20 - 0.05.
    order = [1, 0, 1, 1, 0, 0, 0, 0, 0, 1] + [0] * 10
    assert metrics.records_to_recall(order, 0.95) == 10
    assert metrics.wss(order, 0.95) == pytest.approx(0.45)
    assert metrics.records_to_recall(order, 0.5) == 3
    assert metrics.recall_after(order, 0.10) == pytest.approx(0.25)  # 2 records, 1 relevant


def test_a_perfect_order_saves_the_most_work():
    perfect = [1] * 5 + [0] * 95
    worst = [0] * 95 + [1] * 5
    assert metrics.wss(perfect, 1.0) == pytest.approx(0.95)
    assert metrics.wss(worst, 1.0) == pytest.approx(0.0)


def _p_by_counting(relevant_before, remaining, sampled, found, recall):
    """P(X <= found) for the smallest urn content under 'recall < target', by explicit
    combinatorics (no scipy)."""
    k = math.floor((relevant_before + found) / recall - relevant_before + 1e-9) + 1
    if k > remaining:
        return 0.0
    total = math.comb(remaining, sampled)
    return (
        sum(math.comb(k, i) * math.comb(remaining - k, sampled - i) for i in range(found + 1))
        / total
    )


@pytest.mark.parametrize(
    ("relevant_before", "remaining", "sampled", "found", "recall"),
    [(38, 500, 60, 0, 0.95), (38, 500, 120, 1, 0.95), (10, 80, 30, 0, 0.9), (3, 40, 5, 0, 0.95)],
)
def test_the_buscar_p_value_matches_direct_counting(
    relevant_before, remaining, sampled, found, recall
):
    estimate = stopping.buscar(
        relevant_before=relevant_before,
        remaining=remaining,
        sample_labels=[1] * found + [0] * (sampled - found),
        recall=recall,
    )
    expected = _p_by_counting(relevant_before, remaining, sampled, found, recall)
    assert estimate.p_value == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert estimate.probability_reached == pytest.approx(1 - expected)
    assert estimate.can_stop == (expected < 0.05)


def test_more_needed_is_the_smallest_sample_that_would_allow_stopping():
    estimate = stopping.buscar(relevant_before=38, remaining=500, sample_labels=[0] * 10)
    assert not estimate.can_stop and estimate.more_needed
    n = 10 + estimate.more_needed
    assert _p_by_counting(38, 500, n, 0, 0.95) < 0.05 <= _p_by_counting(38, 500, n - 1, 0, 0.95)


def test_a_relevant_record_in_the_sample_needs_a_bigger_sample():
    clean = stopping.buscar(relevant_before=38, remaining=500, sample_labels=[0] * 100)
    dirty = stopping.buscar(relevant_before=38, remaining=500, sample_labels=[1] + [0] * 99)
    assert dirty.p_value > clean.p_value


def test_bad_targets_are_refused():
    with pytest.raises(ValueError, match="recall"):
        stopping.buscar(relevant_before=1, remaining=10, sample_labels=[], recall=1.0)
    with pytest.raises(ValueError, match="confidence"):
        stopping.buscar(relevant_before=1, remaining=10, sample_labels=[], confidence=0)


def test_consecutive_irrelevant_counts_since_the_last_relevant():
    assert stopping.consecutive_irrelevant([1, 0, 1, 0, 0, 0]) == 3
    assert stopping.consecutive_irrelevant([0, 0]) == 2
    assert stopping.consecutive_irrelevant([]) == 0


def test_the_ranking_package_imports_no_django():
    code = (
        "import sys; import screening.ranking.simulate, screening.ranking.stopping, "
        "screening.ranking.datasets; "
        "print(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
