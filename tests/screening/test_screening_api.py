"""Screening through the API: next record, idempotent votes, undo, conflicts, settings,
agreement, PRISMA counts and full texts."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from screening.models import Decision, ScreeningItem
from screening.services_screening import decision_record, stage_settings_update
from tests.factories import RecordFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def records(review):
    stage_settings_update(
        review=review,
        stage="ta",
        reviewers_required=2,
        blind=True,
        exclusion_reasons=[],
        order="import",
    )
    return RecordFactory.create_batch(3, review=review)


def url(review, rest):
    return f"/api/reviews/{review.pk}/screening/{rest}"


def test_next_record_then_vote_then_the_next_one(api_for, review, records, screener_a):
    api = api_for(screener_a)
    first = api.get(url(review, "stages/ta/next/")).json()
    assert first["record"]["id"] == records[0].pk
    assert first["queues"]["to_screen"] == 3
    vote = {"record": records[0].pk, "stage": "ta", "verdict": "include", "note": "RCT"}
    created = api.post(url(review, "decisions/"), vote, format="json")
    assert created.status_code == 201 and created.json()["verdict"] == "include"
    second = api.get(url(review, "stages/ta/next/")).json()
    assert second["record"]["id"] == records[1].pk
    assert second["queues"] == {"to_screen": 2, "awaiting": 1, "conflict": 0, "resolved": 0}


def test_a_retried_vote_answers_200_and_stores_one_row(api_for, review, records, screener_a):
    api = api_for(screener_a)
    vote = {"record": records[0].pk, "stage": "ta", "verdict": "exclude"}
    assert api.post(url(review, "decisions/"), vote, format="json").status_code == 201
    assert api.post(url(review, "decisions/"), vote, format="json").status_code == 200
    assert Decision.objects.count() == 1


def test_bad_votes_get_400_naming_the_field(api_for, review, records, screener_a):
    api = api_for(screener_a)
    bad = api.post(
        url(review, "decisions/"),
        {"record": records[0].pk, "stage": "ta", "verdict": "perhaps"},
        format="json",
    )
    assert bad.status_code == 400 and "verdict" in bad.json()
    other = RecordFactory()  # another review's record
    missing = api.post(
        url(review, "decisions/"),
        {"record": other.pk, "stage": "ta", "verdict": "include"},
        format="json",
    )
    assert missing.status_code == 400 and "record" in missing.json()
    ft = api.post(
        url(review, "decisions/"),
        {"record": records[0].pk, "stage": "ft", "verdict": "include"},
        format="json",
    )
    assert ft.status_code == 400 and "not been included" in ft.json()["record"][0]
    assert not Decision.objects.exists()


def test_undo_through_delete_only_for_your_own_vote(
    api_for, review, records, screener_a, screener_b
):
    api = api_for(screener_a)
    vote = api.post(
        url(review, "decisions/"),
        {"record": records[0].pk, "stage": "ta", "verdict": "include"},
        format="json",
    ).json()
    decision_record(record=records[1], stage="ta", reviewer=screener_b, verdict="include")
    theirs = Decision.objects.get(reviewer=screener_b)
    # Blind mode hides the other vote entirely: it does not exist for screener_a.
    assert api.delete(url(review, f"decisions/{theirs.pk}/")).status_code == 404
    assert api.delete(url(review, f"decisions/{vote['id']}/")).status_code == 204
    assert list(Decision.objects.values_list("reviewer__username", flat=True)) == ["screener_b"]


def test_conflict_listed_with_both_votes_and_resolved_by_the_arbiter(
    api_for, review, records, screener_a, screener_b, arbiter
):
    decision_record(
        record=records[0], stage="ta", reviewer=screener_a, verdict="include", note="peer-delivered"
    )
    decision_record(
        record=records[0],
        stage="ta",
        reviewer=screener_b,
        verdict="exclude",
        reason="",
        note="group format",
    )
    conflicts = api_for(arbiter).get(url(review, "conflicts/"), {"stage": "ta"}).json()
    assert conflicts["count"] == 1
    conflict = conflicts["results"][0]
    assert {d["note"] for d in conflict["decisions"]} == {"peer-delivered", "group format"}
    assert (
        api_for(screener_a)
        .post(
            url(review, f"conflicts/{conflict['id']}/resolve/"),
            {"verdict": "include"},
            format="json",
        )
        .status_code
        == 403
    )
    resolved = api_for(arbiter).post(
        url(review, f"conflicts/{conflict['id']}/resolve/"),
        {"verdict": "include", "note": "discussed"},
        format="json",
    )
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved" and resolved.json()["resolved_by"] == "arbiter"
    assert len(resolved.json()["decisions"]) == 2  # the votes stay


def test_the_lead_sets_a_stage_and_bad_settings_are_refused(api_for, review, lead, screener_a):
    api = api_for(lead)
    saved = api.put(
        url(review, "stages/ft/settings/"),
        {"exclusion_reasons": ["Not an RCT", "Not one-to-one"], "reviewers_required": 2},
        format="json",
    )
    assert saved.status_code == 200 and saved.json()["exclusion_reasons"][1] == "Not one-to-one"
    empty = api.put(url(review, "stages/ft/settings/"), {"exclusion_reasons": []}, format="json")
    assert empty.status_code == 400 and "exclusion_reasons" in empty.json()
    three = api.put(url(review, "stages/ta/settings/"), {"reviewers_required": 3}, format="json")
    assert three.status_code == 400
    assert (
        api_for(screener_a)
        .put(url(review, "stages/ta/settings/"), {"blind": False}, format="json")
        .status_code
        == 403
    )
    assert api.get(url(review, "stages/xx/settings/")).status_code == 404


def test_agreement_and_prisma_counts(api_for, review, records, screener_a, screener_b, viewer):
    for record, (a, b) in zip(
        records,
        [("include", "include"), ("exclude", "exclude"), ("include", "exclude")],
        strict=True,
    ):
        decision_record(record=record, stage="ta", reviewer=screener_a, verdict=a)
        decision_record(record=record, stage="ta", reviewer=screener_b, verdict=b)
    api = api_for(viewer)
    agreement = api.get(url(review, "agreement/")).json()
    assert len(agreement) == 1
    pair = agreement[0]
    assert (pair["reviewer_a"], pair["reviewer_b"], pair["n"]) == ("screener_a", "screener_b", 3)
    assert pair["percent_agreement"] == pytest.approx(200 / 3)
    prisma = api.get(url(review, "prisma/")).json()
    assert prisma["records_screened"] == 3 and prisma["records_excluded"] == 1
    assert prisma["reports_sought"] == 1
    assert prisma["pending"]["records_awaiting_outcome"] == 1  # the conflict
    assert prisma["problems"] == []


def test_full_text_pdf_not_retrieved_and_study_link(
    api_for, review, records, screener_a, screener_b
):
    for user in (screener_a, screener_b):
        decision_record(record=records[0], stage="ta", reviewer=user, verdict="include")
        decision_record(record=records[1], stage="ta", reviewer=user, verdict="include")
    api = api_for(screener_a)
    upload = api.post(
        url(review, f"full-texts/{records[0].pk}/pdf/"),
        {"pdf": SimpleUploadedFile("paper.pdf", PDF, content_type="application/pdf")},
        format="multipart",
    )
    assert upload.status_code == 200 and upload.json()["has_pdf"] is True
    bad = api.post(
        url(review, f"full-texts/{records[1].pk}/pdf/"),
        {"pdf": SimpleUploadedFile("paper.pdf", b"not a pdf")},
        format="multipart",
    )
    assert bad.status_code == 400 and "does not look like a PDF" in bad.json()["pdf"][0]
    missing = api.post(
        url(review, f"full-texts/{records[1].pk}/not-retrieved/"),
        {"reason": "No library access"},
        format="json",
    )
    assert missing.json()["not_retrieved"] is True
    linked = api.post(
        url(review, f"full-texts/{records[0].pk}/study/"), {"label": "Chinman 2015"}, format="json"
    )
    assert linked.json()["study"] == "Chinman 2015"
    prisma = api.get(url(review, "prisma/")).json()
    assert prisma["reports_sought"] == 2 and prisma["reports_not_retrieved"] == 1


def test_changing_the_number_of_reviewers_recounts_open_records(review, records, lead, screener_a):
    decision_record(record=records[0], stage="ta", reviewer=screener_a, verdict="exclude")
    stage_settings_update(
        review=review, stage="ta", reviewers_required=1, blind=True, exclusion_reasons=[]
    )
    assert ScreeningItem.objects.get(record=records[0]).final_verdict == "exclude"


def test_a_vote_can_carry_the_next_record_in_its_answer(api_for, review, records, screener_a):
    api = api_for(screener_a)
    vote = {"record": records[0].pk, "stage": "ta", "verdict": "include"}
    answer = api.post(url(review, "decisions/") + "?next=1", vote, format="json").json()
    assert answer["verdict"] == "include"
    assert answer["next"]["record"]["id"] == records[1].pk
    assert answer["next"]["queues"]["awaiting"] == 1
