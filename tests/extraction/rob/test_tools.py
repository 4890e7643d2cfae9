"""RoB 2 and ROBINS-I algorithms against every path of their decision tables.

Every combination of answers to a domain's questions is enumerated; each must take exactly one
row of the table (so the table is a partition, and every row is reached), and the algorithm
must propose that row's judgement whatever the answers off the row's path are.
"""

import itertools
import subprocess
import sys

import pytest

from extraction.rob.tools import BUILTIN, custom_tool, rob1, rob2, robins_i
from tests.extraction.rob import decision_tables as tables

ROB2 = BUILTIN["rob2"]
ROBINS_I = BUILTIN["robins_i"]


def _combinations(tool, domain_key):
    questions = tool.domain(domain_key).questions
    # Each question ranges over its substantive responses; "not applicable" only where the
    # tool uses it to choose a path (ROBINS-I 4.1 picks the effect of interest).
    choices = [
        [o for o in q.options if o != "NA" or (tool is ROBINS_I and q.id == "4.1")]
        for q in questions
    ]
    for values in itertools.product(*choices):
        yield dict(zip([q.id for q in questions], values, strict=True))


def _matching(rows, answers):
    return [
        (index, judgement)
        for index, (conditions, judgement) in enumerate(rows)
        if all(answers.get(q) in allowed for q, allowed in conditions.items())
    ]


def _check_domain(tool, domain_key, rows, expected=None):
    reached = set()
    count = 0
    for answers in _combinations(tool, domain_key):
        matches = _matching(rows, answers)
        assert len(matches) == 1, (answers, matches)
        index, judgement = matches[0]
        reached.add(index)
        want = expected(answers) if expected else judgement
        got = tool.propose_domain(domain_key, answers)
        assert got.judgement == want, (answers, got, want)
        count += 1
    assert reached == set(range(len(rows))), (
        f"rows never reached: {set(range(len(rows))) - reached}"
    )
    return count


@pytest.mark.parametrize("domain", ["D1", "D3", "D4", "D5"])
def test_rob2_domain_follows_every_path_of_its_published_table(domain):
    assert _check_domain(ROB2, domain, tables.ROB2[domain]) > 0


def test_rob2_domain_2_combines_both_parts_as_published():
    part1, part2 = tables.ROB2["D2_part1"], tables.ROB2["D2_part2"]

    def expected(answers):
        (_, first), (_, second) = _matching(part1, answers)[0], _matching(part2, answers)[0]
        return tables.rob2_d2_combined(first, second)

    reached1, reached2 = set(), set()
    for answers in _combinations(ROB2, "D2"):
        m1, m2 = _matching(part1, answers), _matching(part2, answers)
        assert len(m1) == 1 and len(m2) == 1, answers
        reached1.add(m1[0][0])
        reached2.add(m2[0][0])
        assert ROB2.propose_domain("D2", answers).judgement == expected(answers), answers
    assert reached1 == set(range(len(part1))) and reached2 == set(range(len(part2)))


@pytest.mark.parametrize("domain", [f"D{i}" for i in range(1, 8)])
def test_robins_i_domain_follows_every_path_of_its_decision_table(domain):
    assert _check_domain(ROBINS_I, domain, tables.ROBINS_I[domain]) > 0


@pytest.mark.parametrize("values", list(itertools.product(rob2.JUDGEMENTS, repeat=5)))
def test_rob2_overall_is_the_worst_domain(values):
    judgements = dict(zip(["D1", "D2", "D3", "D4", "D5"], values, strict=True))
    want = "High" if "High" in values else ("Some concerns" if "Some concerns" in values else "Low")
    assert ROB2.propose_overall(judgements) == want


def test_robins_i_overall_ranks_no_information_below_serious():
    base = {f"D{i}": "Low" for i in range(1, 8)}
    assert ROBINS_I.propose_overall(base) == "Low"
    assert ROBINS_I.propose_overall({**base, "D2": "Moderate"}) == "Moderate"
    assert ROBINS_I.propose_overall({**base, "D2": "Moderate", "D5": "No information"}) == (
        "No information"
    )
    assert ROBINS_I.propose_overall({**base, "D3": "Serious", "D5": "No information"}) == "Serious"
    assert ROBINS_I.propose_overall({**base, "D3": "Serious", "D1": "Critical"}) == "Critical"


def test_overall_waits_for_every_domain():
    assert ROB2.propose_overall({"D1": "Low", "D2": "Low"}) is None


def test_rob1_overall_follows_the_handbook():
    base = {f"D{i}": "Low" for i in range(1, 8)}
    assert BUILTIN["rob1"].propose_overall(base) == "Low"
    assert BUILTIN["rob1"].propose_overall({**base, "D3": "Unclear"}) == "Unclear"
    assert BUILTIN["rob1"].propose_overall({**base, "D3": "Unclear", "D4": "High"}) == "High"
    assert len(rob1.DOMAINS) == 7 and not BUILTIN["rob1"].has_algorithm


def test_an_algorithm_names_the_question_it_still_needs():
    proposal = ROB2.propose_domain("D1", {"1.2": "Y", "1.1": "Y"})
    assert proposal.judgement is None and proposal.needs == "1.3"
    # "Not applicable" on the path is not an answer.
    assert ROB2.propose_domain("D3", {"3.1": "N", "3.2": "NA"}).needs == "3.2"
    # Answers off the path are not needed.
    assert ROB2.propose_domain("D1", {"1.2": "N"}).judgement == "High"


def test_rob2_shows_follow_up_questions_only_when_the_guidance_asks_them():
    q23 = ROB2.question("2.3")
    assert not q23.applies({"2.1": "N", "2.2": "PN"})
    assert q23.applies({"2.1": "N", "2.2": "NI"})
    assert ROB2.question("2.7").applies({"2.6": "NI"})
    assert not ROB2.question("3.2").applies({"3.1": "Y"})
    assert "NI" not in ROB2.question("3.2").options


def test_rob2_has_the_official_twenty_two_signalling_questions():
    counts = [len(d.questions) for d in ROB2.domains]
    assert counts == [3, 7, 4, 5, 3]
    assert ROB2.per_result and not ROBINS_I.per_result
    assert [len(d.questions) for d in ROBINS_I.domains] == [8, 5, 3, 6, 5, 4, 3]
    assert set(ROBINS_I.judgements) == {
        "Low",
        "Moderate",
        "Serious",
        "Critical",
        "No information",
    }
    assert robins_i.TOOL.robvis_template == "ROBINS-I"


def test_a_custom_tool_has_the_leads_domains_and_no_algorithm():
    tool = custom_tool(
        key="custom-1",
        name="Newcastle-Ottawa (short)",
        definition={
            "judgements": ["Good", "Fair", "Poor"],
            "domains": [{"name": "Selection", "questions": ["Representative cohort?"]}],
        },
    )
    assert tool.domains[0].questions[0].id == "1.1"
    assert tool.propose_domain("D1", {"1.1": "Y"}).judgement is None
    assert tool.propose_overall({"D1": "Good"}) is None


def test_the_tools_import_no_django():
    code = (
        "import sys, extraction.rob.tools, extraction.rob.plots; "
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), "
        "'django imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
