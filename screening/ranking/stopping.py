"""When screening can stop: a statistical stopping rule and two heuristics.

The rule is the "buscar" test of Callaghan and Müller-Hansen (2020, Systematic Reviews 9:273):
after ranked screening has found `relevant_before` relevant records, the team screens records
drawn at random, without replacement, from the `remaining` records not yet screened. If the
recall achieved were below the target r, the urn of remaining records would hold at least

    K = floor((relevant_before + k) / r - relevant_before) + 1

relevant records, where k is the number found in the random sample so far. The chance of
finding k or fewer in a sample of n from that urn is the hypergeometric P(X <= k; remaining, K,
n); it is largest at the smallest such K, so that probability is the p value of the null
hypothesis "recall < r". A p value under 1 - confidence (e.g. 0.05) rejects it: the team can
stop, having reached r with that confidence. The test assumes the sample is a simple random
sample of the records remaining when it started, that reviewers judge sampled records as they
would any other, and that the labels are correct.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import hypergeom


@dataclass(frozen=True)
class StopEstimate:
    recall_target: float
    confidence: float
    remaining_at_start: int
    relevant_before: int
    sampled: int
    sampled_relevant: int
    p_value: float
    # 1 - p: how strongly the data speak against "recall is below the target".
    probability_reached: float
    can_stop: bool
    # Records still to sample, all irrelevant, before the rule says stop (0 when it does;
    # None when even the whole urn would not be enough).
    more_needed: int | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _k_hat(relevant_before: int, found: int, recall: float) -> int:
    return math.floor((relevant_before + found) / recall - relevant_before + 1e-9) + 1


def p_recall_below(
    *, relevant_before: int, remaining: int, sampled: int, sampled_relevant: int, recall: float
) -> float:
    """The p value of "recall < `recall`" after a random sample of `sampled` of the
    `remaining` records found `sampled_relevant` relevant ones."""
    if remaining <= 0 or sampled >= remaining:
        return 0.0  # everything has been screened: recall is known to be 1
    k_hat = _k_hat(relevant_before, sampled_relevant, recall)
    if k_hat > remaining:
        return 0.0  # the urn cannot hold enough relevant records for the null to be true
    return float(hypergeom.cdf(sampled_relevant, remaining, k_hat, sampled))


def buscar(
    *,
    relevant_before: int,
    remaining: int,
    sample_labels: Sequence[int],
    recall: float = 0.95,
    confidence: float = 0.95,
) -> StopEstimate:
    if not 0 < recall < 1:
        raise ValueError("the recall target is a fraction between 0 and 1")
    if not 0 < confidence < 1:
        raise ValueError("the confidence is a fraction between 0 and 1")
    sampled = len(sample_labels)
    found = int(sum(sample_labels))
    p = p_recall_below(
        relevant_before=relevant_before,
        remaining=remaining,
        sampled=sampled,
        sampled_relevant=found,
        recall=recall,
    )
    alpha = 1.0 - confidence
    more: int | None = 0
    if p >= alpha:
        more = _more_needed(relevant_before, remaining, sampled, found, recall, alpha)
    return StopEstimate(
        recall_target=recall,
        confidence=confidence,
        remaining_at_start=remaining,
        relevant_before=relevant_before,
        sampled=sampled,
        sampled_relevant=found,
        p_value=p,
        probability_reached=1.0 - p,
        can_stop=p < alpha,
        more_needed=more,
    )


def _more_needed(
    relevant_before: int, remaining: int, sampled: int, found: int, recall: float, alpha: float
) -> int | None:
    k_hat = _k_hat(relevant_before, found, recall)
    if k_hat > remaining:
        return 0
    sizes = np.arange(sampled, remaining + 1)
    p = hypergeom.cdf(found, remaining, k_hat, sizes)
    below = np.flatnonzero(p < alpha)
    if below.size == 0:
        return None
    return int(sizes[below[0]] - sampled)


def consecutive_irrelevant(labels_in_order: Sequence[int]) -> int:
    """Irrelevant records screened since the last relevant one (a heuristic: many in a row
    suggest the ranked list is exhausted, but it gives no recall guarantee)."""
    run = 0
    for label in reversed(labels_in_order):
        if label:
            break
        run += 1
    return run
