"""Rank candidates: the one function the Celery training and the simulation both call."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .features import WeightedRows
from .model import DEFAULT_SPEC, ModelSpec, relevance_scores


@dataclass(frozen=True)
class Ranking:
    order: np.ndarray  # candidate rows, most relevant first
    scores: np.ndarray  # the score of each row in `order`, same positions


def tie_breaker(n: int, seed: int) -> np.ndarray:
    """A fixed pseudo-random key per row, so that equal scores keep a stable, unbiased order."""
    return np.random.default_rng(seed).random(n)


def rank_candidates(
    X: sp.csr_matrix | WeightedRows,
    train_rows: np.ndarray,
    labels: np.ndarray,
    candidate_rows: np.ndarray,
    *,
    seed: int,
    spec: ModelSpec = DEFAULT_SPEC,
) -> Ranking:
    scores = relevance_scores(X, train_rows, labels, seed=seed, spec=spec)
    ties = tie_breaker(len(scores), seed)
    candidate_rows = np.asarray(candidate_rows, dtype=np.int64)
    # lexsort: the last key is the primary one.
    order = np.lexsort((ties[candidate_rows], -scores[candidate_rows]))
    ranked = candidate_rows[order]
    return Ranking(order=ranked, scores=scores[ranked])


def can_train(labels: np.ndarray) -> bool:
    labels = np.asarray(labels)
    return labels.size > 0 and labels.min() == 0 and labels.max() == 1
