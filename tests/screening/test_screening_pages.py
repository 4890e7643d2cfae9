"""The screening pages: settings, the htmx screening page, undo, conflicts, full texts,
exports, agreement and PRISMA downloads."""

import csv
import io

import pytest
import rispy
from django.core.files.uploadedfile import SimpleUploadedFile

from screening.models import Decision, FullTextReport, ScreeningItem, StageSettings
from screening.services_screening import decision_record, stage_settings_update
from tests.factories import RecordFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def records(review):
    stage_settings_update(
        review=review,
        stage="ta",
        reviewers_required=2,
        blind=True,
        exclusion_reasons=[],
        order=StageSettings.Order.IMPORT,
    )
    return [
        RecordFactory(
            review=review, title=f"Peer support trial {n}", abstract="A randomised trial."
        )
        for n in range(3)
    ]


def base(review):
    return f"/reviews/{review.pk}/screening"


def test_the_lead_saves_stage_settings_and_errors_are_named(client_for, review, lead):
    client = client_for(lead)
    form = {
        "reviewers_required": "2",
        "blind": "on",
        "order": "random",
        "exclusion_reasons": "Not an RCT\nNot one-to-one\n",
        "include_terms": "randomised\npeer",
        "exclude_terms": "protocol",
    }
    assert client.post(f"{base(review)}/ft/settings/", form).status_code == 302
    saved = StageSettings.objects.get(review=review, stage="ft")
    assert saved.exclusion_reasons == ["Not an RCT", "Not one-to-one"] and saved.order == "random"
    bad = client.post(f"{base(review)}/ft/settings/", {**form, "exclusion_reasons": ""})
    assert bad.status_code == 400 and "needs at least one exclusion reason" in bad.content.decode()
    assert StageSettings.objects.get(pk=saved.pk).exclusion_reasons == saved.exclusion_reasons
    assert client.get(f"{base(review)}/xx/settings/").status_code == 404


def test_the_screening_page_shows_the_record_with_highlights_and_criteria(
    client_for, review, records, lead, screener_a
):
    review.inclusion_criteria = ["Randomised controlled trials"]
    review.save()
    stage_settings_update(
        review=review,
        stage="ta",
        reviewers_required=2,
        blind=True,
        exclusion_reasons=[],
        include_terms=["random"],
    )
    page = client_for(screener_a).get(f"{base(review)}/ta/screen/").content.decode()
    assert "Peer support trial 0" in page
    assert '<mark class="hl-include">randomised</mark>' in page
    assert "Randomised controlled trials" in page and "Keyboard shortcuts" in page


