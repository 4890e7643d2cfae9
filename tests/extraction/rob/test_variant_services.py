"""Preliminary considerations, variants, incomplete judgements and the licence notice through
the services, selectors, pages and API."""

import re
from pathlib import Path

import pytest

from extraction.rob import selectors, services
from extraction.rob.models import RobAssessment, RobTool
from reviewapp.errors import DomainError
from tests.extraction.rob.conftest import (
    CLUSTER_ANSWERS,
    CLUSTER_EXPECTED,
    ROB2_ANSWERS,
    V2_ANSWERS,
    V2_PRELIMINARY,
)

pytestmark = pytest.mark.django_db
CLUSTER = {"design": "cluster", "aim": "assignment", "result": "OR 0.8 (0.6 to 1.1)"}


def _save(assessment, user, **kwargs):
    return services.assessment_save(
        assessment=assessment, user=user, version=assessment.version, **kwargs
    )


def test_a_cluster_trial_is_assessed_with_domain_1b(rob2, studies, outcome, screener_a):
    a = services.assessment_open(tool=rob2, study=studies[0], outcome=outcome, user=screener_a)
    saved = _save(a, screener_a, preliminary=CLUSTER, answers=CLUSTER_ANSWERS, complete=True)
    assert {k: v["proposed"] for k, v in saved.domains.items()} | {
        "overall": saved.overall
    } == CLUSTER_EXPECTED
    assert saved.preliminary["design"] == "cluster"
    export = selectors.robvis_export(tool=rob2, outcome=outcome)
    assert export.template == "ROB2-Cluster"
    assert export.csv.splitlines() == [
        "Study,D1,D1b,D2,D3,D4,D5,Overall,Weight",
        "Chinman 2015,Low,High,Low,Low,Low,Low,High,1",
    ]


def test_switching_design_drops_the_answers_the_new_variant_does_not_ask(
    rob2, studies, outcome, screener_a
):
    a = services.assessment_open(tool=rob2, study=studies[0], outcome=outcome, user=screener_a)
    a = _save(a, screener_a, preliminary=CLUSTER, answers=CLUSTER_ANSWERS)
    switched = _save(a, screener_a, preliminary={"design": "parallel"})
    # 2.2, 2.6, 4.1, 4.2 and domain 5 ask the same in both; 1a.*, 1b.*, 2.1a, 3.1a/b, 4.3a go.
    assert set(switched.answers) == {"2.2", "2.6", "4.1", "4.2", "5.1", "5.2", "5.3"}
    assert "D1b" not in switched.domains and switched.overall_proposed == ""
    with pytest.raises(DomainError, match="not asked in this variant"):
        _save(switched, screener_a, answers={"1b.1": "Y"})


def test_the_effect_of_adhering_needs_a_deviation_to_address(rob2, studies, outcome, screener_a):
    a = services.assessment_open(tool=rob2, study=studies[0], outcome=outcome, user=screener_a)
    answers = {k: v for k, v in ROB2_ANSWERS.items() if not k.startswith("2.")}
    answers |= {"2.1": "Y", "2.2": "Y", "2.3": "N", "2.4": "NA", "2.5": "N", "2.6": "PY"}
    with pytest.raises(DomainError, match="at least one kind of deviation"):
        _save(a, screener_a, preliminary={"aim": "adhering"}, answers=answers, complete=True)
    a.refresh_from_db()
    assert a.version == 1 and a.preliminary == {}
    saved = _save(
        a,
        screener_a,
        preliminary={"aim": "adhering", "deviations": ["non_protocol", "non_adherence"]},
        answers=answers,
        complete=True,
    )
    assert saved.domains["D2"]["proposed"] == "Some concerns"  # unbalanced, appropriate analysis


def test_a_judgement_before_the_answers_are_complete_needs_a_justification(
    rob2, studies, outcome, screener_a
):
    a = services.assessment_open(tool=rob2, study=studies[0], outcome=outcome, user=screener_a)
    with pytest.raises(DomainError, match="question 2.6 is unanswered") as exc:
        _save(a, screener_a, answers={"2.1": "N", "2.2": "N"}, domains={"D2": {"final": "Low"}})
    assert exc.value.field == "domains.D2.justification"
    a.refresh_from_db()
    assert a.version == 1 and a.domains == {}
    saved = _save(
        a,
        screener_a,
        answers={"2.1": "N", "2.2": "N"},
        domains={"D2": {"final": "Low", "justification": "ITT confirmed by the trialist"}},
    )
    assert saved.domains["D2"]["proposed"] == "" and saved.domains["D2"]["final"] == "Low"
    assert saved.domains["D2"]["justification"] == "ITT confirmed by the trialist"
    with pytest.raises(DomainError, match="do not give an overall judgement yet") as exc:
        _save(saved, screener_a, overall="High")
    assert exc.value.field == "overall_justification"


