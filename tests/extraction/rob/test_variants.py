"""RoB 2's variants (effect of adhering; cluster-randomised; crossover) and ROBINS-I V2
against every path of their decision tables (tests/extraction/rob/decision_tables.py, written
from the published algorithms independently of the code).

Two enumerations per domain:
- the full product of every question's responses ("not applicable" only where the tool routes
  on it), where that product is small enough (under 400,000): every combination takes exactly
  one row, every row is reached, and the algorithm proposes that row's judgement whatever the
  answers off the row's path;
- the valid answer sets: each question answered exactly when it applies given the answers
  before it (its published condition), else left blank. The algorithm must reach a judgement
  on every one of them, so a condition never hides a question the algorithm needs.
"""

import itertools
import math

import pytest

from extraction.rob.tools import BUILTIN
from extraction.rob.tools.base import NA
from tests.extraction.rob import decision_tables as t

ROB2 = BUILTIN["rob2"]
V2 = BUILTIN["robins_i_v2"]
FULL_PRODUCT_LIMIT = 400_000
ALL_DEVIATIONS = ["non_protocol", "implementation", "non_adherence"]


def _choices(question):
    return [o for o in question.options if o != NA or question.na_routes]


def _product(domain):
    questions = domain.questions
    for values in itertools.product(*[_choices(q) for q in questions]):
        yield dict(zip([q.id for q in questions], values, strict=True))


def _valid(domain):
    """Answer sets where exactly the applicable questions are answered."""

    def walk(index, answers):
        if index == len(domain.questions):
            yield dict(answers)
            return
        question = domain.questions[index]
        if not question.applies(answers):
            yield from walk(index + 1, answers)
            return
        for option in _choices(question):
            answers[question.id] = option
            yield from walk(index + 1, answers)
            del answers[question.id]

    yield from walk(0, {})


def _matching(rows, answers):
    return [
        (i, judgement)
        for i, (conditions, judgement) in enumerate(rows)
        if all(answers.get(q) in allowed for q, allowed in conditions.items())
    ]


def _proposal(tool, key, answers):
    got = tool.propose_domain(key, answers)
    return got.judgement if got.judgement else f"needs:{got.needs}"


def check_every_combination(tool, key, rows, expected=None):
    domain = tool.domain(key)
    size = math.prod(len(_choices(q)) for q in domain.questions)
    assert size <= FULL_PRODUCT_LIMIT
    reached = set()
    for answers in _product(domain):
        matches = _matching(rows, answers)
        assert len(matches) == 1, (answers, matches)
        index, judgement = matches[0]
        reached.add(index)
        want = expected(answers) if expected else judgement
        assert _proposal(tool, key, answers) == want, (answers, want)
    assert reached == set(range(len(rows))), set(range(len(rows))) - reached
    return size


def check_valid_answer_sets(tool, key, rows=None):
    count = 0
    for answers in _valid(tool.domain(key)):
        got = tool.propose_domain(key, answers)
        # An applicable question is never left out: the only question an algorithm may still
        # need is one answered "not applicable" where an answer is required (RoB 2's 2.6).
        assert got.judgement or answers.get(got.needs) == NA, (answers, got)
        if rows is not None:
            matches = _matching(rows, answers)
            want = _proposal(tool, key, answers)
            assert len(matches) == 1 and matches[0][1] == want, (answers, matches)
        count += 1
    return count


def rob2_variant(design, aim="assignment", deviations=ALL_DEVIATIONS):
    return ROB2.resolve({"design": design, "aim": aim, "deviations": deviations})


# Which table each domain of each variant follows. D2 of the assignment variants is two
# tables combined (checked in test_tools.py for individually randomised designs).
ROB2_TABLES = {
    ("parallel", "D1"): t.ROB2["D1"],
    ("parallel", "D3"): t.ROB2["D3"],
    ("parallel", "D4"): t.ROB2["D4"],
    ("parallel", "D5"): t.ROB2["D5"],
    ("crossover", "D1"): t.ROB2["D1"],
    ("crossover", "DS"): t.ROB2_CROSSOVER_DS,
    ("crossover", "D3"): t.ROB2["D3"],
    ("crossover", "D4"): t.ROB2["D4"],
    ("crossover", "D5"): t.ROB2_CROSSOVER_D5,
    ("cluster", "D1"): t.ROB2_CLUSTER_D1A,
    ("cluster", "D1b"): t.ROB2_CLUSTER_D1B,
    ("cluster", "D3"): t.ROB2_CLUSTER_D3,
    ("cluster", "D4"): t.ROB2_CLUSTER_D4,
    ("cluster", "D5"): t.ROB2["D5"],
}


