"""Votes, blind outcomes, conflicts, undo, full texts and studies, through the services."""

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from reviewapp.errors import DomainError
from screening import selectors
from screening.models import Decision, FullTextReport, ScreeningItem, Stage, Study
from screening.next_record import next_record
from screening.services_screening import (
    conflict_resolve,
    decision_record,
    decision_undo_last,
    fulltext_attach,
    fulltext_mark_not_retrieved,
    stage_settings_update,
    study_link_report,
)
from tests.conftest import needs
from tests.factories import RecordFactory

pytestmark = pytest.mark.django_db

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def records(review):
    return RecordFactory.create_batch(5, review=review)


@pytest.fixture
def ft_reasons(review):
    return stage_settings_update(
        review=review,
        stage=FT,
        reviewers_required=2,
        blind=True,
        exclusion_reasons=["Not an RCT", "Not one-to-one"],
        votes_need_pdf=False,
    )


def vote(record, user, verdict, stage=TA, reason=""):
    return decision_record(
        record=record, stage=stage, reviewer=user, verdict=verdict, reason=reason
    )


def test_two_agreeing_votes_decide_the_record(records, screener_a, screener_b):
    first = vote(records[0], screener_a, "include")
    assert first.created and first.item.status == ScreeningItem.Status.OPEN
    assert first.item.final_verdict == ""
    second = vote(records[0], screener_b, "include")
    assert second.item.status == ScreeningItem.Status.DECIDED
    assert second.item.final_verdict == "include" and second.item.votes == 2


def test_include_against_exclude_or_any_maybe_is_a_conflict(records, screener_a, screener_b):
    vote(records[0], screener_a, "include")
    assert vote(records[0], screener_b, "exclude").item.status == ScreeningItem.Status.CONFLICT
    vote(records[1], screener_a, "maybe")
    assert vote(records[1], screener_b, "maybe").item.status == ScreeningItem.Status.CONFLICT


def test_the_same_vote_twice_is_one_decision(records, screener_a):
    vote(records[0], screener_a, "exclude")
    again = vote(records[0], screener_a, "exclude")
    assert not again.created and not again.changed
    assert Decision.objects.count() == 1


def test_a_changed_vote_is_kept_in_the_history(records, screener_a):
    vote(records[0], screener_a, "exclude")
    changed = vote(records[0], screener_a, "include")
    assert changed.changed and not changed.created
    assert [h.verdict for h in changed.decision.history.order_by("history_id")] == [
        "exclude",
        "include",
    ]


def test_a_third_reviewer_cannot_vote_on_a_complete_record(records, screener_a, screener_b, lead):
    vote(records[0], screener_a, "include")
    vote(records[0], screener_b, "include")
    with pytest.raises(DomainError, match="already has its 2 decisions"):
        vote(records[0], lead, "exclude")
    assert Decision.objects.count() == 2


def test_viewers_and_arbiters_without_the_reviewer_role_cannot_vote(records, viewer, arbiter):
    for user in (viewer, arbiter):
        with pytest.raises(DomainError, match="Only reviewers"):
            vote(records[0], user, "include")
    assert not Decision.objects.exists()


def test_bad_input_names_the_problem_and_stores_nothing(records, screener_a, ft_reasons):
    with pytest.raises(DomainError, match="'yes' is not a decision"):
        vote(records[0], screener_a, "yes")
    with pytest.raises(DomainError, match="Only an exclusion carries a reason"):
        vote(records[0], screener_a, "include", reason="Not an RCT")
    duplicate = RecordFactory(review=records[0].review, duplicate_of=records[0])
    with pytest.raises(DomainError, match="is a duplicate of record"):
        vote(duplicate, screener_a, "include")
    with pytest.raises(DomainError, match="has not been included at title and abstract"):
        vote(records[1], screener_a, "include", stage=FT)
    assert not Decision.objects.exists() and not ScreeningItem.objects.exists()


