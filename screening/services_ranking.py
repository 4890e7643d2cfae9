"""Writes for prioritised screening: training the relevance model, leases, the stopping sample.

Training. A change to a record's label (a record's votes complete, a conflict is resolved, a
vote is undone) calls `ranking_labels_changed` inside the transaction that made it. Once that
commits, `_maybe_queue` asks the retraining schedule (`screening.ranking.schedule`, the one the
simulation uses) whether a training is due and, if so, claims the stage's `pending_since` with a
conditional UPDATE (a burst of votes queues one task) and sends `train_ranking_task`, delayed
until the schedule's minimum interval has passed. The task clears the flag before it reads the
labels, so a label committed afterwards queues a training of its own. A training whose labels
and records are those of the current ranking is a no-op, so a retried or duplicated task is
harmless. Screening never waits for it: the page serves the last ranking meanwhile.

Which label a record gets (blind mode never leaks through the ranking):
- complete at a stage (decided or resolved): its outcome; in conflict: relevant (1), since
  title/abstract screening gives the benefit of the doubt and the arbiter has not spoken;
- a full-text outcome overrides the title/abstract one (full-text decisions feed the model);
- open (waiting for a vote): no label in blind mode, so no single reviewer's vote moves the
  ranking another reviewer sees; when the stage is not blind, the votes if they agree.
"""

from __future__ import annotations

import hashlib
import logging
import random
import tempfile
import time
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from reviewapp.common.outbox import outbox_enqueue
from reviewapp.errors import DomainError
from reviewapp.models import Review
from screening import selectors
from screening.models import (
    Decision,
    RankingState,
    Record,
    RecordRank,
    ScreeningItem,
    ScreeningLease,
    Stage,
    StageSettings,
    StopSample,
    Verdict,
)
from screening.ranking.schedule import DEFAULT_SCHEDULE

# scikit-learn is imported where a training needs it (`_ranking_code`), never at import time:
# the web processes import this module for leases and the stopping sample, and must not pay
# for (or depend on) the machine-learning stack.

logger = logging.getLogger(__name__)

# A queued training not started within this time is presumed lost and may be sent again.
PENDING_TTL = timedelta(minutes=10)
HISTOGRAM_BINS = 10


# --- labels ---------------------------------------------------------------------------------


def ranking_labels(*, review_id: int) -> dict[int, int]:
    """Record id -> 1 (relevant) or 0, by the rules in this module's docstring."""
    S = ScreeningItem.Status
    blind = {
        s.stage: s.blind for s in StageSettings.objects.filter(review_id=review_id)
    }  # a stage without settings row is blind (the default)
    by_stage: dict[str, dict[int, int]] = {Stage.TITLE_ABSTRACT: {}, Stage.FULL_TEXT: {}}
    open_visible: list[tuple[int, str]] = []
    items = ScreeningItem.objects.filter(
        review_id=review_id, record__duplicate_of__isnull=True
    ).values_list("record_id", "stage", "status", "final_verdict")
    for record_id, stage, status, verdict in items:
        if status in (S.DECIDED, S.RESOLVED):
            by_stage[stage][record_id] = int(verdict == Verdict.INCLUDE)
        elif status == S.CONFLICT:
            by_stage[stage][record_id] = 1
        elif not blind.get(stage, True):
            open_visible.append((record_id, stage))
    if open_visible:
        votes: dict[tuple[int, str], set[str]] = {}
        for record_id, stage, verdict in Decision.objects.filter(
            review_id=review_id, stage__in=[s for s in Stage.values if not blind.get(s, True)]
        ).values_list("record_id", "stage", "verdict"):
            votes.setdefault((record_id, stage), set()).add(verdict)
        for key in open_visible:
            seen = votes.get(key)
            if seen and len(seen) == 1:
                by_stage[key[1]][key[0]] = int(next(iter(seen)) != Verdict.EXCLUDE)
    labels = dict(by_stage[Stage.TITLE_ABSTRACT])
    labels.update(by_stage[Stage.FULL_TEXT])
    return labels


def _ranking_code() -> Any:
    from screening.ranking import features, model, ranker

    return features, model, ranker


def _fingerprint(labels: dict[int, int], candidates: Iterable[int]) -> str:
    _, model, _ = _ranking_code()
    digest = hashlib.sha256()
    digest.update(np.asarray(sorted(labels.items()), dtype=np.int64).tobytes())
    digest.update(b"|")
    digest.update(np.asarray(sorted(candidates), dtype=np.int64).tobytes())
    digest.update(model.DEFAULT_SPEC.describe().encode())
    return digest.hexdigest()


# --- features -------------------------------------------------------------------------------


