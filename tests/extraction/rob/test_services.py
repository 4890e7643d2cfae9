import pytest

from extraction.rob import selectors, services
from extraction.rob.models import RobAssessment, RobTool
from reviewapp.errors import DomainError
from tests.extraction.rob.conftest import ROB2_ANSWERS, ROB2_EXPECTED

pytestmark = pytest.mark.django_db


def _complete(assessment, user, answers=ROB2_ANSWERS, **kwargs):
    return services.assessment_save(
        assessment=assessment,
        user=user,
        version=assessment.version,
        answers=answers,
        complete=True,
        **kwargs,
    )


def test_saving_answers_stores_the_proposed_judgements(rob2, studies, outcome, screener_a):
    a = services.assessment_open(tool=rob2, study=studies[0], outcome=outcome, user=screener_a)
    saved = _complete(a, screener_a)
    assert {k: saved.domains[k]["proposed"] for k in saved.domains} == {
        k: v for k, v in ROB2_EXPECTED.items() if k != "overall"
    }
    assert saved.overall_proposed == saved.overall == "High"
    assert saved.status == "complete" and saved.version == 2


def test_rob2_is_assessed_per_result(rob2, studies, screener_a):
    with pytest.raises(DomainError, match="per result"):
        services.assessment_open(tool=rob2, study=studies[0], outcome=None, user=screener_a)


def test_opening_twice_gives_the_same_assessment(rob2, studies, outcome, screener_a, screener_b):
    a = services.assessment_open(tool=rob2, study=studies[0], outcome=outcome, user=screener_a)
    b = services.assessment_open(tool=rob2, study=studies[0], outcome=outcome, user=screener_b)
    assert a.pk == b.pk and a.kind == RobAssessment.Kind.SINGLE and a.assessor is None


def test_an_override_needs_a_justification_and_keeps_both(rob2, studies, outcome, screener_a):
    a = services.assessment_open(tool=rob2, study=studies[0], outcome=outcome, user=screener_a)
    with pytest.raises(DomainError, match="say why") as exc:
        _complete(a, screener_a, domains={"D2": {"final": "Some concerns"}})
    assert exc.value.field == "domains.D2.justification"
    a.refresh_from_db()
    assert a.answers == {} and a.version == 1  # nothing saved
    saved = _complete(
        a,
        screener_a,
        domains={"D2": {"final": "Some concerns", "justification": "Deviations were minor"}},
    )
    assert saved.domains["D2"] == {
        "proposed": "High",
        "final": "Some concerns",
        "justification": "Deviations were minor",
        "support": "",
    }
    assert saved.overall == "Some concerns"  # the overall follows the final judgements


def test_an_overridden_overall_needs_a_justification(rob2, studies, outcome, screener_a):
    a = services.assessment_open(tool=rob2, study=studies[0], outcome=outcome, user=screener_a)
    with pytest.raises(DomainError) as exc:
        _complete(a, screener_a, overall="Low")
    assert exc.value.field == "overall_justification"
    saved = _complete(a, screener_a, overall="Low", overall_justification="Reviewed with PI")
    assert (saved.overall_proposed, saved.overall) == ("High", "Low")


def test_a_stale_version_is_refused_with_both_versions(
    rob2, studies, outcome, screener_a, screener_b
):
    a = services.assessment_open(tool=rob2, study=studies[0], outcome=outcome, user=screener_a)
    stale = RobAssessment.objects.get(pk=a.pk)
    _complete(a, screener_a)
    with pytest.raises(services.VersionConflict) as exc:
        services.assessment_save(
            assessment=stale, user=screener_b, version=stale.version, answers={"1.1": "N"}
        )
    assert exc.value.current.answers == ROB2_ANSWERS
    assert exc.value.submitted["answers"] == {"1.1": "N"}
    assert "screener_a saved this assessment" in exc.value.message
    a.refresh_from_db()
    assert a.answers == ROB2_ANSWERS and a.version == 2


def test_bad_answers_name_the_question_and_save_nothing(rob2, studies, outcome, screener_a):
    a = services.assessment_open(tool=rob2, study=studies[0], outcome=outcome, user=screener_a)
    with pytest.raises(DomainError, match="Question 3.2: 'NI' is not one of"):
        services.assessment_save(
            assessment=a, user=screener_a, version=1, answers={"3.1": "N", "3.2": "NI"}
        )
    with pytest.raises(DomainError, match="no question 9.9"):
        services.assessment_save(assessment=a, user=screener_a, version=1, answers={"9.9": "Y"})
    with pytest.raises(DomainError, match="judge every domain"):
        services.assessment_save(
            assessment=a, user=screener_a, version=1, answers={"1.1": "Y"}, complete=True
        )
    a.refresh_from_db()
    assert a.answers == {} and a.status == "draft"


