"""ROBINS-I: risk of bias in non-randomised studies of interventions.

Signalling questions as published in Sterne JAC, Hernán MA, Reeves BC, et al. ROBINS-I: a tool
for assessing risk of bias in non-randomised studies of interventions. BMJ 2016;355:i4919, and
its detailed guidance (Sterne, Higgins, Elbers, Reeves, 20 October 2016). The 2016 guidance
gives each domain's judgement as criteria rather than a flowchart; the algorithms below follow
those criteria question by question (docs/risk-of-bias.md lays each out as a decision table).
Where the answers on the path cannot tell two judgements apart (e.g. "serious" from "critical",
which the guidance reserves for problems the assessor must weigh), the milder is proposed and
the assessor overrides. A "no information" answer that decides the path proposes
"No information".
"""

from collections.abc import Mapping

from extraction.rob.tools.base import (
    NI,
    NO,
    STANDARD,
    STANDARD_NA,
    YES,
    Answers,
    Domain,
    Question,
    Tool,
    need,
)

LOW, MODERATE, SERIOUS, CRITICAL, NO_INFO = (
    "Low",
    "Moderate",
    "Serious",
    "Critical",
    "No information",
)
JUDGEMENTS = (LOW, MODERATE, SERIOUS, CRITICAL, NO_INFO)
YES_NI = YES | {NI}
NO_NI = NO | {NI}


def _is(a: Answers, qid: str, values: frozenset[str]) -> bool:
    return a.get(qid) in values


def _time_varying(a: Answers) -> bool:
    """Whether domain 1 is assessed for time-varying confounding (1.7-1.8) rather than baseline
    confounding (1.4-1.6): the analysis split follow-up by intervention received (1.2) and
    switches were (or may have been) related to prognostic factors (1.3)."""
    return _is(a, "1.2", YES) and _is(a, "1.3", YES_NI)


def domain1(a: Answers) -> str:
    potential = need(a, "1.1")
    if potential in NO:
        return LOW
    if potential == NI:
        return NO_INFO
    if need(a, "1.2") in YES and need(a, "1.3") in YES_NI:
        adjusted = need(a, "1.7")
        if adjusted in NO:
            return SERIOUS
        if adjusted == NI:
            return NO_INFO
        valid = need(a, "1.8")
        return MODERATE if valid in YES else (SERIOUS if valid in NO else NO_INFO)
    controlled = need(a, "1.4")
    post_intervention = need(a, "1.6")
    if controlled in NO or post_intervention in YES:
        return SERIOUS
    if controlled == NI:
        return NO_INFO
    valid = need(a, "1.5")
    if valid in NO:
        return SERIOUS
    if valid == NI or post_intervention == NI:
        return NO_INFO
    return MODERATE


def _selection_problem(a: Answers) -> str:
    """'yes', 'no' or 'unknown': selection into the study related to intervention and outcome."""
    after_start = need(a, "2.1")
    if after_start in NO:
        return "no"
    if after_start == NI:
        return "unknown"
    with_intervention = need(a, "2.2")
    if with_intervention in NO:
        return "no"
    with_outcome = need(a, "2.3")
    if with_outcome in NO:
        return "no"
    if with_intervention == NI or with_outcome == NI:
        return "unknown"
    return "yes"


def domain2(a: Answers) -> str:
    selection = _selection_problem(a)
    coincide = need(a, "2.4")
    if selection == "yes" or coincide in NO:
        corrected = need(a, "2.5")
        if corrected in YES:
            return MODERATE
        return SERIOUS if corrected in NO else NO_INFO
    if selection == "unknown" or coincide == NI:
        return NO_INFO
    return LOW


def domain3(a: Answers) -> str:
    defined, recorded, affected = need(a, "3.1"), need(a, "3.2"), need(a, "3.3")
    if defined in NO or affected in YES:
        return SERIOUS
    if NI in (defined, affected):
        return NO_INFO
    if recorded in YES:
        return LOW
    return MODERATE if recorded in NO else NO_INFO


def domain4(a: Answers) -> str:
    beyond_usual = a.get("4.1") or ""
    if beyond_usual and beyond_usual != "NA":
        # Effect of assignment to intervention.
        beyond_usual = need(a, "4.1")
        if beyond_usual in NO:
            return LOW
        if beyond_usual == NI:
            return NO_INFO
        unbalanced = need(a, "4.2")
        if unbalanced in NO:
            return MODERATE
        return SERIOUS if unbalanced in YES else NO_INFO
    # Effect of starting and adhering to intervention (4.1 not applicable).
    fidelity = [need(a, q) for q in ("4.3", "4.4", "4.5")]
    if any(value in NO for value in fidelity):
        analysis = need(a, "4.6")
        if analysis in YES:
            return MODERATE
        return SERIOUS if analysis in NO else NO_INFO
    return NO_INFO if NI in fidelity else LOW


