"""Reads for prioritised screening: the lead's view of the ranking and of when to stop.

Everything here is computed from complete records only (their votes are no longer hidden), so
the dashboard and the API answer the same before and after a single blind vote.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Max
from django.utils import timezone

from reviewapp.models import Review
from screening import selectors
from screening.models import Decision, RankingState, ScreeningItem, StageSettings, StopSample
from screening.ranking import stopping
from screening.ranking.schedule import DEFAULT_SCHEDULE

# A training running longer than this is shown as stuck (the worker probably died).
STUCK_AFTER = timedelta(minutes=15)
CURVE_POINTS = 400


@dataclass(frozen=True)
class RankingStatus:
    stage: str
    order: str
    active: bool  # the stage is in relevance order and a ranking exists
    state: str  # "untrained", "current", "stale", "queued", "training", "failed", "stuck"
    trained_at: Any
    labelled: int
    relevant: int
    records_ranked: int
    duration_ms: int
    method: str
    labels_since: int
    labels_needed: int
    error: str
    score_histogram: list[int]
    screened: int
    included: int
    consecutive_excludes: int
    curve: list[tuple[int, int]] = field(default_factory=list)
    stop: dict[str, Any] | None = None
    sample_open: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["trained_at"] = self.trained_at.isoformat() if self.trained_at else None
        data["curve"] = [list(point) for point in self.curve]
        return data


def screened_sequence(*, review: Review, stage: str) -> list[tuple[int, int]]:
    """(record id, 1 if its outcome is relevant) for the stage's complete records, in the
    order their last vote was cast. A conflict counts as relevant, as in training."""
    S = ScreeningItem.Status
    outcome = {
        record_id: int(status == S.CONFLICT or verdict == "include")
        for record_id, status, verdict in ScreeningItem.objects.filter(
            review=review, stage=stage, record__duplicate_of__isnull=True
        )
        .exclude(status=S.OPEN)
        .values_list("record_id", "status", "final_verdict")
    }
    if not outcome:
        return []
    finished = (
        Decision.objects.filter(review=review, stage=stage, record_id__in=list(outcome))
        .values("record_id")
        .annotate(at=Max("created_at"))
        .order_by("at", "record_id")
        .values_list("record_id", flat=True)
    )
    return [(record_id, outcome[record_id]) for record_id in finished]


def _curve(labels: list[int]) -> list[tuple[int, int]]:
    points = [(0, 0)]
    step = max(1, len(labels) // CURVE_POINTS)
    found = 0
    for i, label in enumerate(labels, start=1):
        found += label
        if i % step == 0 or i == len(labels):
            points.append((i, found))
    return points


def stop_estimate(*, sample: StopSample, outcome: dict[int, int]) -> stopping.StopEstimate:
    """The buscar test on the sample's records screened so far (complete ones)."""
    labels = [outcome[r] for r in sample.record_ids if r in outcome]
    return stopping.buscar(
        relevant_before=sample.relevant_before,
        remaining=len(sample.record_ids),
        sample_labels=labels,
        recall=sample.recall_target,
        confidence=sample.confidence,
    )


def ranking_status(*, review: Review, stage: str) -> RankingStatus:
    settings: StageSettings = selectors.stage_settings(review=review, stage=stage)
    state = RankingState.objects.filter(review=review, stage=stage).first()
    sequence = screened_sequence(review=review, stage=stage)
    labels = [label for _, label in sequence]
    outcome = dict(sequence)
    sample = StopSample.objects.filter(review=review, stage=stage).order_by("-started_at").first()
    stop = None
    if sample is not None:
        estimate = stop_estimate(sample=sample, outcome=outcome)
        stop = {
            **estimate.to_dict(),
            "started_at": sample.started_at.isoformat(),
            "closed": sample.closed_at is not None,
        }
    trained_at = state.trained_at if state else None
    changed = ScreeningItem.objects.filter(review=review).exclude(status=ScreeningItem.Status.OPEN)
    if trained_at is not None:
        changed = changed.filter(updated_at__gt=trained_at)
    labels_since = changed.count()
    now = timezone.now()
    if state is None or (trained_at is None and not state.pending_since and not state.started_at):
        phase = "failed" if state and state.error else "untrained"
    elif state.started_at and now - state.started_at > STUCK_AFTER:
        phase = "stuck"
    elif state.started_at:
        phase = "training"
    elif state.error and (state.error_at and (not trained_at or state.error_at > trained_at)):
        phase = "failed"
    elif state.pending_since:
        phase = "queued"
    elif labels_since:
        phase = "stale"
    else:
        phase = "current"
    return RankingStatus(
        stage=stage,
        order=settings.order,
        active=settings.order == StageSettings.Order.RELEVANCE and trained_at is not None,
        state=phase,
        trained_at=trained_at,
        labelled=state.labelled if state else 0,
        relevant=state.relevant if state else 0,
        records_ranked=state.records_ranked if state else 0,
        duration_ms=state.duration_ms if state else 0,
        method=state.method if state else "",
        labels_since=labels_since,
        labels_needed=DEFAULT_SCHEDULE.labels_needed(state.labelled if state else 0),
        error=state.error if state else "",
        score_histogram=list(state.score_histogram) if state else [],
        screened=len(labels),
        included=sum(labels),
        consecutive_excludes=stopping.consecutive_irrelevant(labels),
        curve=_curve(labels),
        stop=stop,
        sample_open=bool(sample and sample.closed_at is None),
    )