def test_rob1_domains_are_judged_directly_with_support(review, lead, studies, screener_a):
    tool = services.tool_create(review=review, user=lead, kind=RobTool.Kind.ROB1)
    a = services.assessment_open(tool=tool, study=studies[0], outcome=None, user=screener_a)
    domains = {f"D{i}": {"final": "Low", "support": f"quote {i}"} for i in range(1, 8)}
    domains["D3"] = {"final": "High", "support": "Peer support cannot be blinded"}
    saved = services.assessment_save(
        assessment=a, user=screener_a, version=1, domains=domains, complete=True
    )
    assert saved.overall == "High" and saved.domains["D3"]["support"].startswith("Peer")
    with pytest.raises(DomainError, match="not a judgement"):
        services.assessment_save(
            assessment=saved, user=screener_a, version=2, domains={"D1": {"final": "Some concerns"}}
        )


def test_custom_tools_are_validated(review, lead):
    with pytest.raises(DomainError, match="at least two judgement"):
        services.tool_create(
            review=review, user=lead, kind="custom", name="X", definition={"judgements": ["A"]}
        )
    tool = services.tool_create(
        review=review,
        user=lead,
        kind="custom",
        name="CASP (short)",
        definition={
            "judgements": ["Yes", "Can't tell", "No"],
            "domains": [{"name": "Validity", "questions": ["Clear aims?", "Appropriate design?"]}],
        },
    )
    assert [q.text for q in tool.spec.domains[0].questions] == [
        "Clear aims?",
        "Appropriate design?",
    ]
    with pytest.raises(DomainError, match="already has a tool"):
        services.tool_create(
            review=review, user=lead, kind="custom", name="CASP (short)", definition=tool.definition
        )


def test_dual_assessment_builds_consensus_from_agreement_and_chosen_sides(
    rob2_dual, studies, outcome, screener_a, screener_b, arbiter
):
    study = studies[0]
    a = services.assessment_open(tool=rob2_dual, study=study, outcome=outcome, user=screener_a)
    b = services.assessment_open(tool=rob2_dual, study=study, outcome=outcome, user=screener_b)
    assert a.pk != b.pk and a.kind == b.kind == "independent"
    with pytest.raises(DomainError, match="two independent"):
        RobAssessment.objects.filter(pk=b.pk).delete()
        services.consensus_open(tool=rob2_dual, study=study, outcome=outcome, user=arbiter)
    b = services.assessment_open(tool=rob2_dual, study=study, outcome=outcome, user=screener_b)
    _complete(a, screener_a)
    _complete(b, screener_b, answers={**ROB2_ANSWERS, "2.5": "Y"})  # D2 some concerns for B
    consensus = services.consensus_open(tool=rob2_dual, study=study, outcome=outcome, user=arbiter)
    assert "2.5" not in consensus.answers and consensus.answers["1.1"] == "Y"
    assert consensus.domains["D1"]["final"] == "Low" and not consensus.domains["D2"]["final"]
    # Nothing feeds the plots until the consensus is complete.
    assert selectors.rob_overall_by_study(review=rob2_dual.review) == {}
    b.refresh_from_db()
    consensus = services.consensus_accept(
        consensus=consensus, source=b, domain="D2", user=arbiter, version=consensus.version
    )
    assert consensus.answers["2.5"] == "Y" and consensus.domains["D2"]["final"] == "Some concerns"
    consensus = _complete(consensus, arbiter, answers=consensus.answers)
    assert selectors.rob_overall_by_study(review=rob2_dual.review) == {study.pk: "Some concerns"}


def test_rob_overall_by_study_takes_the_worst_result_and_tool(
    review, lead, rob2, studies, outcome, screener_a
):
    from extraction.models import Outcome

    other = Outcome.objects.create(review=review, name="Recovery", outcome_type="continuous")
    low = {**ROB2_ANSWERS, "2.1": "N", "2.2": "N", "5.1": "Y"}
    for result, answers in ((outcome, low), (other, ROB2_ANSWERS)):
        a = services.assessment_open(tool=rob2, study=studies[0], outcome=result, user=screener_a)
        _complete(a, screener_a, answers=answers)
    assert selectors.rob_overall_by_study(review=review, outcome=outcome) == {studies[0].pk: "Low"}
    assert selectors.rob_overall_by_study(review=review, outcome=other) == {studies[0].pk: "High"}
    assert selectors.rob_overall_by_study(review=review) == {studies[0].pk: "High"}
    assert {"High", "Serious", "Critical"} <= selectors.HIGH_RISK


def test_robvis_csv_has_the_rob2_template_columns(rob2, studies, outcome, screener_a):
    a = services.assessment_open(tool=rob2, study=studies[1], outcome=outcome, user=screener_a)
    _complete(a, screener_a)
    csv_text = selectors.robvis_csv(tool=rob2, outcome=outcome)
    assert csv_text.splitlines() == [
        "Study,D1,D2,D3,D4,D5,Overall,Weight",
        "Mahlke 2017,Low,High,Low,Low,Some concerns,High,1",
    ]


