"""Probe findings 2 and 3: blind screening without side doors.

2. A lead who also screens saw, on the history page, how another reviewer voted on a record
   still waiting for the lead's own vote (and a changed verdict with the old note).
3. A reviewer whose vote completed a record then saw the other vote and could change or delete
   their own, erasing the conflict; agreement then overstated agreement.

The rule (screening/visibility.py, docs/screening.md) is checked here through every reader."""

import pytest

from reviewapp.errors import DomainError
from reviewapp.models import Membership
from screening import selectors
from screening.models import Decision, ScreeningItem, Stage
from screening.services_screening import (
    decision_amend,
    decision_record,
    decision_undo,
    stage_settings_update,
)
from tests.factories import MembershipFactory, RecordFactory, UserFactory

pytestmark = pytest.mark.django_db

TA = Stage.TITLE_ABSTRACT
SECRET = "secret-note-of-screener-a"


@pytest.fixture
def screening_lead(review, lead):
    """The lead screens too (the usual small team)."""
    Membership.objects.filter(review=review, user=lead).update(is_reviewer=True)
    return lead


@pytest.fixture
def record(review):
    return RecordFactory(review=review)


def _history_text(client, review):
    page = client.get(f"/reviews/{review.pk}/history/")
    assert page.status_code == 200
    return page.content.decode()


def test_the_history_page_hides_a_vote_from_a_lead_who_has_not_voted_yet(
    client, review, screening_lead, screener_a, record
):
    decision_record(record=record, stage=TA, reviewer=screener_a, verdict="include", note=SECRET)
    decision_record(
        record=record, stage=TA, reviewer=screener_a, verdict="exclude", note=SECRET + "-changed"
    )
    client.force_login(screening_lead)
    page = _history_text(client, review)
    assert SECRET not in page
    assert "Screening vote" not in page and "Screening outcome" not in page
    # Once the lead has voted, the record is complete and its history is theirs to read.
    decision_record(record=record, stage=TA, reviewer=screening_lead, verdict="exclude")
    page = _history_text(client, review)
    assert SECRET + "-changed" in page and "Screening vote" in page


def test_exports_and_the_api_hide_the_vote_from_a_lead_who_screens(
    client, api_for, review, screening_lead, screener_a, record
):
    decision_record(record=record, stage=TA, reviewer=screener_a, verdict="include", note=SECRET)
    client.force_login(screening_lead)
    for fmt in ("csv", "ris"):
        export = client.get(f"/reviews/{review.pk}/screening/ta/export/?format={fmt}")
        assert export.status_code == 200 and SECRET not in export.content.decode()
    api = api_for(screening_lead)
    votes = api.get(f"/api/reviews/{review.pk}/screening/decisions/").json()["results"]
    assert votes == []


def test_a_reviewer_who_did_not_vote_on_an_agreed_record_does_not_see_its_votes(
    client, review, screener_a, screener_b, record
):
    third = MembershipFactory(
        review=review, user=UserFactory(username="screener_c"), is_reviewer=True
    ).user
    decision_record(record=record, stage=TA, reviewer=screener_a, verdict="include", note=SECRET)
    decision_record(record=record, stage=TA, reviewer=screener_b, verdict="include")
    client.force_login(third)
    export = client.get(f"/reviews/{review.pk}/screening/ta/export/")
    assert SECRET not in export.content.decode()
    # A viewer cannot vote, so a complete record's votes are theirs to read.
    viewer = MembershipFactory(review=review, user=UserFactory(username="reader")).user
    client.force_login(viewer)
    assert SECRET in client.get(f"/reviews/{review.pk}/screening/ta/export/").content.decode()


def test_the_vote_that_completes_a_record_locks_both_votes(review, screener_a, screener_b, record):
    decision_record(record=record, stage=TA, reviewer=screener_a, verdict="include")
    decision_record(record=record, stage=TA, reviewer=screener_b, verdict="exclude")
    b_vote = Decision.objects.get(reviewer=screener_b)
    for user in (screener_a, screener_b):
        with pytest.raises(DomainError, match="locked"):
            decision_record(record=record, stage=TA, reviewer=user, verdict="maybe")
        with pytest.raises(DomainError, match="locked"):
            decision_undo(decision=Decision.objects.get(reviewer=user), reviewer=user)
    assert ScreeningItem.objects.get(record=record).status == ScreeningItem.Status.CONFLICT
    assert sorted(Decision.objects.values_list("verdict", flat=True)) == ["exclude", "include"]
    # Agreement still counts the disagreement.
    (pair,) = selectors.agreement_by_pair(review=review, stage=TA)
    assert pair.result.n == 1 and pair.result.percent_agreement == 0
    # The same vote again (a retried request) is still harmless.
    again = decision_record(record=record, stage=TA, reviewer=screener_b, verdict="exclude")
    assert not again.changed and again.decision.pk == b_vote.pk