def domain5(a: Answers) -> str:
    available, on_intervention, on_other = need(a, "5.1"), need(a, "5.2"), need(a, "5.3")
    if available in YES and on_intervention in NO and on_other in NO:
        return LOW
    if available in NO or on_intervention in YES or on_other in YES:
        if need(a, "5.5") in YES:
            return LOW  # the analysis addressed missing data and is robust to it
        similar = need(a, "5.4")
        if similar in YES:
            return LOW  # proportions and reasons similar across interventions
        return SERIOUS if similar in NO else NO_INFO
    return NO_INFO


def domain6(a: Answers) -> str:
    influenced, aware = need(a, "6.1"), need(a, "6.2")
    comparable, systematic = need(a, "6.3"), need(a, "6.4")
    if comparable in NO or systematic in YES or (influenced in YES and aware in YES):
        return SERIOUS
    knowledge_ok = influenced in NO or aware in NO
    if knowledge_ok and comparable in YES and systematic in NO:
        return LOW
    if influenced in YES and aware == NI and comparable in YES and systematic in NO:
        return MODERATE  # outcome open to influence, assessors' awareness unknown
    return NO_INFO


def domain7(a: Answers) -> str:
    answers = [need(a, q) for q in ("7.1", "7.2", "7.3")]
    if any(value in YES for value in answers):
        return SERIOUS
    if all(value in NO for value in answers):
        return LOW
    return MODERATE  # no sign of selection, but not all possibilities could be ruled out


def overall(judgements: Mapping[str, str]) -> str:
    """Sterne et al. 2016, table 3: the worst domain, with 'no information' below 'serious'."""
    values = set(judgements.values())
    for level in (CRITICAL, SERIOUS, NO_INFO, MODERATE):
        if level in values:
            return level
    return LOW