def test_full_text_exclusions_need_one_of_the_listed_reasons(
    records, screener_a, screener_b, ft_reasons
):
    vote(records[0], screener_a, "include")
    vote(records[0], screener_b, "include")
    with pytest.raises(DomainError, match="needs a reason"):
        vote(records[0], screener_a, "exclude", stage=FT)
    with pytest.raises(DomainError, match="not one of this stage's exclusion reasons"):
        vote(records[0], screener_a, "exclude", stage=FT, reason="Too long")
    vote(records[0], screener_a, "exclude", stage=FT, reason="Not an RCT")
    differing = vote(records[0], screener_b, "exclude", stage=FT, reason="Not one-to-one")
    assert differing.item.status == ScreeningItem.Status.CONFLICT  # PRISMA counts per reason


def test_the_arbiter_resolves_a_conflict_and_the_votes_stay(
    records, screener_a, screener_b, arbiter
):
    vote(records[0], screener_a, "include")
    item = vote(records[0], screener_b, "exclude").item
    resolved = conflict_resolve(item=item, arbiter=arbiter, verdict="exclude", note="Not an RCT")
    assert resolved.status == ScreeningItem.Status.RESOLVED
    assert resolved.final_verdict == "exclude" and resolved.resolved_by == arbiter
    assert sorted(Decision.objects.values_list("verdict", flat=True)) == ["exclude", "include"]
    # A retried request is harmless; a different answer is refused.
    assert conflict_resolve(item=item, arbiter=arbiter, verdict="exclude").pk == item.pk
    with pytest.raises(DomainError, match="already resolved"):
        conflict_resolve(item=item, arbiter=arbiter, verdict="include")
    with pytest.raises(DomainError, match="resolved by the arbiter"):
        vote(records[0], screener_a, "exclude")


def test_only_arbiters_resolve_and_only_conflicts(records, screener_a, screener_b, arbiter):
    vote(records[0], screener_a, "include")
    item = vote(records[0], screener_b, "exclude").item
    with pytest.raises(DomainError, match="Only the arbiter"):
        conflict_resolve(item=item, arbiter=screener_a, verdict="include")
    vote(records[1], screener_a, "include")
    agreed = vote(records[1], screener_b, "include").item
    with pytest.raises(DomainError, match="not in conflict"):
        conflict_resolve(item=agreed, arbiter=arbiter, verdict="exclude")


def test_undo_withdraws_the_last_vote_and_requeues_the_record(records, screener_a):
    stage_settings_update(
        review=records[0].review,
        stage=TA,
        reviewers_required=2,
        blind=True,
        exclusion_reasons=[],
        order="import",
    )
    vote(records[0], screener_a, "include")
    vote(records[1], screener_a, "exclude")
    assert next_record(review=records[0].review, stage=TA, reviewer=screener_a) == records[2]
    undone = decision_undo_last(review=records[0].review, stage=TA, reviewer=screener_a)
    assert undone == records[1]
    # records[2] is still leased to screener_a (served above): it stays theirs until decided.
    assert next_record(review=records[0].review, stage=TA, reviewer=screener_a) == records[2]
    vote(records[2], screener_a, "exclude")
    assert next_record(review=records[0].review, stage=TA, reviewer=screener_a) == records[1]
    assert ScreeningItem.objects.get(record=records[1], stage=TA).votes == 0
    assert Decision.history.filter(history_type="-").count() == 1


def test_queues_follow_each_reviewer(review, records, screener_a, screener_b):
    vote(records[0], screener_a, "include")
    vote(records[1], screener_a, "include")
    vote(records[1], screener_b, "exclude")
    vote(records[2], screener_a, "include")
    vote(records[2], screener_b, "include")
    counts = selectors.queue_counts(review=review, stage=TA, reviewer=screener_a)
    assert counts == {"to_screen": 2, "awaiting": 1, "conflict": 1, "resolved": 1}
    counts_b = selectors.queue_counts(review=review, stage=TA, reviewer=screener_b)
    assert counts_b == {"to_screen": 3, "awaiting": 0, "conflict": 1, "resolved": 1}
    for user, expected in ((screener_a, counts), (screener_b, counts_b)):
        for queue, n in expected.items():
            listed = selectors.screening_queue(review=review, stage=TA, reviewer=user, queue=queue)
            assert listed.count() == n, queue


