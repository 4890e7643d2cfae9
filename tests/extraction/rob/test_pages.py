import pytest

from extraction.rob import services
from extraction.rob.models import RobAssessment, RobTool
from tests.extraction.rob.conftest import ROB2_ANSWERS, ROB2_EXPECTED

pytestmark = pytest.mark.django_db


def _assess_url(review, tool, study, outcome):
    return (
        f"/reviews/{review.pk}/rob/tools/{tool.pk}/studies/{study.pk}/assess/?outcome={outcome.pk}"
    )


def _post_data(version, answers=ROB2_ANSWERS, **extra):
    data = {"version": version, "action": "save"}
    data.update({f"q_{q}": v for q, v in answers.items()})
    data.update(extra)
    return data


def test_the_lead_adds_a_tool_and_sees_the_study_grid(client_for, review, lead, studies, outcome):
    client = client_for(lead)
    response = client.post(
        f"/reviews/{review.pk}/rob/tools/add/", {"kind": "rob2", "name": "", "mode": "single"}
    )
    tool = RobTool.objects.get(review=review)
    assert response.status_code == 302 and tool.name.startswith("RoB 2")
    page = client.get(f"/reviews/{review.pk}/rob/tools/{tool.pk}/").content.decode()
    assert all(s.label in page for s in studies) and "Hope" in page


def test_a_custom_tool_is_built_from_the_form(client_for, review, lead):
    response = client_for(lead).post(
        f"/reviews/{review.pk}/rob/tools/add/",
        {
            "kind": "custom",
            "name": "NOS",
            "mode": "dual",
            "judgements": "Good, Fair, Poor",
            "domains": "Selection | Representative cohort? | Exposure ascertained?\nOutcome",
        },
    )
    assert response.status_code == 302
    tool = RobTool.objects.get(name="NOS")
    assert tool.definition["domains"][0]["questions"] == [
        "Representative cohort?",
        "Exposure ascertained?",
    ]
    bad = client_for(lead).post(
        f"/reviews/{review.pk}/rob/tools/add/",
        {"kind": "custom", "name": "Bad", "mode": "single", "judgements": "One"},
    )
    assert bad.status_code == 400 and "at least two judgement" in bad.content.decode()


def test_the_form_saves_answers_and_shows_proposals(
    client_for, review, rob2, studies, outcome, screener_a
):
    client = client_for(screener_a)
    url = _assess_url(review, rob2, studies[0], outcome)
    page = client.get(url)
    assert page.status_code == 200 and 'name="q_1.1"' in page.content.decode()
    response = client.post(url, _post_data(1, outcome=outcome.pk))
    assert response.status_code == 302
    a = RobAssessment.objects.get(tool=rob2)
    assert {k: v["final"] for k, v in a.domains.items()} == {
        k: v for k, v in ROB2_EXPECTED.items() if k != "overall"
    }


