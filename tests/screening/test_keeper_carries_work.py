"""A changed keeper carries its work: votes, items, full text and study link follow the paper
when the kept copy of a duplicate group changes, or the change is refused saying what would be
lost; undo puts everything back."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reviewapp.errors import DomainError
from screening import selectors, services
from screening import services_screening as screening
from screening.models import Decision, DedupAction, FullTextReport, Record, ScreeningItem, Stage
from tests.factories import RecordFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def ft_settings(review):
    screening.stage_settings_update(
        review=review, stage=Stage.FULL_TEXT, reviewers_required=2, blind=True,
        exclusion_reasons=["Not an RCT"],
        votes_need_pdf=False,  # some records here are voted on before any PDF is attached
    )  # fmt: skip


def screen_to_inclusion(record, a, b, *, study="Chinman 2015"):
    """Dual-screened, included at title/abstract and full text, with a PDF and a study link."""
    for user in (a, b):
        screening.decision_record(record=record, stage=Stage.TITLE_ABSTRACT, reviewer=user,
                                  verdict="include", note=f"{user.username} liked it")  # fmt: skip
    screening.fulltext_attach(record=record, pdf=SimpleUploadedFile("p.pdf", PDF), user=a)
    for user in (a, b):
        screening.decision_record(record=record, stage=Stage.FULL_TEXT, reviewer=user,
                                  verdict="include")  # fmt: skip
    if study:
        screening.study_link_report(record=record, new_label=study)


def work_state(review):
    """Everything that a change of keeper must carry, as plain values."""
    return {
        "records": sorted(
            Record.objects.filter(review=review).values_list("id", "duplicate_of_id", "study_id")
        ),
        "decisions": sorted(
            Decision.objects.filter(review=review).values_list(
                "id", "record_id", "stage", "verdict", "note"
            )
        ),
        "decision_history": sorted(
            Decision.history.filter(review_id=review.pk).values_list("history_id", "record_id")
        ),
        "items": sorted(
            ScreeningItem.objects.filter(review=review).values_list(
                "id", "record_id", "stage", "status", "final_verdict", "votes"
            )
        ),
        "fulltexts": sorted(
            FullTextReport.objects.filter(review=review).values_list("id", "record_id", "pdf")
        ),
    }


def accounts(review):
    counts = selectors.prisma_counts(review=review)
    return {
        **counts.to_dict(),
        "included_studies": [s.label for s in selectors.included_studies(review=review)],
    }


@pytest.fixture
def screened_group(review, screener_a, screener_b, ft_settings):
    kept = RecordFactory(review=review, title="Peer support for psychosis")
    copy = RecordFactory(review=review, title="Peer support for psychosis", duplicate_of=kept)
    other = RecordFactory(review=review, title="Exercise for depression")
    screen_to_inclusion(other, screener_a, screener_b, study="Smith 2010")
    screen_to_inclusion(kept, screener_a, screener_b)
    return kept, copy


def test_keep_this_one_after_screening_moves_the_work_to_the_new_keeper(
    review, lead, screened_group
):
    kept, copy = screened_group
    before = accounts(review)
    services.dedup_make_primary(record=copy, user=lead)
    copy.refresh_from_db()
    assert copy.duplicate_of_id is None and copy.study is not None
    assert copy.study.label == "Chinman 2015"
    assert Decision.objects.filter(record=copy).count() == 4
    assert Decision.objects.filter(record=kept).count() == 0
    assert set(ScreeningItem.objects.filter(record=copy).values_list("stage", "final_verdict")) == {
        (Stage.TITLE_ABSTRACT, "include"),
        (Stage.FULL_TEXT, "include"),
    }
    assert FullTextReport.objects.get(record=copy).pdf
    assert Decision.history.filter(record_id=kept.pk).count() == 0  # the history moved too
    assert accounts(review) == before


def test_undo_of_a_keeper_change_restores_exactly(review, lead, screened_group):
    kept, copy = screened_group
    before = work_state(review)
    action = services.dedup_make_primary(record=copy, user=lead)
    assert action.moved and action.moved[0]["from"] == kept.pk
    services.dedup_undo(action=action, user=lead)
    assert work_state(review) == before


def test_keeper_change_is_refused_when_both_copies_have_votes(
    review, lead, screener_a, screener_b, ft_settings
):
    kept = RecordFactory(review=review)
    copy = RecordFactory(review=review)
    screening.decision_record(record=kept, stage="ta", reviewer=screener_a, verdict="include")
    screening.decision_record(record=kept, stage="ta", reviewer=screener_b, verdict="include")
    screening.decision_record(record=copy, stage="ta", reviewer=screener_a, verdict="exclude")
    screening.decision_record(record=copy, stage="ta", reviewer=screener_b, verdict="exclude")
    with pytest.raises(DomainError) as refused:
        services.dedup_merge(record=copy, other=kept, user=lead)
    message = refused.value.message
    assert "both copies have been screened at title and abstract" in message
    assert f"record {copy.pk}: excluded" in message and f"record {kept.pk}: included" in message
    assert Record.objects.get(pk=copy.pk).duplicate_of_id is None  # nothing changed


def test_merging_a_screened_record_into_an_unscreened_one_moves_its_work(
    review, lead, screener_a, screener_b, ft_settings
):
    screened = RecordFactory(review=review)
    unscreened = RecordFactory(review=review)
    screen_to_inclusion(screened, screener_a, screener_b)
    before = accounts(review)
    action = services.dedup_merge(record=screened, other=unscreened, user=lead)
    assert Decision.objects.filter(record=unscreened).count() == 4
    assert FullTextReport.objects.filter(record=unscreened).exists()
    counts = accounts(review)
    assert counts["studies_included"] == before["studies_included"] == 1
    assert counts["included_studies"] == before["included_studies"]
    assert counts["duplicates_removed"] == 1
    services.dedup_undo(action=action, user=lead)
    assert Decision.objects.filter(record=screened).count() == 4


def test_votes_added_on_the_new_keeper_go_back_with_the_work_on_undo(
    review, lead, screener_a, screener_b
):
    kept = RecordFactory(review=review)
    copy = RecordFactory(review=review, duplicate_of=kept)
    screening.decision_record(record=kept, stage="ta", reviewer=screener_a, verdict="include")
    action = services.dedup_make_primary(record=copy, user=lead)
    copy.refresh_from_db()
    screening.decision_record(record=copy, stage="ta", reviewer=screener_b, verdict="include")
    services.dedup_undo(action=action, user=lead)
    item = ScreeningItem.objects.get(stage="ta")
    assert item.record_id == kept.pk and item.votes == 2
    assert set(Decision.objects.values_list("record_id", flat=True)) == {kept.pk}


def test_splitting_a_screened_keeper_leaves_its_work_with_it(review, lead, screened_group):
    kept, copy = screened_group
    services.dedup_split(record=kept, user=lead)
    assert Decision.objects.filter(record=kept).count() == 4
    assert not Decision.objects.filter(record=copy).exists()


def test_the_plan_says_what_moves(review, lead, screened_group):
    kept, copy = screened_group
    plan = selectors.dedup_plan(review=review, record=copy, action="primary")
    assert plan.keeper_id == copy.pk and plan.moves_work and not plan.refusal
    text = "\n".join(plan.lines())
    assert f"Moves from record {kept.pk} to record {copy.pk}" in text
    assert "Title and abstract: included (2 votes)" in text
    assert "Full text: PDF attached" in text
    assert "Report of the study 'Chinman 2015'" in text


def test_the_api_shows_the_plan_and_the_moved_work(review, lead, api_for, screened_group):
    kept, copy = screened_group
    api = api_for(lead)
    base = f"/api/reviews/{review.pk}/records/{copy.pk}/"
    plan = api.get(f"{base}dedup-plan/", {"action": "primary"})
    assert plan.status_code == 200, plan.content
    body = plan.json()
    assert body["keeper_id"] == copy.pk and body["moves_work"] and body["refusal"] == ""
    assert body["moves"][0]["source"]["record_id"] == kept.pk
    assert "Full text: PDF attached" in body["moves"][0]["source"]["lines"]
    done = api.post(f"{base}make-primary/")
    assert done.status_code == 201
    assert done.json()["moved"][0]["from"] == kept.pk


def test_the_api_plan_of_a_refused_merge_says_what_would_be_lost(
    review, lead, api_for, screener_a, screener_b
):
    one, two = RecordFactory(review=review), RecordFactory(review=review)
    for record in (one, two):
        screening.decision_record(record=record, stage="ta", reviewer=screener_a, verdict="include")
    api = api_for(lead)
    base = f"/api/reviews/{review.pk}/records/{one.pk}/"
    body = api.get(f"{base}dedup-plan/", {"action": "merge", "other": two.pk}).json()
    assert "both copies have been screened at title and abstract" in body["refusal"]
    refused = api.post(f"{base}merge/", {"other": two.pk}, format="json")
    assert refused.status_code == 400
    assert "both copies have been screened" in str(refused.json())


def test_keep_this_one_on_the_page_asks_first_when_work_moves(
    review, lead, client_for, screened_group
):
    kept, copy = screened_group
    client = client_for(lead)
    url = f"/reviews/{review.pk}/duplicates/{copy.pk}/"
    asked = client.post(url, {"action": "primary"})
    assert asked.status_code == 302 and "/confirm/?action=primary" in asked["Location"]
    assert Record.objects.get(pk=copy.pk).duplicate_of_id == kept.pk  # not yet
    page = client.get(asked["Location"]).content.decode()
    assert "Moves from record" in page and "PDF attached" in page and "Chinman 2015" in page
    client.post(url, {"action": "primary", "confirmed": "1"})
    assert Record.objects.get(pk=copy.pk).duplicate_of_id is None
    assert Decision.objects.filter(record=copy).count() == 4


def test_the_confirmation_page_is_not_found_by_outsiders(
    review, outsider, client_for, screened_group
):
    _, copy = screened_group
    url = f"/reviews/{review.pk}/duplicates/{copy.pk}/confirm/?action=primary"
    assert client_for(outsider).get(url).status_code == 404


def test_undoing_a_split_is_refused_once_the_split_record_was_screened(review, lead, screener_a):
    kept = RecordFactory(review=review)
    copy = RecordFactory(review=review, duplicate_of=kept)
    split = services.dedup_split(record=copy, user=lead)
    copy.refresh_from_db()
    screening.decision_record(record=copy, stage="ta", reviewer=screener_a, verdict="include")
    with pytest.raises(DomainError, match=f"would hide the screening work on record {copy.pk}"):
        services.dedup_undo(action=split, user=lead)
    assert Record.objects.get(pk=copy.pk).duplicate_of_id is None


def test_full_text_votes_added_after_a_keeper_change_go_back_on_undo(
    review, lead, screener_a, screener_b, ft_settings
):
    kept = RecordFactory(review=review)
    copy = RecordFactory(review=review, duplicate_of=kept)
    for user in (screener_a, screener_b):
        screening.decision_record(record=kept, stage="ta", reviewer=user, verdict="include")
    action = services.dedup_make_primary(record=copy, user=lead)
    copy.refresh_from_db()
    screening.decision_record(record=copy, stage="ft", reviewer=screener_a, verdict="include")
    screening.study_link_report(record=copy, new_label="Later 2020")
    services.dedup_undo(action=action, user=lead)
    assert set(Decision.objects.values_list("record_id", flat=True)) == {kept.pk}
    assert ScreeningItem.objects.get(stage="ft").record_id == kept.pk
    assert Record.objects.get(pk=kept.pk).study.label == "Later 2020"


def test_undo_after_the_old_keepers_import_was_deleted_leaves_the_work_in_place(
    review, lead, screened_group
):
    from screening.services_imports import import_delete

    kept, copy = screened_group
    action = services.dedup_make_primary(record=copy, user=lead)
    import_delete(batch=kept.import_batch, user=lead)  # the old keeper has no work left
    assert not Record.objects.filter(pk=kept.pk).exists()
    services.dedup_undo(action=DedupAction.objects.get(pk=action.pk), user=lead)
    assert Decision.objects.filter(record=copy).count() == 4
    assert Record.objects.get(pk=copy.pk).duplicate_of_id is None