def _cache_path(review_id: int) -> Path:
    root = Path(getattr(django_settings, "RANKING_CACHE_DIR", "") or tempfile.gettempdir())
    return root / "reviewapp-ranking" / f"review-{review_id}.rvtf"


def review_feature_store(*, review_id: int) -> Any:
    """The review's `features.TermFrequencyStore`: a row of term frequencies for every record.

    Kept on the worker's disk and extended with the records imported since: records never
    change their text after import, so a stored row stays right. A missing or unreadable store
    is rebuilt; it is a cache, nothing is lost with it.
    """
    features, _, _ = _ranking_code()
    path = _cache_path(review_id)
    store = None
    if path.exists():
        try:
            store = features.TermFrequencyStore(path)
        except (OSError, ValueError):
            store = None
    known = store.ids if store is not None else np.zeros(0, dtype=np.int64)
    all_ids = np.fromiter(
        Record.objects.filter(review_id=review_id).order_by("id").values_list("id", flat=True),
        dtype=np.int64,
    )
    missing = np.setdiff1d(all_ids, known, assume_unique=True)
    if missing.size or store is None:
        texts = (
            features.record_text(title, abstract, keywords or [])
            for title, abstract, keywords in Record.objects.filter(id__in=missing.tolist())
            .order_by("id")
            .values_list("title", "abstract", "keywords")
            .iterator(chunk_size=2000)
        )
        if store is None:
            store = features.build_store(path, missing, texts)
        else:
            store = features.extend_store(store, missing, texts)
    return store


# --- training -------------------------------------------------------------------------------


def ranking_state(*, review_id: int, stage: str) -> RankingState:
    state, _ = RankingState.objects.get_or_create(review_id=review_id, stage=stage)
    return state


def _candidate_ids(review: Review, stage: str) -> list[int]:
    """Records the stage still has to finish: eligible, and not complete there."""
    complete = ScreeningItem.objects.filter(review=review, stage=stage).exclude(
        status=ScreeningItem.Status.OPEN
    )
    return list(
        selectors.stage_records(review=review, stage=stage)
        .exclude(id__in=complete.values("record_id"))
        .values_list("id", flat=True)
    )


def ranking_train(*, review_id: int, stage: str) -> RankingState | None:
    """Train on the current labels and store the ranking of the stage's remaining records
    (the Celery task's one call). Returns None for a review deleted since it was queued."""
    RankingState.objects.filter(review_id=review_id, stage=stage).update(
        pending_since=None, started_at=timezone.now()
    )
    review = Review.objects.filter(pk=review_id).first()
    if review is None:
        return None
    _, model, ranker = _ranking_code()
    began = time.perf_counter()
    # Labels changed after this instant count as new for the next training.
    read_at = timezone.now()
    labels = ranking_labels(review_id=review_id)
    candidates = _candidate_ids(review, stage)
    fingerprint = _fingerprint(labels, candidates)
    state = ranking_state(review_id=review_id, stage=stage)
    values = np.fromiter(labels.values(), dtype=np.int64, count=len(labels))
    if state.labels_fingerprint == fingerprint or not ranker.can_train(values) or not candidates:
        RankingState.objects.filter(pk=state.pk).update(started_at=None)
        state.refresh_from_db()
        return state
    # The idf is that of the whole library; the store is read by blocks, never whole.
    store = review_feature_store(review_id=review_id)
    ids = store.ids
    row_of = {int(record_id): row for row, record_id in enumerate(ids.tolist())}
    train_ids = [r for r in labels if r in row_of]
    train_rows = np.asarray([row_of[r] for r in train_ids], dtype=np.int64)
    train_labels = np.asarray([labels[r] for r in train_ids], dtype=np.int64)
    candidate_rows = np.asarray([row_of[c] for c in candidates if c in row_of], dtype=np.int64)
    ranking = ranker.rank_candidates(
        store, train_rows, train_labels, candidate_rows, seed=review_id
    )
    ranked_ids = ids[ranking.order]
    histogram = np.histogram(ranking.scores, bins=HISTOGRAM_BINS, range=(0.0, 1.0))[0]
    with transaction.atomic():
        # Two trainings of one stage (a redelivered task, "retrain now") write one at a time:
        # the second waits here, then replaces the first one's ranking whole.
        RankingState.objects.select_for_update().filter(pk=state.pk).first()
        _store_ranks(review_id, stage, ranked_ids, ranking.scores)
        RankingState.objects.filter(pk=state.pk).update(
            trained_at=read_at,
            started_at=None,
            labels_fingerprint=fingerprint,
            labelled=len(train_ids),
            relevant=int(train_labels.sum()),
            records_ranked=len(ranked_ids),
            duration_ms=int((time.perf_counter() - began) * 1000),
            method=model.DEFAULT_SPEC.describe(),
            score_histogram=[int(c) for c in histogram],
            error="",
            error_at=None,
            attempts=0,
        )
    state.refresh_from_db()
    return state


