"""Prioritised screening through the services: labels, training, leases, the stopping sample."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reviewapp.errors import DomainError
from screening import selectors_ranking, services_ranking
from screening.models import (
    RankingState,
    RecordRank,
    ScreeningLease,
    Stage,
    StageSettings,
    StopSample,
)
from screening.next_record import next_record
from screening.services_screening import conflict_resolve, decision_record, stage_settings_update
from tests.factories import MembershipFactory, RecordFactory, UserFactory

pytestmark = pytest.mark.django_db

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
TOPIC = "peer support workers mental health recovery one-to-one randomised trial"
OTHER = "coronary stent registry mortality imaging cardiology cohort"


@pytest.fixture(autouse=True)
def _cache_dir(settings, tmp_path):
    settings.RANKING_CACHE_DIR = str(tmp_path / "ranking-cache")


@pytest.fixture
def library(review):
    """10 records on the review's topic, 30 off it; the first of each kind come first."""
    on = [
        RecordFactory(review=review, title=f"Peer support {i}", abstract=TOPIC) for i in range(10)
    ]
    off = [RecordFactory(review=review, title=f"Stents {i}", abstract=OTHER) for i in range(30)]
    return on, off


def settings_for(review, *, required=2, blind=True, order=StageSettings.Order.RELEVANCE):
    return stage_settings_update(
        review=review,
        stage=TA,
        reviewers_required=required,
        blind=blind,
        exclusion_reasons=[],
        order=order,
    )


def vote(record, user, verdict, stage=TA):
    return decision_record(record=record, stage=stage, reviewer=user, verdict=verdict)


def both(record, a, b, verdict_a, verdict_b=None):
    vote(record, a, verdict_a)
    vote(record, b, verdict_b or verdict_a)


def test_a_single_blind_vote_gives_no_label_but_a_complete_record_does(
    review, library, screener_a, screener_b
):
    on, off = library
    settings_for(review)
    vote(on[0], screener_a, "include")
    assert services_ranking.ranking_labels(review_id=review.pk) == {}
    vote(on[0], screener_b, "include")
    both(off[0], screener_a, screener_b, "exclude")
    both(off[1], screener_a, screener_b, "include", "exclude")  # a conflict
    assert services_ranking.ranking_labels(review_id=review.pk) == {
        on[0].pk: 1,
        off[0].pk: 0,
        off[1].pk: 1,
    }


def test_without_blind_mode_agreeing_votes_of_an_open_record_are_a_label(
    review, library, screener_a
):
    on, off = library
    settings_for(review, blind=False)
    vote(on[0], screener_a, "include")
    vote(off[0], screener_a, "exclude")
    assert services_ranking.ranking_labels(review_id=review.pk) == {on[0].pk: 1, off[0].pk: 0}


def test_a_full_text_outcome_overrides_the_title_and_abstract_one(
    review, library, screener_a, screener_b
):
    on, _ = library
    settings_for(review)
    stage_settings_update(
        review=review,
        stage=FT,
        reviewers_required=2,
        blind=True,
        exclusion_reasons=["Not an RCT"],
        votes_need_pdf=False,
    )
    both(on[0], screener_a, screener_b, "include")
    for user in (screener_a, screener_b):
        decision_record(
            record=on[0], stage=FT, reviewer=user, verdict="exclude", reason="Not an RCT"
        )
    assert services_ranking.ranking_labels(review_id=review.pk) == {on[0].pk: 0}


def test_training_ranks_the_remaining_records_most_relevant_first(
    review, library, screener_a, screener_b
):
    on, off = library
    settings_for(review)
    assert next_record(review=review, stage=TA, reviewer=screener_a) is not None  # random
    ScreeningLease.objects.all().delete()
    both(on[0], screener_a, screener_b, "include")
    both(off[0], screener_a, screener_b, "exclude")
    state = services_ranking.ranking_train(review_id=review.pk, stage=TA)
    assert state.records_ranked == 38 and state.labelled == 2 and state.relevant == 1
    ranked = list(
        RecordRank.objects.filter(review=review, stage=TA)
        .order_by("rank")
        .values_list("record_id", flat=True)
    )
    assert set(ranked) == {r.pk for r in on[1:] + off[1:]}  # complete records are not ranked
    assert set(ranked[:9]) == {r.pk for r in on[1:]}
    served = next_record(review=review, stage=TA, reviewer=screener_a)
    assert served.pk in {r.pk for r in on[1:]}
    # The same labels again: nothing to do, the ranking is kept.
    again = services_ranking.ranking_train(review_id=review.pk, stage=TA)
    assert again.trained_at == state.trained_at


