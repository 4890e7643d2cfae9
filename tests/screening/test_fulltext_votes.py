"""Full texts (issue 11): votes need the attached PDF when the lead says so (the default at full
text), and "not retrieved" is one path that PRISMA counts once."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reviewapp.errors import DomainError
from screening import selectors
from screening.models import Decision, ScreeningItem, Stage, StageSettings
from screening.services_screening import (
    decision_record,
    fulltext_attach,
    fulltext_mark_not_retrieved,
    stage_settings_get,
    stage_settings_update,
)
from tests.factories import RecordFactory

pytestmark = pytest.mark.django_db

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
REASONS = ["Not an RCT", "Not one-to-one"]


def vote(record, user, verdict, stage=TA, reason=""):
    return decision_record(
        record=record, stage=stage, reviewer=user, verdict=verdict, reason=reason
    )


def settings(review, **changes):
    values = {
        "reviewers_required": 2,
        "blind": True,
        "exclusion_reasons": REASONS,
        **changes,
    }
    return stage_settings_update(review=review, stage=FT, **values)


@pytest.fixture
def sought(review, screener_a, screener_b):
    """Three records included at title and abstract."""
    records = RecordFactory.create_batch(3, review=review)
    for record in records:
        for user in (screener_a, screener_b):
            vote(record, user, "include")
    return records


def attach(record, user):
    pdf = SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf")
    return fulltext_attach(record=record, pdf=pdf, user=user)


def test_a_full_text_vote_waits_for_the_pdf_by_default(review, sought, screener_a):
    settings(review)
    assert stage_settings_get(review=review, stage=FT).votes_need_pdf
    with pytest.raises(DomainError, match="Attach the PDF of record .* before voting"):
        vote(sought[0], screener_a, "include", stage=FT)
    assert not Decision.objects.filter(stage=FT).exists()
    attach(sought[0], screener_a)
    assert vote(sought[0], screener_a, "include", stage=FT).created


def test_the_lead_may_let_votes_go_without_a_pdf(review, sought, screener_a):
    settings(review, votes_need_pdf=False)
    assert vote(sought[0], screener_a, "include", stage=FT).created
    # Saving the settings again without naming the choice keeps it.
    settings(review)
    assert not StageSettings.objects.get(review=review, stage=FT).votes_need_pdf


def test_not_retrieved_is_not_an_exclusion_reason(review):
    with pytest.raises(DomainError, match="is not an exclusion reason: a report that could not"):
        settings(review, exclusion_reasons=["Not an RCT", "Full text not retrievable"])
    # The protocol's criteria seed the reasons, without the retrieval one.
    review.exclusion_criteria = ["Not an RCT", "Full text not available"]
    review.save()
    assert stage_settings_get(review=review, stage=FT).exclusion_reasons == ["Not an RCT"]


def test_a_vote_with_a_not_retrieved_reason_listed_before_is_refused(review, sought, screener_a):
    settings(review, votes_need_pdf=False)
    StageSettings.objects.filter(review=review, stage=FT).update(
        exclusion_reasons=[*REASONS, "Full text not retrievable"]
    )
    with pytest.raises(DomainError, match="marked 'not retrieved' on the full-texts page"):
        vote(sought[0], screener_a, "exclude", stage=FT, reason="Full text not retrievable")


def test_prisma_counts_a_not_retrieved_report_once(review, sought, screener_a, screener_b):
    settings(review, votes_need_pdf=False)
    # A legacy exclusion "not retrievable", decided before the reason was refused.
    legacy = sought[0]
    for user in (screener_a, screener_b):
        Decision.objects.create(
            review=review,
            record=legacy,
            stage=FT,
            reviewer=user,
            verdict="exclude",
            reason="Full text not retrievable",
        )
    ScreeningItem.objects.create(
        review=review,
        record=legacy,
        stage=FT,
        votes=2,
        status=ScreeningItem.Status.DECIDED,
        final_verdict="exclude",
        final_reason="Full text not retrievable",
    )
    # Marked not retrieved the ordinary way.
    fulltext_mark_not_retrieved(record=sought[1], reason="Authors did not reply", user=screener_a)
    # Assessed and excluded for a real reason.
    for user in (screener_a, screener_b):
        vote(sought[2], user, "exclude", stage=FT, reason="Not an RCT")
    counts = selectors.prisma_counts(review=review)
    assert counts.reports_sought == 3
    assert counts.reports_not_retrieved == 2
    assert counts.reports_assessed == 1
    assert counts.reports_excluded == {"Not an RCT": 1}
    assert "Full text not retrievable" not in counts.reports_excluded


def test_the_lead_chooses_on_the_settings_page_whether_votes_need_a_pdf(client_for, review, lead):
    client = client_for(lead)
    url = f"/reviews/{review.pk}/screening/ft/settings/"
    page = client.get(url).content.decode()
    assert (
        'name="votes_need_pdf"' in page and "checked" in page.split('name="votes_need_pdf"')[1][:80]
    )
    assert (
        'name="votes_need_pdf"'
        not in client.get(f"/reviews/{review.pk}/screening/ta/settings/").content.decode()
    )
    form = {
        "reviewers_required": "2",
        "blind": "on",
        "order": "import",
        "exclusion_reasons": "Not an RCT\nFull text not retrievable",
    }
    refused = client.post(url, form)
    assert refused.status_code == 400
    assert "is not an exclusion reason" in refused.content.decode()
    assert client.post(url, {**form, "exclusion_reasons": "Not an RCT"}).status_code == 302
    assert not StageSettings.objects.get(review=review, stage=FT).votes_need_pdf
