"""Full-text screening in the browser (issue 11): the PDF is shown beside the decision panel, and
a report without its PDF cannot be voted on while the lead requires it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from screening.models import Decision
from screening.services_screening import decision_record, fulltext_attach, stage_settings_update
from tests.browser.test_screening import log_in
from tests.factories import RecordFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def sought(review, screener_a, screener_b):
    stage_settings_update(
        review=review,
        stage="ft",
        reviewers_required=2,
        blind=True,
        exclusion_reasons=["Not an RCT", "Not one-to-one"],
        order="import",
    )
    with_pdf = RecordFactory(review=review, title="Peer support after discharge: an RCT")
    without = RecordFactory(review=review, title="Peer mentors in psychosis: a trial")
    for record in (with_pdf, without):
        for user in (screener_a, screener_b):
            decision_record(record=record, stage="ta", reviewer=user, verdict="include")
    fulltext_attach(record=with_pdf, pdf=SimpleUploadedFile("chinman.pdf", PDF), user=screener_a)
    return with_pdf, without


def test_the_pdf_sits_beside_the_decision_panel(browser, live_server, review, sought):
    with_pdf, _ = sought
    context, page = log_in(browser, live_server, "screener_a")
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{live_server.url}/reviews/{review.pk}/screening/ft/screen/?record={with_pdf.pk}")
    frame = page.locator("iframe#fulltext-frame")
    frame.wait_for()
    src = frame.get_attribute("src")
    # The frame's document is allowed to be framed by this site and is the PDF.
    response = page.request.get(f"{live_server.url}{src}")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
    assert "frame-src 'self'" in page.evaluate(
        "() => fetch(location.href).then(r => r.headers.get('content-security-policy'))"
    )
    # Beside, not above: the frame is left of the decision buttons, which stay on screen.
    frame_box = frame.bounding_box()
    include = page.locator("button.v-include")
    include_box = include.bounding_box()
    assert frame_box["x"] + frame_box["width"] <= include_box["x"]
    assert include_box["y"] + include_box["height"] <= 720
    # Keys go to the page while the focus is outside the PDF viewer.
    page.locator("#record-title").focus()
    page.keyboard.press("i")
    # Voted, and on to the next report, which has no PDF yet.
    page.get_by_text(f"Record {with_pdf.pk}: include").wait_for()
    page.locator("#needs-pdf").wait_for()
    assert Decision.objects.filter(record=with_pdf, stage="ft").count() == 1
    context.close()


def test_a_report_without_its_pdf_cannot_be_voted_on(browser, live_server, review, sought):
    _, without = sought
    context, page = log_in(browser, live_server, "screener_a")
    page.goto(f"{live_server.url}/reviews/{review.pk}/screening/ft/screen/?record={without.pk}")
    page.locator("#needs-pdf").wait_for()
    assert "Attach this report's PDF before voting" in page.locator("#needs-pdf").inner_text()
    assert page.locator("button.v-include").is_disabled()
    page.keyboard.press("i")
    page.wait_for_timeout(300)
    assert not Decision.objects.filter(record=without, stage="ft").exists()
    assert page.locator("iframe#fulltext-frame").count() == 0
    context.close()