def test_robins_i_v2_proposes_critical_from_the_domains(robins_v2, studies, outcome, screener_a):
    a = services.assessment_open(tool=robins_v2, study=studies[0], outcome=outcome, user=screener_a)
    saved = _save(a, screener_a, preliminary=V2_PRELIMINARY, answers=V2_ANSWERS, complete=True)
    assert saved.domains["D1"]["proposed"] == "Critical"
    assert {saved.domains[f"D{i}"]["proposed"] for i in range(2, 7)} == {"Low"}
    assert saved.overall == "Critical" and saved.status == "complete"
    assert selectors.rob_overall_by_study(review=robins_v2.review) == {studies[0].pk: "Critical"}
    csv = selectors.robvis_csv(tool=robins_v2, outcome=outcome).splitlines()
    assert csv[0] == "Study,D1,D2,D3,D4,D5,D6,Overall,Weight"
    # Domain 1 is at best "low except for uncontrolled confounding"; plain Low is refused.
    with pytest.raises(DomainError, match="not a judgement of .* for this domain"):
        _save(saved, screener_a, domains={"D1": {"final": "Low", "justification": "x"}})


def test_robins_i_v2_section_b_stops_the_assessment_at_critical(
    robins_v2, studies, outcome, screener_a
):
    a = services.assessment_open(tool=robins_v2, study=studies[1], outcome=outcome, user=screener_a)
    saved = _save(a, screener_a, preliminary={"B1": "N", "B2": "PY"}, complete=True)
    assert saved.status == "complete" and saved.overall == "Critical" and saved.domains == {}
    assert saved.spec.stopped.startswith("Section B: B2")


def test_a_robins_i_2016_tool_keeps_its_version_and_new_tools_offer_v2_first(review, lead):
    old = services.tool_create(review=review, user=lead, kind=RobTool.Kind.ROBINS_I)
    assert old.spec.key == "robins_i" and len(old.spec.domains) == 7
    kinds = [k for k, _ in RobTool.Kind.choices]
    assert kinds.index("robins_i_v2") < kinds.index("robins_i")
    assert "earlier version" in RobTool.Kind.ROBINS_I.label


def test_consensus_agrees_on_the_variant_and_can_take_a_sides_considerations(
    rob2_dual, studies, outcome, screener_a, screener_b, arbiter
):
    study = studies[0]
    a = services.assessment_open(tool=rob2_dual, study=study, outcome=outcome, user=screener_a)
    b = services.assessment_open(tool=rob2_dual, study=study, outcome=outcome, user=screener_b)
    _save(a, screener_a, preliminary=CLUSTER, answers=CLUSTER_ANSWERS, complete=True)
    _save(b, screener_b, preliminary={"design": "parallel"}, answers=ROB2_ANSWERS, complete=True)
    consensus = services.consensus_open(tool=rob2_dual, study=study, outcome=outcome, user=arbiter)
    assert consensus.spec.variant.startswith("Individually-randomized")  # design disputed
    a.refresh_from_db()
    with pytest.raises(DomainError, match="another variant"):
        services.consensus_accept(
            consensus=consensus, source=a, domain="D1b", user=arbiter, version=consensus.version
        )
    consensus = services.consensus_accept(
        consensus=consensus, source=a, domain="preliminary", user=arbiter, version=1
    )
    consensus = services.consensus_accept(
        consensus=consensus, source=a, domain="D1b", user=arbiter, version=consensus.version
    )
    assert consensus.preliminary["design"] == "cluster"
    assert consensus.domains["D1b"]["final"] == "High" and consensus.answers["1b.2"] == "PY"


def test_the_answers_export_carries_the_licence_notice(rob2, studies, outcome, screener_a):
    a = services.assessment_open(tool=rob2, study=studies[0], outcome=outcome, user=screener_a)
    _save(a, screener_a, preliminary=CLUSTER, answers=CLUSTER_ANSWERS, complete=True)
    lines = selectors.answers_csv(tool=rob2, outcome=outcome).splitlines()
    assert "CC BY-NC-ND 4.0" in lines[0] and lines[0].startswith('"# The RoB 2')
    assert any(
        "1b.2" in line and "knowledge of the intervention assigned" in line for line in lines
    )