def test_an_htmx_decision_returns_the_next_record_fragment(client_for, review, records, screener_a):
    client = client_for(screener_a)
    response = client.post(
        f"{base(review)}/ta/decide/{records[0].pk}/",
        {"verdict": "include", "note": "fits", "tags": "rct, adults"},
        **HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "Peer support trial 1" in body and f"Record {records[0].pk}: include" in body
    decision = Decision.objects.get()
    assert decision.note == "fits" and decision.tags == ["rct", "adults"]


def test_a_double_submitted_decision_is_stored_once(client_for, review, records, screener_a):
    client = client_for(screener_a)
    for _ in range(2):
        client.post(f"{base(review)}/ta/decide/{records[0].pk}/", {"verdict": "exclude"}, **HTMX)
    assert Decision.objects.count() == 1


def test_a_bad_decision_shows_the_error_on_the_same_record(client_for, review, records, screener_a):
    response = client_for(screener_a).post(
        f"{base(review)}/ta/decide/{records[0].pk}/", {"verdict": "nope"}, **HTMX
    )
    body = response.content.decode()
    assert "is not a decision" in body and "Peer support trial 0" in body
    assert not Decision.objects.exists()


def test_undo_brings_the_record_back(client_for, review, records, screener_a):
    client = client_for(screener_a)
    client.post(f"{base(review)}/ta/decide/{records[0].pk}/", {"verdict": "include"}, **HTMX)
    body = client.post(f"{base(review)}/ta/undo/", **HTMX).content.decode()
    assert "Undone" in body and "Peer support trial 0" in body
    assert not Decision.objects.exists()
    nothing = client.post(f"{base(review)}/ta/undo/", **HTMX).content.decode()
    assert "nothing to undo" in nothing


def test_viewers_see_progress_but_cannot_screen(client_for, review, records, lead, viewer):
    client = client_for(viewer)
    assert client.get(f"{base(review)}/").status_code == 200
    assert client.get(f"{base(review)}/ta/screen/").status_code == 403
    assert (
        client.post(
            f"{base(review)}/ta/decide/{records[0].pk}/", {"verdict": "include"}
        ).status_code
        == 403
    )


def test_the_arbiter_resolves_a_conflict_on_the_page(
    client_for, review, records, screener_a, screener_b, arbiter
):
    decision_record(
        record=records[0], stage="ta", reviewer=screener_a, verdict="include", note="peer worker"
    )
    decision_record(record=records[0], stage="ta", reviewer=screener_b, verdict="exclude")
    item = ScreeningItem.objects.get()
    client = client_for(arbiter)
    page = client.get(f"{base(review)}/ta/conflicts/").content.decode()
    assert "peer worker" in page and "screener_b" in page
    client.post(f"{base(review)}/ta/conflicts/{item.pk}/resolve/", {"verdict": "include"})
    item.refresh_from_db()
    assert item.status == "resolved" and item.final_verdict == "include"
    assert (
        client_for(screener_a)
        .post(f"{base(review)}/ta/conflicts/{item.pk}/resolve/", {"verdict": "exclude"})
        .status_code
        == 403
    )


def test_full_text_page_attaches_marks_and_links(
    client_for, review, records, lead, screener_a, screener_b
):
    for user in (screener_a, screener_b):
        decision_record(record=records[0], stage="ta", reviewer=user, verdict="include")
        decision_record(record=records[1], stage="ta", reviewer=user, verdict="include")
    client = client_for(screener_a)
    assert "Peer support trial 0" in client.get(f"{base(review)}/full-texts/").content.decode()
    pdf = SimpleUploadedFile("trial.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    client.post(f"{base(review)}/full-texts/{records[0].pk}/", {"action": "upload", "pdf": pdf})
    client.post(
        f"{base(review)}/full-texts/{records[1].pk}/",
        {"action": "not_retrieved", "reason": "No access"},
    )
    client.post(
        f"{base(review)}/full-texts/{records[0].pk}/", {"action": "link", "label": "Chinman 2015"}
    )
    assert FullTextReport.objects.get(record=records[0]).pdf
    assert FullTextReport.objects.get(record=records[1]).not_retrieved
    records[0].refresh_from_db()
    assert records[0].study.label == "Chinman 2015"
    download = client.get(f"{base(review)}/full-texts/{records[0].pk}/pdf/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    missing = client.post(
        f"{base(review)}/full-texts/{records[2].pk}/", {"action": "not_retrieved", "reason": "x"}
    )
    assert missing.status_code == 302 and not FullTextReport.objects.filter(record=records[2])


def test_exports_as_csv_and_ris_with_the_decision(
    client_for, review, records, screener_a, screener_b
):
    for user in (screener_a, screener_b):
        decision_record(record=records[0], stage="ta", reviewer=user, verdict="include")
        decision_record(record=records[1], stage="ta", reviewer=user, verdict="exclude")
    client = client_for(screener_a)
    text = client.get(f"{base(review)}/ta/export/?outcome=include").content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["record_id"] for r in rows] == [str(records[0].pk)]
    assert rows[0]["outcome"] == "include" and "screener_b: include" in rows[0]["votes"]
    ris = client.get(f"{base(review)}/ta/export/?format=ris").content.decode()
    entries = rispy.loads(ris)
    assert [e["label"] for e in entries] == ["include", "exclude", "not decided"]
    assert entries[1]["notes"][0].startswith("Screening (title and abstract): exclude")


def test_agreement_csv_prisma_svg_csv_and_dashboard_card(
    client_for, review, records, screener_a, screener_b, viewer
):
    for record, (a, b) in zip(
        records,
        [("include", "include"), ("exclude", "exclude"), ("include", "exclude")],
        strict=True,
    ):
        decision_record(record=record, stage="ta", reviewer=screener_a, verdict=a)
        decision_record(record=record, stage="ta", reviewer=screener_b, verdict=b)
    client = client_for(viewer)
    agreement = list(
        csv.DictReader(io.StringIO(client.get(f"{base(review)}/agreement.csv").content.decode()))
    )
    assert agreement[0]["reviewer_a"] == "screener_a" and agreement[0]["n"] == "3"
    svg = client.get(f"/reviews/{review.pk}/prisma.svg")
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    counts = client.get(f"/reviews/{review.pk}/prisma.csv").content.decode()
    assert "Records excluded,1" in counts and "Reports sought for retrieval,1" in counts
    page = client.get(f"/reviews/{review.pk}/prisma/").content.decode()
    assert "1 record awaits" in page
    card = client.get(f"{base(review)}/summary/").content.decode()
    assert "screener_a · screener_b" in card and "66.7%" in card


def test_full_text_screening_page_offers_the_reasons_and_requires_one(
    client_for, review, records, lead, screener_a, screener_b
):
    stage_settings_update(
        review=review,
        stage="ft",
        reviewers_required=2,
        blind=True,
        exclusion_reasons=["Not an RCT", "Not one-to-one"],
        votes_need_pdf=False,
    )
    for user in (screener_a, screener_b):
        decision_record(record=records[0], stage="ta", reviewer=user, verdict="include")
    client = client_for(screener_a)
    page = client.get(f"{base(review)}/ft/screen/").content.decode()
    assert "Peer support trial 0" in page and 'data-reason-key="2"' in page
    assert "No PDF attached" in page
    refused = client.post(
        f"{base(review)}/ft/decide/{records[0].pk}/", {"verdict": "exclude"}, **HTMX
    ).content.decode()
    assert "needs a reason" in refused and not Decision.objects.filter(stage="ft").exists()
    client.post(
        f"{base(review)}/ft/decide/{records[0].pk}/",
        {"verdict": "exclude", "reason": "Not one-to-one"},
        **HTMX,
    )
    assert Decision.objects.get(stage="ft").reason == "Not one-to-one"
    # A record not included at title and abstract is not on the full-text page at all.
    assert client.get(f"{base(review)}/ft/screen/?record={records[1].pk}").status_code == 404
