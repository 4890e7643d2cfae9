"""The next record as lean SQL (screening/next_record.py): few statements per request, the
ranked order with its fallback, full text's eligibility, and the screening page's context of a
record fresh from the queue (what it may skip looking up, and what it must still show)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from screening.models import FullTextReport, RecordRank, ScreeningItem, ScreeningLease, Stage
from screening.next_record import next_record
from screening.services_screening import decision_record, stage_settings_update
from tests.factories import MembershipFactory, RecordFactory, UserFactory

pytestmark = pytest.mark.django_db

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
HTMX = {"HTTP_HX_REQUEST": "true"}


def settings_for(review, *, blind=True, order="relevance", stage=TA, reasons=()):
    return stage_settings_update(
        review=review,
        stage=stage,
        reviewers_required=2,
        blind=blind,
        exclusion_reasons=list(reasons),
        order=order,
        votes_need_pdf=False,
    )


def rank(review, records):
    RecordRank.objects.bulk_create(
        RecordRank(review=review, record=r, stage=TA, rank=n, score=1 - n / 100)
        for n, r in enumerate(records)
    )


def statements(queries):
    """The SQL statements run, without the savepoints of the test's own transaction."""
    return [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_a_new_record_is_picked_and_leased_in_four_statements_and_a_held_one_in_two(
    review, screener_a
):
    settings = settings_for(review)
    records = [RecordFactory(review=review) for _ in range(5)]
    rank(review, records[::-1])
    # The held lease (renewed or dropped), the pick under SKIP LOCKED, the lease with the
    # recount, the record with its import.
    with CaptureQueriesContext(connection) as queries:
        served = next_record(review=review, stage=TA, reviewer=screener_a, settings=settings)
    assert served == records[-1] and served.import_batch is not None
    assert len(statements(queries)) == 4
    assert "FOR NO KEY UPDATE OF r SKIP LOCKED" in statements(queries)[1]
    with CaptureQueriesContext(connection) as queries:
        again = next_record(review=review, stage=TA, reviewer=screener_a, settings=settings)
    assert again == served and len(statements(queries)) == 2


def test_the_ranked_order_falls_back_to_unranked_records_and_then_ends(review, screener_a):
    settings_for(review)
    records = [RecordFactory(review=review) for _ in range(3)]
    rank(review, [records[2], records[0]])
    served = []
    for _ in range(3):
        record = next_record(review=review, stage=TA, reviewer=screener_a)
        served.append(record)
        decision_record(record=record, stage=TA, reviewer=screener_a, verdict="exclude")
    assert served[:2] == [records[2], records[0]] and served[2] == records[1]
    assert next_record(review=review, stage=TA, reviewer=screener_a) is None
    assert not ScreeningLease.objects.exists()


def test_a_lease_on_a_record_completed_meanwhile_is_dropped_for_the_next_one(
    review, screener_a, screener_b, lead
):
    settings_for(review, order="import")
    first, second = RecordFactory(review=review), RecordFactory(review=review)
    assert next_record(review=review, stage=TA, reviewer=screener_a) == first
    ScreeningItem.objects.create(
        review=review, record=first, stage=TA, status="decided", votes=0, final_verdict="exclude"
    )
    assert next_record(review=review, stage=TA, reviewer=screener_a) == second
    assert list(ScreeningLease.objects.values_list("record_id", flat=True)) == [second.pk]


def test_full_text_serves_only_included_reports_not_marked_not_retrieved(
    review, screener_a, screener_b
):
    settings_for(review, order="import")
    settings_for(review, order="import", stage=FT, reasons=["Wrong design"])
    included, excluded, lost = (RecordFactory(review=review) for _ in range(3))
    for record, verdict in ((included, "include"), (excluded, "exclude"), (lost, "include")):
        for user in (screener_a, screener_b):
            decision_record(record=record, stage=TA, reviewer=user, verdict=verdict)
    FullTextReport.objects.create(review=review, record=lost, not_retrieved_reason="Not found")
    assert next_record(review=review, stage=FT, reviewer=screener_a) == included
    decision_record(record=included, stage=FT, reviewer=screener_a, verdict="include")
    assert next_record(review=review, stage=FT, reviewer=screener_a) is None


@pytest.mark.parametrize("blind", [True, False])
def test_the_next_record_shows_the_other_vote_only_at_a_stage_that_is_not_blind(
    client_for, review, screener_a, screener_b, blind
):
    settings_for(review, blind=blind, order="import")
    first, second = RecordFactory(review=review), RecordFactory(review=review)
    decision_record(record=second, stage=TA, reviewer=screener_b, verdict="exclude", note="n-b")
    client = client_for(screener_a)
    body = client.post(
        f"/reviews/{review.pk}/screening/ta/decide/{first.pk}/", {"verdict": "include"}, **HTMX
    ).content.decode()
    assert f"/decide/{second.pk}/" in body and "Your decision" not in body
    assert ("Other reviewers" in body and "n-b" in body) is not blind


def test_a_third_reviewer_on_the_page_gets_the_record_two_others_do_not_hold(
    client_for, review, screener_a, screener_b
):
    settings_for(review, order="import")
    third = MembershipFactory(review=review, user=UserFactory(username="c"), is_reviewer=True).user
    first, second = RecordFactory(review=review), RecordFactory(review=review)
    for user in (screener_a, screener_b):
        next_record(review=review, stage=TA, reviewer=user)
    page = client_for(third).get(f"/reviews/{review.pk}/screening/ta/screen/").content.decode()
    assert f"/decide/{second.pk}/" in page and f"/decide/{first.pk}/" not in page