def test_the_live_proposal_fragment_follows_the_answers(client_for, review, rob2, screener_a):
    response = client_for(screener_a).post(
        f"/reviews/{review.pk}/rob/tools/{rob2.pk}/propose/",
        {"q_1.1": "Y", "q_1.2": "NI", "q_1.3": "PY", "q_2.1": "N", "q_2.2": "N"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert 'id="proposed-D1" class="proposal" hx-swap-oob="true" data-j="High"' in body
    assert 'id="state-2-3" class="qstate skipped" hx-swap-oob="true"' in body
    assert "answer 2.6 to get a proposal" in body


def test_an_override_without_justification_is_refused_and_kept_in_the_form(
    client_for, review, rob2, studies, outcome, screener_a
):
    url = _assess_url(review, rob2, studies[0], outcome)
    client = client_for(screener_a)
    response = client.post(url, _post_data(1, final_D2="Low", outcome=outcome.pk))
    body = response.content.decode()
    assert response.status_code == 400 and "say why you judge it" in body
    assert '<option value="Low" selected>Low</option>' in body  # the user's override stays
    assert RobAssessment.objects.get(tool=rob2).version == 1


def test_a_second_save_from_a_stale_page_shows_both_versions(
    client_for, review, rob2, studies, outcome, screener_a, screener_b
):
    url = _assess_url(review, rob2, studies[0], outcome)
    client_for(screener_a).get(url)
    assert client_for(screener_a).post(url, _post_data(1, outcome=outcome.pk)).status_code == 302
    response = client_for(screener_b).post(url, _post_data(1, {"1.1": "N"}, outcome=outcome.pk))
    body = response.content.decode()
    assert response.status_code == 409
    assert "screener_a saved this assessment" in body and "Their version (2)" in body
    assert RobAssessment.objects.get(tool=rob2).answers == ROB2_ANSWERS


def test_the_summary_page_draws_plots_and_the_csv_downloads(
    client_for, review, rob2, studies, outcome, screener_a, viewer
):
    a = services.assessment_open(tool=rob2, study=studies[0], outcome=outcome, user=screener_a)
    services.assessment_save(
        assessment=a, user=screener_a, version=1, answers=ROB2_ANSWERS, complete=True
    )
    client = client_for(viewer)
    page = client.get(f"/reviews/{review.pk}/rob/tools/{rob2.pk}/summary/").content.decode()
    assert "vendor/plotly-basic.min.js" in page and 'id="traffic-light-data"' in page
    csv = client.get(f"/reviews/{review.pk}/rob/tools/{rob2.pk}/robvis.csv?outcome={outcome.pk}")
    assert csv["Content-Type"].startswith("text/csv")
    assert csv.content.decode().startswith("Study,D1,D2,D3,D4,D5,Overall,Weight\nChinman 2015,")


def test_viewers_cannot_open_the_assessment_form(client_for, review, rob2, studies, viewer):
    url = f"/reviews/{review.pk}/rob/tools/{rob2.pk}/studies/{studies[0].pk}/assess/"
    assert client_for(viewer).get(url).status_code == 403


def test_the_consensus_page_highlights_differences_and_takes_a_side(
    client_for, review, rob2_dual, studies, outcome, screener_a, screener_b, arbiter
):
    study = studies[0]
    for user, answers in ((screener_a, ROB2_ANSWERS), (screener_b, {**ROB2_ANSWERS, "2.5": "Y"})):
        a = services.assessment_open(tool=rob2_dual, study=study, outcome=outcome, user=user)
        services.assessment_save(assessment=a, user=user, version=1, answers=answers, complete=True)
    client = client_for(arbiter)
    url = f"/reviews/{review.pk}/rob/tools/{rob2_dual.pk}/studies/{study.pk}/consensus/"
    url += f"?outcome={outcome.pk}"
    page = client.get(url).content.decode()
    assert 'class="differs" id="compare-D2"' in page and 'id="compare-D1"' in page
    client.post(url, {"action": "start", "outcome": outcome.pk})
    consensus = RobAssessment.objects.get(kind="consensus")
    client.post(
        url, {"action": "take:right:D2", "version": consensus.version, "outcome": outcome.pk}
    )
    consensus.refresh_from_db()
    assert consensus.domains["D2"]["final"] == "Some concerns"
    # A reviewer cannot reach the consensus page.
    assert client_for(screener_a).get(url).status_code == 403


@pytest.mark.parametrize("kind", ["rob1", "robins_i"])
def test_every_built_in_tool_renders_its_form(client_for, review, lead, studies, kind):
    tool = services.tool_create(review=review, user=lead, kind=kind)
    url = f"/reviews/{review.pk}/rob/tools/{tool.pk}/studies/{studies[0].pk}/assess/"
    body = client_for(lead).get(url).content.decode()
    domains = tool.spec.domains
    assert all(f"{d.key} · {d.name}" in body for d in domains)
    assert body.count('name="final_D') == len(domains)
    if kind == "robins_i":
        assert 'name="q_1.8"' in body and "Serious" in body


def test_the_review_history_shows_risk_of_bias_changes(
    client_for, review, lead, rob2, studies, outcome, screener_a
):
    a = services.assessment_open(tool=rob2, study=studies[0], outcome=outcome, user=screener_a)
    services.assessment_save(assessment=a, user=screener_a, version=1, answers={"1.1": "Y"})
    body = client_for(lead).get(f"/reviews/{review.pk}/history/").content.decode()
    assert "Risk-of-bias assessment" in body and "Risk-of-bias tool" in body


def test_the_judge_all_form_sets_a_domain_everywhere(client_for, review, lead, studies, screener_a):
    tool = services.tool_create(review=review, user=lead, kind="rob1")
    client = client_for(screener_a)
    page = client.get(f"/reviews/{review.pk}/rob/tools/{tool.pk}/").content.decode()
    assert 'id="judge-all"' in page
    response = client.post(
        f"/reviews/{review.pk}/rob/tools/{tool.pk}/judge-all/",
        {"domain": "D3", "final": "High", "support": "Cannot be blinded"},
        follow=True,
    )
    assert "D3 judged High in 3 studies." in response.content.decode()
    assert RobAssessment.objects.filter(tool=tool, domains__D3__final="High").count() == 3


def test_a_tampered_form_gets_a_clear_answer_not_an_error(
    client_for, review, rob2, studies, outcome, screener_a
):
    url = _assess_url(review, rob2, studies[0], outcome)
    client = client_for(screener_a)
    response = client.post(url, _post_data("abc", outcome=outcome.pk))
    assert response.status_code == 409
    response = client.post(url, _post_data(1, {"1.1": "yes please"}, outcome=outcome.pk))
    assert response.status_code == 400 and "is not one of" in response.content.decode()
    assert RobAssessment.objects.get(tool=rob2).answers == {}


def test_opening_the_form_creates_nothing_until_the_first_save(
    client_for, review, rob2, studies, outcome, screener_a
):
    client = client_for(screener_a)
    url = _assess_url(review, rob2, studies[0], outcome)
    page = client.get(url)
    assert page.status_code == 200 and "Not started" in page.content.decode()
    assert not RobAssessment.objects.filter(tool=rob2).exists()
    grid = client.get(f"/reviews/{review.pk}/rob/tools/{rob2.pk}/").content.decode()
    assert "In progress" not in grid

    assert client.post(url, _post_data(1)).status_code in (200, 302)
    assert RobAssessment.objects.filter(tool=rob2, study=studies[0]).count() == 1