@pytest.mark.parametrize("design,key", sorted(ROB2_TABLES))
def test_rob2_design_domains_follow_every_path_of_their_table(design, key):
    tool = rob2_variant(design)
    assert check_every_combination(tool, key, ROB2_TABLES[(design, key)]) > 0
    assert check_valid_answer_sets(tool, key, ROB2_TABLES[(design, key)]) > 0


@pytest.mark.parametrize("design", ["parallel", "cluster", "crossover"])
def test_rob2_adhering_domain_2_follows_every_path_of_the_guidance_figure(design):
    tool = rob2_variant(design, "adhering")
    # 2.1, 2.2: five responses; 2.3-2.6 also "not applicable": 5 x 5 x 6^4.
    assert check_every_combination(tool, "D2", t.ROB2_D2_ADHERING) == 32_400
    assert check_valid_answer_sets(tool, "D2", t.ROB2_D2_ADHERING) > 0


def test_rob2_cluster_domain_2_combines_both_parts():
    tool = rob2_variant("cluster")

    def expected(answers):
        (_, first) = _matching(t.ROB2_CLUSTER_D2_PART1, answers)[0]
        (_, second) = _matching(t.ROB2["D2_part2"], answers)[0]
        return t.rob2_d2_combined(first, second)

    reached = set()
    for answers in _product(tool.domain("D2")):
        part1 = _matching(t.ROB2_CLUSTER_D2_PART1, answers)
        assert len(part1) == 1, answers
        reached.add(part1[0][0])
        assert _proposal(tool, "D2", answers) == expected(answers), answers
    assert reached == set(range(len(t.ROB2_CLUSTER_D2_PART1)))
    assert check_valid_answer_sets(tool, "D2") > 0


def test_rob2_adhering_questions_apply_only_to_the_deviations_addressed():
    only_adherence = rob2_variant("parallel", "adhering", ["non_adherence"])
    aware = {"2.1": "Y", "2.2": "N"}
    assert not only_adherence.question("2.3").applies(aware)
    assert not only_adherence.question("2.4").applies(aware)
    assert only_adherence.question("2.5").applies(aware)
    # Not applicable routes like "no problem": the adherence answer decides.
    answers = {**aware, "2.3": "NA", "2.4": "NA", "2.5": "PN"}
    assert only_adherence.propose_domain("D2", answers).judgement == "Low"
    needs = only_adherence.propose_domain("D2", {**answers, "2.5": "Y"})
    assert needs.judgement is None and needs.needs == "2.6"


def test_rob2_variants_have_the_published_domains_and_robvis_templates():
    shapes = {
        (design, aim): (
            [d.key for d in rob2_variant(design, aim).domains],
            rob2_variant(design, aim).robvis_template,
        )
        for design in ("parallel", "cluster", "crossover")
        for aim in ("assignment", "adhering")
    }
    assert shapes[("parallel", "assignment")] == (["D1", "D2", "D3", "D4", "D5"], "ROB2")
    assert shapes[("cluster", "adhering")] == (
        ["D1", "D1b", "D2", "D3", "D4", "D5"],
        "ROB2-Cluster",
    )
    assert shapes[("crossover", "assignment")] == (
        ["D1", "DS", "D2", "D3", "D4", "D5"],
        "Generic",
    )
    cluster = rob2_variant("cluster")
    assert [q.id for q in cluster.domain("D2").questions][:3] == ["2.1a", "2.1b", "2.2"]
    assert [len(d.questions) for d in rob2_variant("crossover").domains] == [3, 3, 7, 4, 5, 4]
    # Without preliminary considerations: the parallel-group, effect-of-assignment variant.
    assert [d.key for d in ROB2.resolve({}).domains] == ["D1", "D2", "D3", "D4", "D5"]