# ----------------------------------------------------------------------------- pages


def _url(review, tool, study, outcome):
    return (
        f"/reviews/{review.pk}/rob/tools/{tool.pk}/studies/{study.pk}/assess/?outcome={outcome.pk}"
    )


def test_the_page_switches_to_the_cluster_questions_and_shows_the_licence(
    client_for, review, rob2, studies, outcome, screener_a
):
    client = client_for(screener_a)
    url = _url(review, rob2, studies[0], outcome)
    page = client.get(url).content.decode()
    assert 'id="licence-notice"' in page and "CC BY-NC-ND 4.0" in page
    assert 'name="q_1.1"' in page and 'name="q_1b.1"' not in page
    posted = {"version": 1, "action": "save", "pre_shown": "1", "pre_design": "cluster"}
    posted |= {"pre_aim": "assignment", "q_1.1": "Y", "q_2.2": "N", "outcome": outcome.pk}
    assert client.post(url, posted).status_code == 302
    saved = RobAssessment.objects.get(tool=rob2)
    assert saved.preliminary["design"] == "cluster" and saved.answers == {"2.2": "N"}
    page = client.get(url).content.decode()
    assert 'name="q_1b.1"' in page and "D1b · Bias arising from the timing" in page


def test_the_page_refuses_an_unexplained_judgement_before_the_answers(
    client_for, review, rob2, studies, outcome, screener_a
):
    url = _url(review, rob2, studies[0], outcome)
    posted = {"version": 1, "action": "save", "q_1.2": "Y", "final_D1": "Low"}
    response = client_for(screener_a).post(url, posted | {"outcome": outcome.pk})
    assert response.status_code == 400
    assert "question 1.1 is unanswered" in response.content.decode()
    assert RobAssessment.objects.get(tool=rob2).version == 1


def test_risk_of_bias_templates_have_no_inline_script_or_handler():
    for template in Path("templates/rob").rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", text), template
        assert not re.search(r"\son[a-z]+=", text), template


def test_the_answers_csv_page_downloads_with_the_notice(client_for, review, rob2, viewer):
    response = client_for(viewer).get(f"/reviews/{review.pk}/rob/tools/{rob2.pk}/answers.csv")
    assert response.status_code == 200 and "CC BY-NC-ND 4.0" in response.content.decode()


# ----------------------------------------------------------------------------- API


def test_the_api_gives_variants_and_the_licence_with_the_questions(api_for, review, rob2, viewer):
    body = api_for(viewer).get(f"/api/reviews/{review.pk}/rob/tools/{rob2.pk}/").json()
    assert "CC BY-NC-ND 4.0" in body["licence"]
    assert [f["id"] for f in body["preliminary"]][:1] == ["design"]
    shapes = {v["variant"]: [d["key"] for d in v["domains"]] for v in body["variants"]}
    assert len(shapes) == 6
    assert ["D1", "D1b", "D2", "D3", "D4", "D5"] in shapes.values()


def test_the_api_saves_a_variant_and_refuses_an_unexplained_incomplete_judgement(
    api_for, review, robins_v2, studies, outcome, screener_a
):
    api = api_for(screener_a)
    base = f"/api/reviews/{review.pk}/rob/assessments/"
    opened = api.post(
        base, {"tool": robins_v2.pk, "study": studies[0].pk, "outcome": outcome.pk}, format="json"
    ).json()
    url = f"{base}{opened['id']}/"
    bad = api.patch(
        url, {"version": 1, "answers": {"1.1": "Y"}, "domains": {"D1": {"final": "Serious"}}},
        format="json",
    )  # fmt: skip
    assert bad.status_code == 400 and "domains.D1.justification" in bad.json()
    saved = api.patch(
        url,
        {"version": 1, "preliminary": V2_PRELIMINARY, "answers": V2_ANSWERS, "complete": True},
        format="json",
    )
    assert saved.status_code == 200, saved.json()
    body = saved.json()
    assert body["proposed"]["D1"] == "Critical" and body["overall"] == "Critical"
    assert body["variant"]["domains"] == ["D1", "D2", "D3", "D4", "D5", "D6"]
    proposed = api.post(
        f"/api/reviews/{review.pk}/rob/tools/propose/",
        {"tool": robins_v2.pk, "preliminary": {"B3": "Y"}, "answers": {}},
        format="json",
    ).json()
    assert proposed["overall"] == "Critical" and proposed["stopped"].startswith("Section B: B3")
