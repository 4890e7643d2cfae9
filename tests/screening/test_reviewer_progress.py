"""Issue 11, roles and team: the dashboard's table lists the people who screen (not the PI or an
arbiter with 0 screened), and in blind mode someone who does not screen still sees each
screener's progress counts, while a screener sees the others' only on complete records."""

import pytest

from screening.models import Stage
from screening.selectors import reviewer_progress
from screening.services_screening import decision_record
from tests.factories import RecordFactory

pytestmark = pytest.mark.django_db
TA = Stage.TITLE_ABSTRACT


def _table(review, user):
    return {
        row.username: row.screened for row in reviewer_progress(review=review, stage=TA, user=user)
    }


def test_only_people_who_screen_are_listed_and_a_pi_sees_every_count(
    review, lead, screener_a, screener_b, arbiter, viewer
):
    first, second = RecordFactory(review=review), RecordFactory(review=review)
    decision_record(record=first, stage=TA, reviewer=screener_a, verdict="include")
    decision_record(record=first, stage=TA, reviewer=screener_b, verdict="include")
    decision_record(record=second, stage=TA, reviewer=screener_a, verdict="exclude")

    for pi in (viewer, arbiter):
        assert _table(review, pi) == {"screener_a": 2, "screener_b": 1}
    # screener_b sees screener_a's vote on the complete record only (blind mode).
    assert _table(review, screener_b) == {"screener_a": 1, "screener_b": 1}
    assert _table(review, screener_a) == {"screener_a": 2, "screener_b": 1}


def test_a_lead_who_screens_is_listed_with_their_own_votes(review, lead, screener_a):
    record = RecordFactory(review=review)
    decision_record(record=record, stage=TA, reviewer=lead, verdict="include")
    assert _table(review, lead) == {"lead": 1, "screener_a": 0}
    # To another screener the lead's vote on an open record is invisible, so is the row.
    assert _table(review, screener_a) == {"screener_a": 0}
