"""Issue 11: saving a risk-of-bias assessment from htmx answers with the fragments the save
changed (version, status, proposals, a message, errors beside their fields), never the form's
inputs, so nothing typed is lost; without htmx the post, redirect and page load still work."""

import html
import re

import pytest

from extraction.rob import services
from extraction.rob.models import RobAssessment
from tests.extraction.rob.conftest import ROB2_ANSWERS

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _url(review, tool, study, outcome, page="assess"):
    return (
        f"/reviews/{review.pk}/rob/tools/{tool.pk}/studies/{study.pk}/{page}/?outcome={outcome.pk}"
    )


def _form(version, answers=ROB2_ANSWERS, action="save", **extra):
    data = {"version": version, "action": action}
    data.update({f"q_{q}": v for q, v in answers.items()})
    data.update(extra)
    return data


def _oob(body, element_id):
    """The out-of-band element with this id in an htmx answer, or None."""
    match = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*hx-swap-oob[^>]*>', body)
    if match is None:
        match = re.search(rf'<(\w+)[^>]*hx-swap-oob[^>]*id="{element_id}"[^>]*>', body)
    return match.group(0) if match else None


def test_an_htmx_save_answers_with_the_new_version_status_and_proposals_in_place(
    client_for, review, rob2, studies, outcome, screener_a
):
    client = client_for(screener_a)
    url = _url(review, rob2, studies[0], outcome)
    response = client.post(url, _form(1, outcome=outcome.pk), **HTMX)
    body = html.unescape(response.content.decode())

    assert response.status_code == 200 and "Location" not in response
    saved = RobAssessment.objects.get(tool=rob2, study=studies[0])
    assert saved.version == 2 and saved.status == "draft"
    assert _oob(body, "assessment-meta") and '<span id="version-shown">2</span>' in body
    assert 'value="2"' in _oob(body, "form-version")
    assert "In progress" in body  # the status badge
    assert 'id="proposed-D2" class="proposal" hx-swap-oob="true" data-j="High"' in body
    assert 'id="proposed-overall" class="proposal" hx-swap-oob="true" data-j="High"' in body
    assert "Assessment of Chinman 2015 saved as a draft (version 2)." in body
    assert 'name="q_1.1"' not in body  # the inputs stay as the user left them
    # The message was said in place: the next page load does not repeat it.
    assert "saved as a draft" not in client.get(url).content.decode()


def test_an_htmx_complete_stays_on_the_page_with_a_link_back_to_the_grid(
    client_for, review, rob2, studies, outcome, screener_a
):
    url = _url(review, rob2, studies[0], outcome)
    response = client_for(screener_a).post(
        url, _form(1, action="complete", outcome=outcome.pk), **HTMX
    )
    body = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "complete (version 2)." in body and "Complete</span>" in body
    assert f'href="/reviews/{review.pk}/rob/tools/{rob2.pk}/?outcome={outcome.pk}"' in body
    assert RobAssessment.objects.get(tool=rob2).status == "complete"


def test_an_htmx_refused_save_puts_the_error_beside_the_field_and_keeps_the_inputs(
    client_for, review, rob2, studies, outcome, screener_a
):
    url = _url(review, rob2, studies[0], outcome)
    response = client_for(screener_a).post(
        url, _form(1, final_D2="Low", outcome=outcome.pk), **HTMX
    )
    body = html.unescape(response.content.decode())

    assert response.status_code == 400
    assert 'id="form-error"' in body and "say why you judge it 'Low'" in body
    beside = re.search(r'<p class="error-box field-error" id="error-D2"[^>]*>([^<]*)</p>', body)
    assert beside and "say why you judge it 'Low'" in beside.group(1)
    assert 'id="error-D1" hx-swap-oob="true" hidden' in body  # every other slot cleared
    assert 'name="q_1.1"' not in body and 'name="final_D2"' not in body
    assert RobAssessment.objects.get(tool=rob2).version == 1  # created by the post, not saved


def test_an_htmx_complete_with_a_domain_unjudged_is_refused_in_place(
    client_for, review, rob2, studies, outcome, screener_a
):
    url = _url(review, rob2, studies[0], outcome)
    answers = {q: v for q, v in ROB2_ANSWERS.items() if not q.startswith("5.")}
    response = client_for(screener_a).post(
        url, _form(1, answers, action="complete", outcome=outcome.pk), **HTMX
    )
    body = html.unescape(response.content.decode())
    assert response.status_code == 400
    assert "To complete the assessment, judge every domain: D5." in body
    assert RobAssessment.objects.get(tool=rob2).status == "draft"


