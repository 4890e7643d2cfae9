"""A decision never waits for a training (issue 12: the next record arrives quickly while a
training runs). While a training runs, or holds its stage's row to write the ranking, a
decision neither queues a second training nor waits for the row; the training queues the next
one itself once it has committed, so no label is left out."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from screening import services_ranking
from screening.models import RankingState, Stage, StageSettings
from screening.services_screening import decision_record, stage_settings_update
from tests.factories import RecordFactory

TA = Stage.TITLE_ABSTRACT
TOPIC = "peer support workers mental health recovery one-to-one randomised trial"
OTHER = "coronary stent registry mortality imaging cardiology cohort"


@pytest.fixture(autouse=True)
def _cache_dir(settings, tmp_path):
    settings.RANKING_CACHE_DIR = str(tmp_path / "ranking-cache")


def _library(review):
    on = [RecordFactory(review=review, title=f"Peer {i}", abstract=TOPIC) for i in range(6)]
    off = [RecordFactory(review=review, title=f"Stent {i}", abstract=OTHER) for i in range(14)]
    stage_settings_update(
        review=review,
        stage=TA,
        reviewers_required=2,
        blind=True,
        exclusion_reasons=[],
        order=StageSettings.Order.RELEVANCE,
    )
    return on, off


def _both(record, a, b, verdict):
    decision_record(record=record, stage=TA, reviewer=a, verdict=verdict)
    decision_record(record=record, stage=TA, reviewer=b, verdict=verdict)


@pytest.mark.django_db
def test_a_label_during_a_training_waits_for_it_and_the_training_queues_the_next(
    review, screener_a, screener_b, django_capture_on_commit_callbacks
):
    on, off = _library(review)
    with django_capture_on_commit_callbacks(execute=True):
        _both(on[0], screener_a, screener_b, "include")
        _both(off[0], screener_a, screener_b, "exclude")
    first = RankingState.objects.get(review=review, stage=TA)
    assert first.labelled == 2 and first.trained_at is not None

    # A training is running (the worker has started it): a new label queues nothing.
    RankingState.objects.filter(pk=first.pk).update(started_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        _both(off[1], screener_a, screener_b, "exclude")
    during = RankingState.objects.get(pk=first.pk)
    assert during.labelled == 2 and during.pending_since is None

    # It ends; what came in meanwhile is trained on next.
    RankingState.objects.filter(pk=first.pk).update(started_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert services_ranking.ranking_queue_next(review_id=review.pk, stage=TA) == [TA]
    after = RankingState.objects.get(pk=first.pk)
    assert after.labelled == 3 and after.records_ranked == 17


@pytest.mark.django_db
def test_a_training_started_long_ago_and_never_finished_does_not_block_the_queue(
    review, screener_a, screener_b, django_capture_on_commit_callbacks
):
    on, off = _library(review)
    services_ranking.ranking_state(review_id=review.pk, stage=TA)
    RankingState.objects.filter(review=review, stage=TA).update(
        started_at=timezone.now() - services_ranking.PENDING_TTL - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        _both(on[0], screener_a, screener_b, "include")
        _both(off[0], screener_a, screener_b, "exclude")
    assert RankingState.objects.get(review=review, stage=TA).labelled == 2


@pytest.mark.django_db(transaction=True)
def test_a_decision_does_not_wait_while_a_training_holds_the_row(review):
    _library(review)
    state = services_ranking.ranking_state(review_id=review.pk, stage=TA)
    locked, release = threading.Event(), threading.Event()

    def training_writes_its_ranking():
        try:
            with transaction.atomic():
                RankingState.objects.select_for_update().filter(pk=state.pk).first()
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=training_writes_its_ranking)
    holder.start()
    assert locked.wait(timeout=10)
    try:
        with transaction.atomic():
            claimed = services_ranking._claim_send(state.pk)
    finally:
        release.set()
        holder.join(timeout=10)
    # Not claimed, and not blocked: the call came back while the row was still held.
    assert claimed is False
    assert RankingState.objects.get(pk=state.pk).pending_since is None
    with transaction.atomic():
        assert services_ranking._claim_send(state.pk) is True
