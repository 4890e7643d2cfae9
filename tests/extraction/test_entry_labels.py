"""Issue 11, layout: labels follow the viewer's role. A viewer of a dual-extraction form reads
the consensus record, labelled as such and read-only, never "Your independent extraction"."""

import pytest

pytestmark = pytest.mark.django_db


def _entry(client, review, form, study):
    return client.get(f"/reviews/{review.pk}/extraction/forms/{form.pk}/studies/{study.pk}/")


def test_a_viewer_reads_the_consensus_record_labelled_as_such(
    client_for, review, dual_sheet, studies, viewer
):
    body = _entry(client_for(viewer), review, dual_sheet, studies[0]).content.decode()
    assert "Consensus record" in body and "read-only" in body
    assert "Your independent extraction" not in body
    assert "/compare/" not in body  # the comparison page is for reviewers: no dead link


def test_a_reviewer_still_sees_their_own_independent_extraction(
    client_for, review, dual_sheet, studies, screener_a
):
    body = _entry(client_for(screener_a), review, dual_sheet, studies[0]).content.decode()
    assert "Your independent extraction" in body