def test_an_htmx_save_from_a_stale_page_answers_409_with_both_versions(
    client_for, review, rob2, studies, outcome, screener_a, screener_b
):
    url = _url(review, rob2, studies[0], outcome)
    assert client_for(screener_a).post(url, _form(1, outcome=outcome.pk)).status_code == 302
    response = client_for(screener_b).post(url, _form(1, {"1.1": "N"}, outcome=outcome.pk), **HTMX)
    body = html.unescape(response.content.decode())

    assert response.status_code == 409
    assert 'id="conflict"' in body and "screener_a saved this assessment (version 2)" in body
    assert "Their version (2)" in body
    # The form now carries their version, so saving again keeps what this user typed.
    assert 'value="2"' in _oob(body, "form-version")
    assert 'name="q_1.1"' not in body
    assert RobAssessment.objects.get(tool=rob2).answers == ROB2_ANSWERS


def test_a_plain_refused_save_shows_the_page_with_the_error_beside_the_field(
    client_for, review, rob2, studies, outcome, screener_a
):
    url = _url(review, rob2, studies[0], outcome)
    response = client_for(screener_a).post(url, _form(1, final_D2="Low", outcome=outcome.pk))
    body = html.unescape(response.content.decode())
    assert response.status_code == 400 and "<h1>Chinman 2015 · Hope</h1>" in body
    assert re.search(r'id="error-D2">[^<]*say why you judge it', body)
    assert '<option value="Low" selected>Low</option>' in body


def test_a_plain_save_still_redirects_and_flashes_its_message(
    client_for, review, rob2, studies, outcome, screener_a
):
    url = _url(review, rob2, studies[0], outcome)
    response = client_for(screener_a).post(url, _form(1, outcome=outcome.pk), follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert "saved as a draft (version 2)" in response.content.decode()


def test_an_htmx_save_that_changes_the_variant_loads_the_page_again(
    client_for, review, rob2, studies, outcome, screener_a
):
    url = _url(review, rob2, studies[0], outcome)
    client = client_for(screener_a)
    response = client.post(
        url, _form(1, {}, pre_shown="1", pre_design="cluster", outcome=outcome.pk), **HTMX
    )
    assert response.status_code == 204 and response["HX-Refresh"] == "true"
    assert RobAssessment.objects.get(tool=rob2).preliminary["design"] == "cluster"
    assert 'id="domain-D1b"' in client.get(url).content.decode()


def test_opening_the_assess_and_consensus_pages_creates_nothing(
    client_for, review, rob2_dual, studies, outcome, screener_a, screener_b, arbiter
):
    study = studies[0]
    assert client_for(screener_a).get(_url(review, rob2_dual, study, outcome)).status_code == 200
    assert not RobAssessment.objects.exists()
    for user in (screener_a, screener_b):
        a = services.assessment_open(tool=rob2_dual, study=study, outcome=outcome, user=user)
        services.assessment_save(
            assessment=a, user=user, version=1, answers=ROB2_ANSWERS, complete=True
        )
    page = client_for(arbiter).get(_url(review, rob2_dual, study, outcome, "consensus"))
    assert page.status_code == 200 and "Start the consensus" in page.content.decode()
    assert not RobAssessment.objects.filter(kind="consensus").exists()


def test_an_htmx_consensus_save_updates_the_comparison_in_place(
    client_for, review, rob2_dual, studies, outcome, screener_a, screener_b, arbiter
):
    study = studies[0]
    for user, answers in ((screener_a, ROB2_ANSWERS), (screener_b, {**ROB2_ANSWERS, "2.5": "Y"})):
        a = services.assessment_open(tool=rob2_dual, study=study, outcome=outcome, user=user)
        services.assessment_save(assessment=a, user=user, version=1, answers=answers, complete=True)
    client = client_for(arbiter)
    url = _url(review, rob2_dual, study, outcome, "consensus")
    client.post(url, {"action": "start", "outcome": outcome.pk})
    consensus = RobAssessment.objects.get(kind="consensus")

    response = client.post(
        url,
        _form(consensus.version, {**ROB2_ANSWERS, "2.5": "Y"}, outcome=outcome.pk),
        **HTMX,
    )
    body = html.unescape(response.content.decode())
    assert response.status_code == 200 and "Consensus saved." in body
    consensus.refresh_from_db()
    assert consensus.answers["2.5"] == "Y"
    # The take buttons' form carries the new version too, so taking a side next is not stale.
    take = body[body.index('<form id="take-form" hx-swap-oob="innerHTML">') :]
    assert f'name="version" value="{consensus.version}"' in take
    stale = client.post(
        url, _form(consensus.version - 1, outcome=outcome.pk, action="complete"), **HTMX
    )
    assert stale.status_code == 409 and "arbiter saved this assessment" in stale.content.decode()