def test_random_order_still_visits_every_record_once(review, screener_a, lead):
    records = RecordFactory.create_batch(20, review=review)
    stage_settings_update(
        review=review,
        stage=TA,
        reviewers_required=1,
        blind=True,
        exclusion_reasons=[],
        order="random",
    )
    seen = []
    while (record := next_record(review=review, stage=TA, reviewer=screener_a)) is not None:
        seen.append(record.pk)
        vote(record, screener_a, "exclude")
    assert sorted(seen) == sorted(r.pk for r in records)
    assert seen != sorted(seen)  # not import order (about 1 in 20! by chance)


def test_single_screening_decides_on_one_vote_and_maybe_goes_to_the_arbiter(
    review, records, screener_a, lead
):
    stage_settings_update(
        review=review, stage=TA, reviewers_required=1, blind=True, exclusion_reasons=[]
    )
    assert vote(records[0], screener_a, "exclude").item.final_verdict == "exclude"
    assert vote(records[1], screener_a, "maybe").item.status == ScreeningItem.Status.CONFLICT


def test_full_text_pdf_not_retrieved_and_study_links(
    review, records, screener_a, screener_b, ft_reasons
):
    for user in (screener_a, screener_b):
        vote(records[0], user, "include")
        vote(records[1], user, "include")
    pdf = SimpleUploadedFile("chinman.pdf", PDF, content_type="application/pdf")
    report = fulltext_attach(record=records[0], pdf=pdf, user=screener_a)
    assert report.pdf.name.endswith(".pdf") and not report.not_retrieved
    with pytest.raises(DomainError, match="does not look like a PDF"):
        fulltext_attach(
            record=records[1], pdf=SimpleUploadedFile("x.pdf", b"hello"), user=screener_a
        )
    with pytest.raises(DomainError, match="not included at title and abstract"):
        fulltext_mark_not_retrieved(record=records[2], reason="No access", user=screener_a)
    fulltext_mark_not_retrieved(record=records[1], reason="Authors did not reply", user=screener_a)
    with pytest.raises(DomainError, match="not retrieved"):
        vote(records[1], screener_a, "include", stage=FT)
    study = study_link_report(record=records[0], new_label="Chinman 2015")
    again = study_link_report(record=records[2], study=study)
    assert again == study and set(study.reports.all()) == {records[0], records[2]}
    assert FullTextReport.objects.count() == 2 and Study.objects.count() == 1


def test_included_studies_are_those_with_a_report_included_at_full_text(
    review, records, screener_a, screener_b, ft_reasons
):
    included = study_link_report(record=records[0], new_label="Included 2019")
    study_link_report(record=records[1], new_label="Excluded 2018")
    for record, ft in ((records[0], "include"), (records[1], "exclude")):
        for user in (screener_a, screener_b):
            vote(record, user, "include")
        for user in (screener_a, screener_b):
            vote(record, user, ft, stage=FT, reason="Not an RCT" if ft == "exclude" else "")
    assert list(selectors.included_studies(review=review)) == [included]


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_voting_at_the_same_moment_both_count(review, screener_a, screener_b):
    needs(connection.vendor == "postgresql", "row locks need PostgreSQL (DATABASE_URL)")
    record = RecordFactory(review=review)
    barrier = threading.Barrier(4)
    errors = []

    def cast(user, verdict):
        try:
            barrier.wait()
            vote(record, user, verdict)
        except Exception as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=cast, args=(u, v))
        for u, v in (
            (screener_a, "include"),
            (screener_b, "include"),
            (screener_a, "include"),
            (screener_b, "include"),
        )
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Decision.objects.filter(record=record).count() == 2
    item = ScreeningItem.objects.get(record=record, stage=TA)
    assert item.votes == 2 and item.final_verdict == "include"


def test_full_text_reasons_start_as_the_protocol_exclusion_criteria(review, screener_a):
    from screening.services_screening import stage_settings_get

    review.exclusion_criteria = ["Not one-to-one", "Not English"]
    review.save()
    assert selectors.stage_settings(review=review, stage=FT).exclusion_reasons == [
        "Not one-to-one",
        "Not English",
    ]
    assert stage_settings_get(review=review, stage=FT).exclusion_reasons == [
        "Not one-to-one",
        "Not English",
    ]
    assert stage_settings_get(review=review, stage=TA).exclusion_reasons == []