def test_history_records_every_save(rob2, studies, outcome, screener_a):
    from reviewapp.selectors import review_history

    a = services.assessment_open(tool=rob2, study=studies[0], outcome=outcome, user=screener_a)
    _complete(a, screener_a)
    assert a.history.count() == 2
    whats = {e.what for e in review_history(review=rob2.review, user=screener_a)}
    assert {"Risk-of-bias tool", "Risk-of-bias assessment"} <= whats


def test_switching_a_tool_to_dual_keeps_single_assessments_out_of_the_plots(
    rob2, studies, outcome, screener_a
):
    a = services.assessment_open(tool=rob2, study=studies[0], outcome=outcome, user=screener_a)
    _complete(a, screener_a)
    assert len(selectors.plot_rows(tool=rob2, outcome=outcome)) == 1
    services.tool_update(tool=rob2, mode=RobTool.Mode.DUAL)
    rob2.refresh_from_db()
    assert selectors.plot_rows(tool=rob2, outcome=outcome) == []


def test_a_domain_is_judged_in_every_study_at_once(review, lead, studies, screener_a):
    tool = services.tool_create(review=review, user=lead, kind=RobTool.Kind.ROB1)
    first = services.assessment_open(tool=tool, study=studies[0], outcome=None, user=screener_a)
    services.assessment_save(
        assessment=first, user=screener_a, version=1, domains={"D3": {"final": "Low"}}
    )
    result = services.domain_judge_all(
        tool=tool,
        studies=studies,
        outcome=None,
        user=screener_a,
        domain="D3",
        final="High",
        support="Peer support cannot be blinded",
    )
    assert result == {"done": ["Mahlke 2017", "Simpson 2014"], "skipped": ["Chinman 2015"]}
    d3 = {a.study.label: a.domains["D3"] for a in RobAssessment.objects.filter(tool=tool)}
    assert d3["Mahlke 2017"]["final"] == "High"
    assert d3["Mahlke 2017"]["support"] == "Peer support cannot be blinded"
    assert d3["Chinman 2015"]["final"] == "Low"
    with pytest.raises(DomainError, match="signalling questions"):
        rob2 = services.tool_create(review=review, user=lead, kind=RobTool.Kind.ROB2)
        services.domain_judge_all(
            tool=rob2, studies=studies, outcome=None, user=lead, domain="D1", final="Low"
        )


def test_rob_judgements_by_study_give_the_domains_for_a_forest_plot(
    rob2, studies, outcome, screener_a
):
    a = services.assessment_open(tool=rob2, study=studies[0], outcome=outcome, user=screener_a)
    _complete(a, screener_a)
    rob = selectors.rob_judgements_by_study(review=rob2.review, outcome=outcome)
    assert rob[studies[0].pk].domains == {k: v for k, v in ROB2_EXPECTED.items() if k != "overall"}
    assert rob[studies[0].pk].overall == "High"
    assert rob[studies[0].pk].domain_names["D1"].startswith("Bias arising")
    # Without the outcome a per-result judgement does not stand for the study.
    assert selectors.rob_judgements_by_study(review=rob2.review) == {}


def test_a_tool_is_deleted_only_while_unused(review, lead, rob2, studies, outcome, screener_a):
    a = services.assessment_open(tool=rob2, study=studies[0], outcome=outcome, user=screener_a)
    services.assessment_save(assessment=a, user=screener_a, version=1, answers={"1.1": "Y"})
    with pytest.raises(DomainError, match="1 assessment with answers"):
        services.tool_delete(tool=rob2)
    assert RobTool.objects.filter(pk=rob2.pk).exists()
    spare = services.tool_create(review=review, user=lead, kind=RobTool.Kind.ROB1)
    services.assessment_open(tool=spare, study=studies[0], outcome=None, user=screener_a)
    services.tool_delete(tool=spare)  # opened but empty: nothing is lost
    assert not RobTool.objects.filter(pk=spare.pk).exists()


def test_the_forest_plot_gets_each_studys_domain_judgements(rob2, studies, outcome, screener_a):
    from types import SimpleNamespace

    from analysis.inputs import rob_by_study, rob_domains_by_study

    a = services.assessment_open(tool=rob2, study=studies[1], outcome=outcome, user=screener_a)
    _complete(a, screener_a)
    analysis = SimpleNamespace(review=rob2.review, outcome=outcome)
    assert rob_domains_by_study(analysis) == {
        studies[1].pk: {k: v for k, v in ROB2_EXPECTED.items() if k != "overall"}
    }
    assert rob_by_study(analysis) == {studies[1].pk: "High"}
