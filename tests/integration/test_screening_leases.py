"""Twenty reviewers screening at once against PostgreSQL: no vote refused because the record
was served to too many reviewers, nothing lost, nothing duplicated.

Before leases, `next_record` sent every reviewer to the first row of the queue in import order;
with 20 reviewers most of their votes were refused ("already has its 2 decisions"). This test
failed that way before the leases and passes with them, in import and in ranked order.
"""

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from reviewapp.errors import DomainError
from screening import services_ranking
from screening.models import Decision, ScreeningItem, ScreeningLease, Stage, StageSettings
from screening.next_record import next_record
from screening.services_screening import decision_record, stage_settings_update
from tests.conftest import needs
from tests.factories import MembershipFactory, RecordFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TA = Stage.TITLE_ABSTRACT
REVIEWERS = 20
RECORDS = 80


@pytest.fixture(autouse=True)
def _cache_dir(settings, tmp_path):
    settings.RANKING_CACHE_DIR = str(tmp_path / "ranking-cache")


@pytest.mark.parametrize("order", [StageSettings.Order.IMPORT, StageSettings.Order.RELEVANCE])
def test_twenty_concurrent_reviewers_never_get_a_record_they_cannot_vote_on(review, order):
    needs(connection.vendor == "postgresql", "the lease test needs PostgreSQL (DATABASE_URL)")
    stage_settings_update(
        review=review, stage=TA, reviewers_required=2, blind=True, exclusion_reasons=[], order=order
    )
    records = [
        RecordFactory(
            review=review,
            title=f"Record {i}",
            abstract=("peer support mental health" if i % 4 == 0 else "cardiac stent registry"),
        )
        for i in range(RECORDS)
    ]
    users = [
        MembershipFactory(review=review, user=UserFactory(username=f"r{i}"), is_reviewer=True).user
        for i in range(REVIEWERS)
    ]
    if order == StageSettings.Order.RELEVANCE:
        for record, verdict in ((records[0], "include"), (records[1], "exclude")):
            for user in users[:2]:
                decision_record(record=record, stage=TA, reviewer=user, verdict=verdict)
        services_ranking.ranking_train(review_id=review.pk, stage=TA)
    votes_before = Decision.objects.count()
    refused: list[str] = []
    served: Counter[int] = Counter()
    errors: list[BaseException] = []
    start = threading.Barrier(REVIEWERS)

    def screen(user) -> None:  # type: ignore[no-untyped-def]  # a thread body in a test
        try:
            start.wait()
            while True:
                record = next_record(review=review, stage=TA, reviewer=user)
                if record is None:
                    return
                served[record.pk] += 1
                verdict = "include" if "peer" in record.abstract else "exclude"
                try:
                    decision_record(record=record, stage=TA, reviewer=user, verdict=verdict)
                except DomainError as exc:
                    refused.append(exc.message)
        except BaseException as exc:  # noqa: BLE001 -- reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=screen, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not errors, errors
    assert refused == []
    # Every record has exactly its two votes, from two different reviewers, and each vote was
    # cast by a reviewer the record was served to.
    per_record = Counter(Decision.objects.filter(stage=TA).values_list("record_id", flat=True))
    assert set(per_record.values()) == {2} and len(per_record) == RECORDS
    assert Decision.objects.count() - votes_before == sum(served.values())
    assert max(served.values()) <= 2
    pairs = list(Decision.objects.values_list("record_id", "reviewer_id"))
    assert len(set(pairs)) == len(pairs)
    assert all(i.votes == 2 for i in ScreeningItem.objects.filter(stage=TA))
    assert not ScreeningLease.objects.filter(skipped=False).exists()