def _store_ranks(review_id: int, stage: str, record_ids: np.ndarray, scores: np.ndarray) -> None:
    RecordRank.objects.filter(review_id=review_id, stage=stage).delete()
    rows = zip(record_ids.tolist(), scores.tolist(), strict=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            copy_sql = (
                "COPY screening_recordrank (review_id, stage, record_id, rank, score) FROM STDIN"
            )
            with cursor.cursor.copy(copy_sql) as copy:
                for rank, (record_id, score) in enumerate(rows):
                    copy.write_row((review_id, stage, record_id, rank, score))
        return
    RecordRank.objects.bulk_create(
        RecordRank(review_id=review_id, stage=stage, record_id=r, rank=i, score=s)
        for i, (r, s) in enumerate(rows)
    )


def ranking_record_failure(*, review_id: int, stage: str, message: str) -> None:
    """A training failed for a reason a retry may fix; the lead sees it, screening goes on."""
    from django.db.models import F

    RankingState.objects.filter(review_id=review_id, stage=stage).update(
        error=message[:2000], error_at=timezone.now(), started_at=None, attempts=F("attempts") + 1
    )


# --- queueing -------------------------------------------------------------------------------


def ranking_labels_changed(*, review_id: int, stage: str) -> None:
    """Call in the transaction that changes a record's votes or outcome at `stage`. Full-text
    outcomes are labels of the title/abstract model too, so they retrain both stages."""
    if not getattr(django_settings, "RANKING_AUTO_TRAIN", True):
        return
    stages = [stage] if stage == Stage.TITLE_ABSTRACT else list(Stage.values)
    # robust: a failure to queue (broker down) or, without a broker, a training that fails in
    # process is logged and shown to the lead; it never turns the committed vote into an error.
    transaction.on_commit(lambda: _maybe_queue(review_id, stages=stages), robust=True)


def _labels_since(state: RankingState) -> int:
    """Records whose label may have changed since the last training (complete records whose
    item changed since; blind mode hides open ones, so they are not counted)."""
    changed = ScreeningItem.objects.filter(review_id=state.review_id).exclude(
        status=ScreeningItem.Status.OPEN
    )
    if state.trained_at is not None:
        changed = changed.filter(updated_at__gt=state.trained_at)
    return changed.count()


def _maybe_queue(
    review_id: int, *, force: bool = False, stages: Iterable[str] = tuple(Stage.values)
) -> list[str]:
    queued = []
    for stage in stages:
        state = ranking_state(review_id=review_id, stage=stage)
        since = _labels_since(state)
        if since == 0 and not force:
            continue
        seconds = (
            (timezone.now() - state.trained_at).total_seconds()
            if state.trained_at
            else float("inf")
        )
        if not force and since < DEFAULT_SCHEDULE.labels_needed(state.labelled):
            continue
        wait = 0.0 if force else max(0.0, DEFAULT_SCHEDULE.min_seconds - seconds)
        from screening.tasks import train_ranking_task

        # The claim and the outbox row commit together: a broker that is down delays the
        # training (the outbox sends it when a worker starts) but never loses it.
        with transaction.atomic():
            if _claim_send(state.pk):
                outbox_enqueue(train_ranking_task.name, review_id, stage, countdown=wait)
                queued.append(stage)
    return queued


def _claim_send(state_id: int) -> bool:
    """Claim the stage's next training for this caller (in its transaction), unless one is
    queued or running. A decision never waits for a training: the row is locked while a
    training writes its ranking, and then the claim is skipped, not queued behind it; the
    training queues the next one itself once it has committed (`ranking_queue_next`)."""
    now = timezone.now()
    free = (
        RankingState.objects.select_for_update(skip_locked=True)
        .filter(pk=state_id)
        .filter(Q(pending_since__isnull=True) | Q(pending_since__lt=now - PENDING_TTL))
        .filter(Q(started_at__isnull=True) | Q(started_at__lt=now - PENDING_TTL))
        .values_list("pk", flat=True)
    )
    if not list(free):
        return False
    return bool(RankingState.objects.filter(pk=state_id).update(pending_since=now))


def ranking_queue_next(*, review_id: int, stage: str) -> list[str]:
    """After a training has committed: queue the next one if the labels that came in while it
    ran make it due (decisions made meanwhile did not queue one; see `_claim_send`)."""
    return _maybe_queue(review_id, stages=[stage])


def ranking_retrain_now(*, review: Review) -> None:
    """The lead's "retrain now" (after a failure, or to refresh before a meeting): queued once
    the calling transaction commits, whatever the schedule says."""
    RankingState.objects.filter(review=review).update(pending_since=None, labels_fingerprint="")
    transaction.on_commit(lambda: _maybe_queue(review.pk, force=True), robust=True)


def rankings_requeue_stale() -> list[int]:
    """Queue a training for every stage whose labels moved on (a worker died, a message was
    lost); run when a worker starts."""
    reviews = set(
        RankingState.objects.filter(
            Q(pending_since__isnull=False) | Q(started_at__isnull=False) | ~Q(error="")
        ).values_list("review_id", flat=True)
    )
    RankingState.objects.filter(review_id__in=reviews).update(pending_since=None, started_at=None)
    for review_id in reviews:
        _maybe_queue(review_id, force=True)
    return sorted(reviews)


# --- leases ---------------------------------------------------------------------------------


def lease_release(*, review: Review, stage: str, reviewer: Any, record_id: int) -> bool:
    """The page was closed or left: give the record's slot back at once."""
    deleted, _ = ScreeningLease.objects.filter(
        review=review, stage=stage, reviewer=reviewer, record_id=record_id, skipped=False
    ).delete()
    return bool(deleted)


@transaction.atomic
def lease_skip(*, review: Review, stage: str, reviewer: Any, record_id: int) -> None:
    """Skip a record: its slot is free for others and it moves to the end of my queue."""
    if not Record.objects.filter(pk=record_id, review=review).exists():
        raise DomainError(f"There is no record {record_id} here.", field="record")
    ScreeningLease.objects.update_or_create(
        record_id=record_id,
        stage=stage,
        reviewer=reviewer,
        defaults={"review": review, "skipped": True, "expires_at": timezone.now()},
    )


def lease_drop_on_vote(*, record_id: int, stage: str, reviewer_id: int) -> None:
    """A vote uses the reviewer's slot: the lease has done its work."""
    ScreeningLease.objects.filter(
        record_id=record_id, stage=stage, reviewer_id=reviewer_id
    ).delete()


# --- the stopping sample --------------------------------------------------------------------


@transaction.atomic
def stop_sample_start(
    *, review: Review, stage: str, user: Any, recall_target: float = 0.95, confidence: float = 0.95
) -> StopSample:
    """Draw the random sample of the records not yet screened; reviewers are served it first."""
    if stage not in Stage.values:
        raise DomainError(f"Unknown stage '{stage}'.", field="stage")
    if not 0.5 <= recall_target < 1:
        raise DomainError("The recall target is between 50% and 99.9%.", field="recall_target")
    if not 0.5 <= confidence < 1:
        raise DomainError("The confidence is between 50% and 99.9%.", field="confidence")
    Review.objects.select_for_update().filter(pk=review.pk).first()
    if StopSample.objects.filter(review=review, stage=stage, closed_at__isnull=True).exists():
        raise DomainError(
            "A stopping sample is already running at this stage; close it first.", field="stage"
        )
    remaining = _candidate_ids(review, stage)
    # Records someone already voted on are not "unscreened": leave them out of the urn.
    voted = set(
        Decision.objects.filter(review=review, stage=stage).values_list("record_id", flat=True)
    )
    remaining = [r for r in remaining if r not in voted]
    if not remaining:
        raise DomainError("Every record has been screened at this stage; nothing to sample.")
    labels = ranking_labels(review_id=review.pk)
    stage_ids = set(
        selectors.stage_records(review=review, stage=stage).values_list("id", flat=True)
    )
    relevant_before = sum(1 for r, y in labels.items() if y and r in stage_ids)
    seed = random.SystemRandom().randrange(2**62)
    order = list(remaining)
    random.Random(seed).shuffle(order)
    return StopSample.objects.create(
        review=review,
        stage=stage,
        record_ids=order,
        relevant_before=relevant_before,
        screened_before=len(stage_ids) - len(remaining),
        recall_target=recall_target,
        confidence=confidence,
        seed=seed,
        started_by=user,
    )


@transaction.atomic
def stop_sample_close(*, review: Review, stage: str) -> StopSample:
    sample = (
        StopSample.objects.select_for_update()
        .filter(review=review, stage=stage, closed_at__isnull=True)
        .first()
    )
    if sample is None:
        raise DomainError("No stopping sample is running at this stage.", field="stage")
    sample.closed_at = timezone.now()
    sample.save(update_fields=["closed_at"])
    return sample