def test_records_imported_later_join_the_stored_features_and_a_broken_store_is_rebuilt(
    review, library, screener_a, screener_b
):
    on, off = library
    settings_for(review)
    both(on[0], screener_a, screener_b, "include")
    both(off[0], screener_a, screener_b, "exclude")
    services_ranking.ranking_train(review_id=review.pk, stage=TA)
    late = RecordFactory(review=review, title="Peer support, imported later", abstract=TOPIC)
    both(off[1], screener_a, screener_b, "exclude")  # new labels: a training is due
    services_ranking.ranking_train(review_id=review.pk, stage=TA)
    store = services_ranking.review_feature_store(review_id=review.pk)
    assert late.pk in store.ids.tolist() and store.n_rows == 41
    ranked = RecordRank.objects.filter(review=review, stage=TA).order_by("rank")
    assert late.pk in list(ranked.values_list("record_id", flat=True)[:10])
    store.path.write_bytes(store.path.read_bytes()[:-8])  # a worker died mid-write, say
    assert services_ranking.review_feature_store(review_id=review.pk).n_rows == 41


def test_a_completed_label_queues_a_training_after_commit(
    review, library, screener_a, screener_b, django_capture_on_commit_callbacks
):
    on, off = library
    settings_for(review)
    with django_capture_on_commit_callbacks(execute=True):
        both(on[0], screener_a, screener_b, "include")
    # One class only: the task ran and had nothing to learn from.
    assert not RecordRank.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        both(off[0], screener_a, screener_b, "exclude")
    state = RankingState.objects.get(review=review, stage=TA)
    assert state.records_ranked == 38 and state.pending_since is None
    status = selectors_ranking.ranking_status(review=review, stage=TA)
    assert status.state == "current" and status.active and status.labels_since == 0


def test_a_failed_training_is_shown_and_screening_goes_on(review, library, screener_a, screener_b):
    on, off = library
    settings_for(review)
    both(on[0], screener_a, screener_b, "include")
    both(off[0], screener_a, screener_b, "exclude")
    services_ranking.ranking_train(review_id=review.pk, stage=TA)
    services_ranking.ranking_record_failure(review_id=review.pk, stage=TA, message="MemoryError: x")
    status = selectors_ranking.ranking_status(review=review, stage=TA)
    assert status.state == "failed" and "MemoryError" in status.error
    assert next_record(review=review, stage=TA, reviewer=screener_a) is not None


def test_dual_screening_serves_a_record_to_two_reviewers_at_most(
    review, library, screener_a, screener_b
):
    settings_for(review, order=StageSettings.Order.IMPORT)
    third = MembershipFactory(review=review, user=UserFactory(username="c"), is_reviewer=True).user
    on, _ = library
    assert next_record(review=review, stage=TA, reviewer=screener_a) == on[0]
    assert next_record(review=review, stage=TA, reviewer=screener_b) == on[0]
    assert next_record(review=review, stage=TA, reviewer=third) == on[1]
    # A reload serves the same record; a vote frees the slot for nobody else (it fills it).
    assert next_record(review=review, stage=TA, reviewer=screener_a) == on[0]
    vote(on[0], screener_a, "include")
    assert not ScreeningLease.objects.filter(reviewer=screener_a).exists()
    assert next_record(review=review, stage=TA, reviewer=screener_a) == on[1]


def test_release_and_timeout_give_the_slot_back(review, library, screener_a, screener_b):
    settings_for(review, required=1, order=StageSettings.Order.IMPORT)
    on, _ = library
    assert next_record(review=review, stage=TA, reviewer=screener_a) == on[0]
    assert next_record(review=review, stage=TA, reviewer=screener_b) == on[1]
    services_ranking.lease_release(review=review, stage=TA, reviewer=screener_a, record_id=on[0].pk)
    ScreeningLease.objects.filter(reviewer=screener_b).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    third = MembershipFactory(review=review, user=UserFactory(username="c"), is_reviewer=True).user
    assert next_record(review=review, stage=TA, reviewer=third) == on[0]
    fourth = MembershipFactory(review=review, user=UserFactory(username="d"), is_reviewer=True).user
    assert next_record(review=review, stage=TA, reviewer=fourth) == on[1]