V2_TABLES = {
    ("no", "D1"): t.V2_D1_ITT,
    ("yes", "D1"): t.V2_D1_PER_PROTOCOL,
    ("no", "D2"): t.V2_D2,
    ("no", "D3"): t.V2_D3,
    ("no", "D5"): t.V2_D5,
    ("no", "D6"): t.V2_D6,
}


@pytest.mark.parametrize("c4,key", sorted(V2_TABLES))
def test_robins_i_v2_domains_follow_every_path_of_their_flowchart(c4, key):
    tool = V2.resolve({"C4": c4})
    assert check_every_combination(tool, key, V2_TABLES[(c4, key)]) > 0
    assert check_valid_answer_sets(tool, key, V2_TABLES[(c4, key)]) > 0


def test_robins_i_v2_missing_data_follows_every_valid_path_of_its_flowchart():
    # Eleven questions: the full product (39 million) is out of reach; every valid answer set
    # (questions answered exactly where their conditions say) is enumerated instead, and each
    # row of the table must be reached.
    tool = V2.resolve({})
    reached = set()
    count = 0
    for answers in _valid(tool.domain("D4")):
        matches = _matching(t.V2_D4, answers)
        assert len(matches) == 1, (answers, matches)
        reached.add(matches[0][0])
        assert _proposal(tool, "D4", answers) == matches[0][1], answers
        count += 1
    assert reached == set(range(len(t.V2_D4)))
    assert count > 1000


def test_robins_i_v2_reaches_critical_where_the_tool_specifies_it():
    itt = V2.resolve({"C4": "no"})
    criticals = {
        key: any(
            itt.propose_domain(key, answers).judgement == "Critical"
            for answers in _valid(itt.domain(key))
        )
        for key in ("D1", "D2", "D3", "D4", "D5", "D6")
    }
    # Domain 5 (measurement) has no critical terminal in the flowchart; every other has.
    assert criticals == {"D1": True, "D2": True, "D3": True, "D4": True, "D5": False, "D6": True}
    moderate_missing = {"4.1": "N", "4.2": "Y", "4.3": "Y", "4.4": "Y", "4.5": "Y"}
    moderate_missing |= {"4.6": "Y", "4.11": "N"}
    assert itt.propose_domain("D4", moderate_missing).judgement == "Moderate"


@pytest.mark.parametrize("b1,b2,b3", list(itertools.product(["Y", "PY", "PN", "N"], repeat=3)))
def test_robins_i_v2_section_b_stops_at_critical(b1, b2, b3):
    resolved = V2.resolve({"B1": b1, "B2": b2, "B3": b3})
    stops = (b1 in ("N", "PN") and b2 in ("Y", "PY")) or b3 in ("Y", "PY")
    assert bool(resolved.stopped) == stops
    if stops:
        assert resolved.domains == () and resolved.propose_overall({}) == "Critical"
    else:
        assert [d.key for d in resolved.domains] == ["D1", "D2", "D3", "D4", "D5", "D6"]


def test_robins_i_v2_overall_is_the_worst_domain_on_every_combination():
    tool = V2.resolve({})
    options = [tool.domain_judgements(d.key) for d in tool.domains]
    count = 0
    for values in itertools.product(*options):
        judgements = dict(zip([d.key for d in tool.domains], values, strict=True))
        assert tool.propose_overall(judgements) == t.v2_overall(values), values
        count += 1
    assert count == 4**6


def test_robins_i_v2_has_six_domains_and_domain_1_is_never_plainly_low():
    itt, pp = V2.resolve({"C4": "no"}), V2.resolve({"C4": "yes"})
    assert [len(d.questions) for d in itt.domains] == [4, 5, 8, 11, 3, 4]
    assert [len(d.questions) for d in pp.domains][0] == 5
    for tool in (itt, pp):
        results = {tool.propose_domain("D1", a).judgement for a in _valid(tool.domain("D1"))}
        assert "Low" not in results and t.LX in results
    assert V2.per_result and V2.robvis_template == "Generic"
    assert "CC BY-NC-ND 4.0" in V2.licence and "CC BY-NC-ND 4.0" in ROB2.licence