DOMAINS = (
    Domain(
        "D1",
        "Bias due to confounding",
        (
            Question(
                "1.1",
                "Is there potential for confounding of the effect of intervention in this study?",
            ),
            Question(
                "1.2",
                "Was the analysis based on splitting participants' follow up time according to "
                "intervention received?",
                STANDARD_NA,
                lambda a: _is(a, "1.1", YES),
                "If Y/PY to 1.1",
            ),
            Question(
                "1.3",
                "Were intervention discontinuations or switches likely to be related to factors "
                "that are prognostic for the outcome?",
                STANDARD_NA,
                lambda a: _is(a, "1.1", YES) and _is(a, "1.2", YES),
                "If Y/PY to 1.2",
            ),
            Question(
                "1.4",
                "Did the authors use an appropriate analysis method that controlled for all the "
                "important confounding domains?",
                STANDARD_NA,
                lambda a: _is(a, "1.1", YES) and not _time_varying(a),
                "If N/PN to 1.2, or N/PN to 1.3 (baseline confounding)",
            ),
            Question(
                "1.5",
                "Were confounding domains that were controlled for measured validly and reliably "
                "by the variables available in this study?",
                STANDARD_NA,
                lambda a: _is(a, "1.1", YES) and not _time_varying(a) and _is(a, "1.4", YES),
                "If Y/PY to 1.4",
            ),
            Question(
                "1.6",
                "Did the authors control for any post-intervention variables that could have "
                "been affected by the intervention?",
                STANDARD_NA,
                lambda a: _is(a, "1.1", YES) and not _time_varying(a),
                "If N/PN to 1.2, or N/PN to 1.3 (baseline confounding)",
            ),
            Question(
                "1.7",
                "Did the authors use an appropriate analysis method that adjusted for all the "
                "important confounding domains and for time-varying confounding?",
                STANDARD_NA,
                lambda a: _is(a, "1.1", YES) and _time_varying(a),
                "If Y/PY to 1.3 (time-varying confounding)",
            ),
            Question(
                "1.8",
                "Were confounding domains that were adjusted for measured validly and reliably "
                "by the variables available in this study?",
                STANDARD_NA,
                lambda a: _is(a, "1.1", YES) and _time_varying(a) and _is(a, "1.7", YES),
                "If Y/PY to 1.7",
            ),
        ),
        domain1,
    ),
    Domain(
        "D2",
        "Bias in selection of participants into the study",
        (
            Question(
                "2.1",
                "Was selection of participants into the study (or into the analysis) based on "
                "participant characteristics observed after the start of intervention?",
            ),
            Question(
                "2.2",
                "Were the post-intervention variables that influenced selection likely to be "
                "associated with intervention?",
                STANDARD_NA,
                lambda a: _is(a, "2.1", YES),
                "If Y/PY to 2.1",
            ),
            Question(
                "2.3",
                "Were the post-intervention variables that influenced selection likely to be "
                "influenced by the outcome or a cause of the outcome?",
                STANDARD_NA,
                lambda a: _is(a, "2.1", YES) and _is(a, "2.2", YES_NI),
                "If Y/PY to 2.2",
            ),
            Question(
                "2.4",
                "Do start of follow-up and start of intervention coincide for most participants?",
            ),
            Question(
                "2.5",
                "Were adjustment techniques used that are likely to correct for the presence of "
                "selection biases?",
                STANDARD_NA,
                lambda a: (
                    (_is(a, "2.1", YES) and _is(a, "2.2", YES) and _is(a, "2.3", YES))
                    or _is(a, "2.4", NO)
                ),
                "If Y/PY to 2.2 and 2.3, or N/PN to 2.4",
            ),
        ),
        domain2,
    ),
    Domain(
        "D3",
        "Bias in classification of interventions",
        (
            Question("3.1", "Were intervention groups clearly defined?"),
            Question(
                "3.2",
                "Was the information used to define intervention groups recorded at the start of "
                "the intervention?",
            ),
            Question(
                "3.3",
                "Could classification of intervention status have been affected by knowledge of "
                "the outcome or risk of the outcome?",
            ),
        ),
        domain3,
    ),
    Domain(
        "D4",
        "Bias due to deviations from intended interventions",
        (
            Question(
                "4.1",
                "If your aim is the effect of assignment to intervention: were there deviations "
                "from the intended intervention beyond what would be expected in usual practice? "
                "(Not applicable when the aim is the effect of starting and adhering.)",
                STANDARD_NA,
            ),
            Question(
                "4.2",
                "Were these deviations from intended intervention unbalanced between groups and "
                "likely to have affected the outcome?",
                STANDARD_NA,
                lambda a: _is(a, "4.1", YES),
                "If Y/PY to 4.1",
            ),
            Question(
                "4.3",
                "Were important co-interventions balanced across intervention groups?",
                STANDARD_NA,
                lambda a: a.get("4.1") == "NA",
                "If the aim is the effect of starting and adhering to intervention",
            ),
            Question(
                "4.4",
                "Was the intervention implemented successfully for most participants?",
                STANDARD_NA,
                lambda a: a.get("4.1") == "NA",
                "If the aim is the effect of starting and adhering to intervention",
            ),
            Question(
                "4.5",
                "Were study participants adherent to the assigned intervention regimen?",
                STANDARD_NA,
                lambda a: a.get("4.1") == "NA",
                "If the aim is the effect of starting and adhering to intervention",
            ),
            Question(
                "4.6",
                "Was an appropriate analysis used to estimate the effect of starting and adhering "
                "to the intervention?",
                STANDARD_NA,
                lambda a: (
                    a.get("4.1") == "NA" and any(_is(a, q, NO) for q in ("4.3", "4.4", "4.5"))
                ),
                "If N/PN to 4.3, 4.4 or 4.5",
            ),
        ),
        domain4,
    ),
    Domain(
        "D5",
        "Bias due to missing data",
        (
            Question("5.1", "Were outcome data available for all, or nearly all, participants?"),
            Question(
                "5.2", "Were participants excluded due to missing data on intervention status?"
            ),
            Question(
                "5.3",
                "Were participants excluded due to missing data on other variables needed for "
                "the analysis?",
            ),
            Question(
                "5.4",
                "Are the proportion of participants and reasons for missing data similar across "
                "interventions?",
                STANDARD_NA,
                lambda a: _is(a, "5.1", NO) or _is(a, "5.2", YES) or _is(a, "5.3", YES),
                "If PN/N to 5.1, or Y/PY to 5.2 or 5.3",
            ),
            Question(
                "5.5",
                "Is there evidence that results were robust to the presence of missing data?",
                STANDARD_NA,
                lambda a: _is(a, "5.1", NO) or _is(a, "5.2", YES) or _is(a, "5.3", YES),
                "If PN/N to 5.1, or Y/PY to 5.2 or 5.3",
            ),
        ),
        domain5,
    ),
    Domain(
        "D6",
        "Bias in measurement of outcomes",
        (
            Question(
                "6.1",
                "Could the outcome measure have been influenced by knowledge of the intervention "
                "received?",
            ),
            Question(
                "6.2",
                "Were outcome assessors aware of the intervention received by study participants?",
            ),
            Question(
                "6.3",
                "Were the methods of outcome assessment comparable across intervention groups?",
            ),
            Question(
                "6.4",
                "Were any systematic errors in measurement of the outcome related to intervention "
                "received?",
            ),
        ),
        domain6,
    ),
    Domain(
        "D7",
        "Bias in selection of the reported result",
        (
            Question(
                "7.1",
                "Is the reported effect estimate likely to be selected, on the basis of the "
                "results, from multiple outcome measurements within the outcome domain?",
            ),
            Question(
                "7.2",
                "Is the reported effect estimate likely to be selected, on the basis of the "
                "results, from multiple analyses of the intervention-outcome relationship?",
            ),
            Question(
                "7.3",
                "Is the reported effect estimate likely to be selected, on the basis of the "
                "results, from different subgroups?",
            ),
        ),
        domain7,
    ),
)

TOOL = Tool(
    key="robins_i",
    name="ROBINS-I (non-randomised studies of interventions)",
    domains=DOMAINS,
    judgements=JUDGEMENTS,
    per_result=False,
    robvis_template="ROBINS-I",
    overall=overall,
    reference="Sterne et al. BMJ 2016;355:i4919; ROBINS-I detailed guidance, 2016",
    colours={
        LOW: "#02C100",
        MODERATE: "#E2DF07",
        SERIOUS: "#BF0000",
        CRITICAL: "#820000",
        NO_INFO: "#4EA1F7",
    },
)

__all__ = ["TOOL", "JUDGEMENTS", "STANDARD"]