def test_a_skipped_record_comes_back_at_the_end_of_my_queue_only(
    review, library, screener_a, screener_b
):
    settings_for(review, required=1, order=StageSettings.Order.IMPORT)
    on, off = library
    assert next_record(review=review, stage=TA, reviewer=screener_a) == on[0]
    services_ranking.lease_skip(review=review, stage=TA, reviewer=screener_a, record_id=on[0].pk)
    assert next_record(review=review, stage=TA, reviewer=screener_b) == on[0]  # free for others
    assert next_record(review=review, stage=TA, reviewer=screener_a) == on[1]
    for record in on[1:] + off:
        assert next_record(review=review, stage=TA, reviewer=screener_a) == record
        vote(record, screener_a, "exclude")
    vote(on[0], screener_b, "include")
    assert next_record(review=review, stage=TA, reviewer=screener_a) is None
    with pytest.raises(DomainError, match="no record"):
        services_ranking.lease_skip(review=review, stage=TA, reviewer=screener_a, record_id=0)


def test_the_stopping_sample_is_served_first_and_gives_the_estimate(
    review, library, screener_a, screener_b, lead
):
    settings_for(review, required=1, order=StageSettings.Order.IMPORT)
    on, off = library
    for record in on:
        vote(record, screener_a, "include")
    sample = services_ranking.stop_sample_start(review=review, stage=TA, user=lead)
    assert sorted(sample.record_ids) == sorted(r.pk for r in off)
    assert sample.relevant_before == 10 and sample.screened_before == 10
    with pytest.raises(DomainError, match="already running"):
        services_ranking.stop_sample_start(review=review, stage=TA, user=lead)
    for position in range(12):
        served = next_record(review=review, stage=TA, reviewer=screener_b)
        assert served.pk == sample.record_ids[position]
        vote(served, screener_b, "exclude")
    status = selectors_ranking.ranking_status(review=review, stage=TA)
    assert status.sample_open
    assert status.stop["sampled"] == 12 and status.stop["sampled_relevant"] == 0
    assert status.stop["remaining_at_start"] == 30
    assert 0 < status.stop["p_value"] < 1
    assert status.consecutive_excludes == 12
    services_ranking.stop_sample_close(review=review, stage=TA)
    assert StopSample.objects.get().closed_at is not None
    with pytest.raises(DomainError, match="No stopping sample"):
        services_ranking.stop_sample_close(review=review, stage=TA)


def test_impossible_stopping_targets_are_refused(review, library, lead):
    with pytest.raises(DomainError, match="recall target"):
        services_ranking.stop_sample_start(review=review, stage=TA, user=lead, recall_target=1.5)
    with pytest.raises(DomainError, match="confidence"):
        services_ranking.stop_sample_start(review=review, stage=TA, user=lead, confidence=0.2)
    assert not StopSample.objects.exists()


def test_the_dashboard_counts_only_complete_records(
    review, library, screener_a, screener_b, arbiter
):
    on, off = library
    settings_for(review)
    vote(on[0], screener_a, "include")
    before = selectors_ranking.ranking_status(review=review, stage=TA).to_dict()
    vote(off[0], screener_a, "exclude")
    assert selectors_ranking.ranking_status(review=review, stage=TA).to_dict() == before
    vote(on[0], screener_b, "exclude")  # a conflict: complete, counted relevant
    item = on[0].screening_items.get(stage=TA)
    conflict_resolve(item=item, arbiter=arbiter, verdict="include")
    status = selectors_ranking.ranking_status(review=review, stage=TA)
    assert status.screened == 1 and status.included == 1 and status.curve[-1] == (1, 1)


def test_a_training_that_fails_in_process_never_fails_the_vote(
    review, library, screener_a, screener_b, settings, tmp_path, django_capture_on_commit_callbacks
):
    # Without a broker the task runs in the request: make it fail for real (its feature cache
    # cannot be written) and check that the committed vote stands and the lead sees why.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.RANKING_CACHE_DIR = str(blocker)
    on, off = library
    settings_for(review)
    both(on[0], screener_a, screener_b, "include")
    with django_capture_on_commit_callbacks(execute=True):
        vote(off[0], screener_a, "exclude")
        outcome = vote(off[0], screener_b, "exclude")
    assert outcome.item.status == "decided"
    status = selectors_ranking.ranking_status(review=review, stage=TA)
    assert status.state == "failed" and "Error" in status.error
    assert next_record(review=review, stage=TA, reviewer=screener_a) is not None
