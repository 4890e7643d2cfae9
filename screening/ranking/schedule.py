"""When to retrain: the one schedule the app's Celery task and the simulation both follow.

Early on every label changes the model a lot, and a model fitted on a few hundred records costs
milliseconds: retrain after every new label. Later a label moves the ranking less and a fit
over a large review costs seconds: wait for a batch that grows with the number of labels
(2% of them). Whatever the count, trainings are at least `min_seconds` apart, so a team of 20
never queues one per keystroke ("N decisions or T seconds, whichever comes later").

In the simulation time is counted in decisions: each decision takes `SIMULATED_SECONDS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SIMULATED_SECONDS = 10.0  # a screener's time for one title and abstract


@dataclass(frozen=True)
class RetrainSchedule:
    every_label_until: int = 100
    growth: float = 0.02
    max_batch: int = 500
    min_seconds: float = 5.0

    def labels_needed(self, labelled: int) -> int:
        """New labels that make the next training due, given the labels of the last one."""
        if labelled < self.every_label_until:
            return 1
        return max(1, min(self.max_batch, math.ceil(labelled * self.growth)))

    def due(self, *, new_labels: int, labelled_at_training: int, seconds_since: float) -> bool:
        return (
            new_labels >= self.labels_needed(labelled_at_training)
            and seconds_since >= self.min_seconds
        )


DEFAULT_SCHEDULE = RetrainSchedule()