def test_single_screening_votes_stay_open_to_change(review, lead, screener_a, record):
    stage_settings_update(
        review=review, stage=TA, reviewers_required=1, blind=True, exclusion_reasons=[]
    )
    decision_record(record=record, stage=TA, reviewer=screener_a, verdict="include")
    changed = decision_record(record=record, stage=TA, reviewer=screener_a, verdict="exclude")
    assert changed.changed and changed.item.final_verdict == "exclude"


def test_the_lead_or_arbiter_amends_a_locked_vote_with_a_reason(
    review, lead, screener_a, screener_b, arbiter, record
):
    decision_record(record=record, stage=TA, reviewer=screener_a, verdict="include")
    decision_record(record=record, stage=TA, reviewer=screener_b, verdict="exclude")
    b_vote = Decision.objects.get(reviewer=screener_b)
    with pytest.raises(DomainError, match="reason"):
        decision_amend(decision=b_vote, by=arbiter, verdict="include", why=" ")
    with pytest.raises(DomainError, match="arbiter or the lead"):
        decision_amend(decision=b_vote, by=screener_a, verdict="include", why="Misclick")
    with pytest.raises(DomainError, match="your own"):
        decision_amend(
            decision=Decision.objects.get(reviewer=screener_a),
            by=screener_a,
            verdict="exclude",
            why="x",
        )
    outcome = decision_amend(
        decision=b_vote, by=arbiter, verdict="include", why="screener_b pressed e for i"
    )
    assert outcome.item.status == ScreeningItem.Status.DECIDED
    latest = b_vote.history.latest()
    assert latest.verdict == "include"
    assert latest.history_change_reason == "screener_b pressed e for i"


def test_an_open_vote_is_not_amended_by_others(review, lead, screener_a, record):
    decision_record(record=record, stage=TA, reviewer=screener_a, verdict="include")
    with pytest.raises(DomainError, match="not locked"):
        decision_amend(
            decision=Decision.objects.get(reviewer=screener_a),
            by=lead,
            verdict="exclude",
            why="I disagree",
        )


def test_locked_votes_through_the_api_and_the_page(
    client_for, api_for, review, lead, screener_a, screener_b, record
):
    decision_record(record=record, stage=TA, reviewer=screener_a, verdict="include")
    decision_record(record=record, stage=TA, reviewer=screener_b, verdict="exclude")
    api = api_for(screener_b)
    base = f"/api/reviews/{review.pk}/screening/decisions/"
    b_vote = Decision.objects.get(reviewer=screener_b)
    assert api.delete(f"{base}{b_vote.pk}/").status_code == 400
    changed = api.post(base, {"record": record.pk, "stage": "ta", "verdict": "include"})
    assert changed.status_code == 400 and "locked" in str(changed.json())
    client = client_for(screener_b)
    page = client.get(f"/reviews/{review.pk}/screening/ta/screen/?record={record.pk}")
    assert b"locked" in page.content
    undone = client.post(f"/reviews/{review.pk}/screening/ta/undo/")
    assert b"locked" in undone.content
    assert Decision.objects.filter(pk=b_vote.pk, verdict="exclude").exists()

    amended = api_for(lead).post(
        f"{base}{b_vote.pk}/amend/", {"verdict": "include", "why": "Misclick"}, format="json"
    )
    assert amended.status_code == 200 and amended.json()["verdict"] == "include"
    assert (
        api_for(screener_a)
        .post(f"{base}{b_vote.pk}/amend/", {"verdict": "exclude", "why": "No"}, format="json")
        .status_code
        == 403
    )

    # On the page: the arbiter's form, from the conflicts page.
    other = RecordFactory(review=review)
    decision_record(record=other, stage=TA, reviewer=screener_a, verdict="include")
    decision_record(record=other, stage=TA, reviewer=screener_b, verdict="maybe")
    b_other = Decision.objects.get(reviewer=screener_b, record=other)
    client = client_for(lead)
    url = f"/reviews/{review.pk}/screening/ta/votes/{b_other.pk}/amend/"
    assert url in client.get(f"/reviews/{review.pk}/screening/ta/conflicts/").content.decode()
    form = client.get(url)
    assert form.status_code == 200 and b"screener_b" in form.content
    refused = client.post(url, {"verdict": "include", "why": ""})
    assert refused.status_code == 400 and b"reason" in refused.content
    done = client.post(url, {"verdict": "include", "why": "Agreed on the phone"})
    assert done.status_code == 302
    b_other.refresh_from_db()
    assert b_other.verdict == "include"
