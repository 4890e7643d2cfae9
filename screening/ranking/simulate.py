"""Replay a fully labelled review, one decision at a time, as a screener using the app would.

The simulation uses the app's feature builder (`features`), model (`ranker.rank_candidates`)
and retraining schedule (`schedule.RetrainSchedule`), with time counted in decisions
(`schedule.SIMULATED_SECONDS` each). Between two trainings the screener works down the last
ranking, as the screening page does while a training runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from . import metrics
from .model import DEFAULT_SPEC, ModelSpec
from .ranker import rank_candidates
from .schedule import DEFAULT_SCHEDULE, SIMULATED_SECONDS, RetrainSchedule


@dataclass(frozen=True)
class SimulationResult:
    order: np.ndarray  # rows in the order shown, the priors first
    n_prior: int
    trainings: int

    def summary(self, labels: np.ndarray) -> dict[str, float | int]:
        """The figures of the whole order, the prior records first (the convention of the
        figures ASReview LAB's `simulate` command gives and the issue quotes), and WSS@95 on
        the order after the priors (ASReview Insights' convention)."""
        y = np.asarray(labels)[self.order]
        return {
            "records": int(len(labels)),
            "relevant": int(np.asarray(labels).sum()),
            "prior": self.n_prior,
            "screened_to_95": metrics.records_to_recall(y, 0.95),
            "screened_to_100": metrics.records_to_recall(y, 1.0),
            "wss_95": round(metrics.wss(y, 0.95), 4),
            "wss_100": round(metrics.wss(y, 1.0), 4),
            "wss_95_after_priors": round(metrics.wss(y[self.n_prior :], 0.95), 4),
            "recall_at_10pct": round(metrics.recall_after(y, 0.10), 4),
            "trainings": self.trainings,
        }


def draw_priors(
    labels: np.ndarray, *, seed: int, included: int = 1, excluded: int = 1
) -> list[int]:
    """The prior records: `included` relevant and `excluded` irrelevant rows, drawn with the
    seed as ASReview LAB's `simulate --prior-seed` draws them (a fresh NumPy RandomState per
    class), so that both tools start from the same records for the same seed."""
    labels = np.asarray(labels)
    relevant = np.flatnonzero(labels == 1)
    irrelevant = np.flatnonzero(labels == 0)
    if len(relevant) < included or len(irrelevant) < excluded:
        raise ValueError("not enough relevant or irrelevant records for the priors")
    # RandomState, not default_rng: its stream is the one ASReview's draw uses.
    chosen = list(np.random.RandomState(seed).choice(relevant, included, replace=False))
    chosen += list(np.random.RandomState(seed).choice(irrelevant, excluded, replace=False))
    return [int(c) for c in chosen]


def simulate(
    X: sp.csr_matrix,
    labels: metrics.Labels,
    prior_rows: Sequence[int],
    *,
    seed: int,
    schedule: RetrainSchedule = DEFAULT_SCHEDULE,
    spec: ModelSpec = DEFAULT_SPEC,
) -> SimulationResult:
    y = np.asarray(labels, dtype=np.int64)
    n = X.shape[0]
    shown: list[int] = [int(r) for r in prior_rows]
    seen = np.zeros(n, dtype=bool)
    seen[shown] = True
    queue: list[int] = []
    labelled_at_training = 0
    trainings = 0
    since = 0  # decisions since the last training
    while len(shown) < n:
        due = not queue or schedule.due(
            new_labels=since,
            labelled_at_training=labelled_at_training,
            seconds_since=since * SIMULATED_SECONDS,
        )
        if due:
            train = np.asarray(shown, dtype=np.int64)
            ranking = rank_candidates(
                X, train, y[train], np.flatnonzero(~seen), seed=seed, spec=spec
            )
            queue = list(ranking.order[::-1])  # pop() from the end: most relevant first
            labelled_at_training = len(shown)
            trainings += 1
            since = 0
        row = int(queue.pop())
        while seen[row]:
            row = int(queue.pop())
        seen[row] = True
        shown.append(row)
        since += 1
    return SimulationResult(order=np.asarray(shown), n_prior=len(prior_rows), trainings=trainings)
