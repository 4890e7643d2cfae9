"""Issue 11, conflict resolution: resolve in place (htmx answers the card, not a reload),
reopen a resolution with a reason kept in the history, and never strand full-text work."""

import pytest

from reviewapp.errors import DomainError
from screening.models import Decision, ScreeningItem, Stage
from screening.services_screening import (
    conflict_reopen,
    conflict_resolve,
    decision_record,
    stage_settings_get,
)
from tests.factories import RecordFactory

pytestmark = pytest.mark.django_db
TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT


@pytest.fixture
def conflict(review, screener_a, screener_b):
    record = RecordFactory(review=review)
    decision_record(record=record, stage=TA, reviewer=screener_a, verdict="include")
    decision_record(record=record, stage=TA, reviewer=screener_b, verdict="exclude")
    return ScreeningItem.objects.get(record=record, stage=TA)


def _url(review, item, action):
    return f"/reviews/{review.pk}/screening/ta/conflicts/{item.pk}/{action}/"


def test_a_resolution_is_reopened_with_its_reason_in_the_history(conflict, arbiter):
    conflict_resolve(item=conflict, arbiter=arbiter, verdict="exclude")
    item = conflict_reopen(item=conflict, user=arbiter, reason="misread the population")
    assert (item.status, item.final_verdict, item.resolved_by) == ("conflict", "", None)
    latest = item.history.first()
    assert "misread the population" in latest.history_change_reason
    assert Decision.objects.filter(record=conflict.record, stage=TA).count() == 2  # votes kept
    again = conflict_resolve(item=item, arbiter=arbiter, verdict="include")
    assert again.final_verdict == "include"


def test_reopening_needs_a_reason_the_role_and_a_resolution(conflict, arbiter, screener_a):
    with pytest.raises(DomainError, match="not resolved"):
        conflict_reopen(item=conflict, user=arbiter, reason="why")
    conflict_resolve(item=conflict, arbiter=arbiter, verdict="include")
    with pytest.raises(DomainError, match="Say why"):
        conflict_reopen(item=conflict, user=arbiter, reason="  ")
    with pytest.raises(DomainError, match="arbiter or the lead"):
        conflict_reopen(item=conflict, user=screener_a, reason="I disagree")
    conflict.refresh_from_db()
    assert conflict.status == "resolved"


def test_reopening_a_title_abstract_resolution_with_full_text_votes_is_refused(
    conflict, arbiter, screener_a
):
    conflict_resolve(item=conflict, arbiter=arbiter, verdict="include")
    # About reopening, not PDFs: this full-text stage lets votes go without one.
    settings = stage_settings_get(review=conflict.review, stage=FT)
    settings.votes_need_pdf = False
    settings.save()
    decision_record(record=conflict.record, stage=FT, reviewer=screener_a, verdict="include")
    with pytest.raises(DomainError, match="full-text votes"):
        conflict_reopen(item=conflict, user=arbiter, reason="second thoughts")
    conflict.refresh_from_db()
    assert conflict.status == "resolved" and conflict.final_verdict == "include"


def test_htmx_gets_the_card_back_and_a_plain_post_a_redirect(client_for, review, conflict, arbiter):
    client = client_for(arbiter)
    card = client.post(
        _url(review, conflict, "resolve"), {"verdict": "include"}, HTTP_HX_REQUEST="true"
    )
    body = card.content.decode()
    assert card.status_code == 200 and "<html" not in body
    assert 'data-status="resolved"' in body and "Reopen" in body

    refused = client.post(_url(review, conflict, "reopen"), {"reason": ""}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 200 and "Say why" in refused.content.decode()

    plain = client.post(_url(review, conflict, "reopen"), {"reason": "wrong record"})
    assert plain.status_code == 302
    conflict.refresh_from_db()
    assert conflict.status == "conflict"


def test_outsiders_and_screeners_cannot_reopen(
    client_for, review, conflict, arbiter, screener_a, outsider
):
    conflict_resolve(item=conflict, arbiter=arbiter, verdict="include")
    assert (
        client_for(screener_a).post(_url(review, conflict, "reopen"), {"reason": "x"}).status_code
        == 403
    )
    assert (
        client_for(outsider).post(_url(review, conflict, "reopen"), {"reason": "x"}).status_code
        == 404
    )
