"""How well an order of screening does, given the true labels in that order.

WSS@r is ASReview's definition: (N - n) / N - (1 - r), where N is the number of records and n
the number screened when a fraction r of the relevant ones has been found (Cohen et al. 2006).
The simulation computes it on the order after the prior records, as ASReview Insights does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Labels = Sequence[int] | npt.NDArray[np.integer]


def records_to_recall(labels_in_order: Labels, recall: float) -> int:
    """How many records of the order must be screened to find `recall` of the relevant ones."""
    y = np.asarray(labels_in_order, dtype=np.int64)
    total = int(y.sum())
    if total == 0:
        return 0
    needed = math.ceil(recall * total - 1e-9)
    return int(np.searchsorted(np.cumsum(y), needed) + 1)


def wss(labels_in_order: Labels, recall: float = 0.95) -> float:
    n_total = len(labels_in_order)
    screened = records_to_recall(labels_in_order, recall)
    return (n_total - screened) / n_total - (1.0 - recall)


def recall_after(labels_in_order: Labels, fraction: float) -> float:
    y = np.asarray(labels_in_order, dtype=np.int64)
    total = int(y.sum())
    if total == 0:
        return 1.0
    screened = math.ceil(fraction * len(y))
    return float(y[:screened].sum() / total)
