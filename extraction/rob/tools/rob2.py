"""RoB 2 for individually randomised, parallel-group trials, effect of assignment to intervention.

Signalling questions and algorithms as published in: Sterne JAC, Savović J, Page MJ, et al.
RoB 2: a revised tool for assessing risk of bias in randomised trials. BMJ 2019;366:l4898; and
Higgins JPT, Savović J, Page MJ, Sterne JAC (editors). Revised Cochrane risk-of-bias tool for
randomized trials (RoB 2), full guidance document, 22 August 2019 (the algorithm figures of
each domain). The algorithms propose; the assessor may override with a justification.
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

LOW, SOME, HIGH = "Low", "Some concerns", "High"
JUDGEMENTS = (LOW, SOME, HIGH)
ANSWERED_YES_NI = YES | {NI}
ANSWERED_NO_NI = NO | {NI}


def _is(answers: Answers, qid: str, values: frozenset[str]) -> bool:
    return answers.get(qid) in values


def domain1(a: Answers) -> str:
    concealed = need(a, "1.2")
    if concealed in NO:
        return HIGH
    if concealed in YES:
        if need(a, "1.1") in NO:
            return SOME
        return SOME if need(a, "1.3") in YES else LOW
    # No information on concealment: baseline imbalance decides between some concerns and high.
    return HIGH if need(a, "1.3") in YES else SOME


def _domain2_part1(a: Answers) -> str:
    if need(a, "2.1") in NO and need(a, "2.2") in NO:
        return LOW
    deviations = need(a, "2.3")
    if deviations in NO:
        return LOW
    if deviations == NI:
        return SOME
    if need(a, "2.4") in NO:
        return SOME
    return SOME if need(a, "2.5") in YES else HIGH


def _domain2_part2(a: Answers) -> str:
    if need(a, "2.6") in YES:
        return LOW
    return SOME if need(a, "2.7") in NO else HIGH


def domain2(a: Answers) -> str:
    parts = (_domain2_part1(a), _domain2_part2(a))
    if HIGH in parts:
        return HIGH
    return LOW if parts == (LOW, LOW) else SOME


def domain3(a: Answers) -> str:
    if need(a, "3.1") in YES:
        return LOW
    if need(a, "3.2", ("Y", "PY", "PN", "N")) in YES:
        return LOW
    if need(a, "3.3") in NO:
        return LOW
    return SOME if need(a, "3.4") in NO else HIGH


def domain4(a: Answers) -> str:
    if need(a, "4.1") in YES:
        return HIGH
    differed = need(a, "4.2")
    if differed in YES:
        return HIGH
    # With no information on whether measurement differed, the best this domain can be is
    # "some concerns"; otherwise the path is the same.
    floor = LOW if differed in NO else SOME
    if need(a, "4.3") in NO:
        return floor
    if need(a, "4.4") in NO:
        return floor
    return SOME if need(a, "4.5") in NO else HIGH


def domain5(a: Answers) -> str:
    measurements, analyses = need(a, "5.2"), need(a, "5.3")
    if measurements in YES or analyses in YES:
        return HIGH
    if measurements in NO and analyses in NO:
        return LOW if need(a, "5.1") in YES else SOME
    return SOME


def overall(judgements: Mapping[str, str]) -> str:
    """Low if every domain is low, high if any is high, otherwise some concerns.

    The guidance also allows "high" for some concerns in several domains that together lower
    confidence in the result substantially: that is the assessor's call (an override).
    """
    values = set(judgements.values())
    if HIGH in values:
        return HIGH
    return SOME if SOME in values else LOW


def _either_aware(a: Answers) -> bool:
    return _is(a, "2.1", ANSWERED_YES_NI) or _is(a, "2.2", ANSWERED_YES_NI)


DOMAINS = (
    Domain(
        "D1",
        "Bias arising from the randomization process",
        (
            Question("1.1", "Was the allocation sequence random?"),
            Question(
                "1.2",
                "Was the allocation sequence concealed until participants were enrolled and "
                "assigned to interventions?",
            ),
            Question(
                "1.3",
                "Did baseline differences between intervention groups suggest a problem with the "
                "randomization process?",
            ),
        ),
        domain1,
    ),
    Domain(
        "D2",
        "Bias due to deviations from intended interventions (effect of assignment)",
        (
            Question(
                "2.1", "Were participants aware of their assigned intervention during the trial?"
            ),
            Question(
                "2.2",
                "Were carers and people delivering the interventions aware of participants' "
                "assigned intervention during the trial?",
            ),
            Question(
                "2.3",
                "Were there deviations from the intended intervention that arose because of the "
                "trial context?",
                STANDARD_NA,
                _either_aware,
                "If Y/PY/NI to 2.1 or 2.2",
            ),
            Question(
                "2.4",
                "Were these deviations likely to have affected the outcome?",
                STANDARD_NA,
                lambda a: _either_aware(a) and _is(a, "2.3", YES),
                "If Y/PY to 2.3",
            ),
            Question(
                "2.5",
                "Were these deviations from intended intervention balanced between groups?",
                STANDARD_NA,
                lambda a: (
                    _either_aware(a) and _is(a, "2.3", YES) and _is(a, "2.4", ANSWERED_YES_NI)
                ),
                "If Y/PY/NI to 2.4",
            ),
            Question(
                "2.6",
                "Was an appropriate analysis used to estimate the effect of assignment to "
                "intervention?",
            ),
            Question(
                "2.7",
                "Was there potential for a substantial impact (on the result) of the failure to "
                "analyse participants in the group to which they were randomized?",
                STANDARD_NA,
                lambda a: _is(a, "2.6", ANSWERED_NO_NI),
                "If N/PN/NI to 2.6",
            ),
        ),
        domain2,
    ),
    Domain(
        "D3",
        "Bias due to missing outcome data",
        (
            Question(
                "3.1",
                "Were data for this outcome available for all, or nearly all, participants "
                "randomized?",
            ),
            Question(
                "3.2",
                "Is there evidence that the result was not biased by missing outcome data?",
                ("NA", "Y", "PY", "PN", "N"),
                lambda a: _is(a, "3.1", ANSWERED_NO_NI),
                "If N/PN/NI to 3.1",
            ),
            Question(
                "3.3",
                "Could missingness in the outcome depend on its true value?",
                STANDARD_NA,
                lambda a: _is(a, "3.1", ANSWERED_NO_NI) and _is(a, "3.2", NO),
                "If N/PN to 3.2",
            ),
            Question(
                "3.4",
                "Is it likely that missingness in the outcome depended on its true value?",
                STANDARD_NA,
                lambda a: (
                    _is(a, "3.1", ANSWERED_NO_NI)
                    and _is(a, "3.2", NO)
                    and _is(a, "3.3", ANSWERED_YES_NI)
                ),
                "If Y/PY/NI to 3.3",
            ),
        ),
        domain3,
    ),
    Domain(
        "D4",
        "Bias in measurement of the outcome",
        (
            Question("4.1", "Was the method of measuring the outcome inappropriate?"),
            Question(
                "4.2",
                "Could measurement or ascertainment of the outcome have differed between "
                "intervention groups?",
            ),
            Question(
                "4.3",
                "Were outcome assessors aware of the intervention received by study participants?",
                STANDARD_NA,
                lambda a: _is(a, "4.1", ANSWERED_NO_NI) and _is(a, "4.2", ANSWERED_NO_NI),
                "If N/PN/NI to 4.1 and 4.2",
            ),
            Question(
                "4.4",
                "Could assessment of the outcome have been influenced by knowledge of intervention "
                "received?",
                STANDARD_NA,
                lambda a: (
                    _is(a, "4.1", ANSWERED_NO_NI)
                    and _is(a, "4.2", ANSWERED_NO_NI)
                    and _is(a, "4.3", ANSWERED_YES_NI)
                ),
                "If Y/PY/NI to 4.3",
            ),
            Question(
                "4.5",
                "Is it likely that assessment of the outcome was influenced by knowledge of "
                "intervention received?",
                STANDARD_NA,
                lambda a: (
                    _is(a, "4.1", ANSWERED_NO_NI)
                    and _is(a, "4.2", ANSWERED_NO_NI)
                    and _is(a, "4.3", ANSWERED_YES_NI)
                    and _is(a, "4.4", ANSWERED_YES_NI)
                ),
                "If Y/PY/NI to 4.4",
            ),
        ),
        domain4,
    ),
    Domain(
        "D5",
        "Bias in selection of the reported result",
        (
            Question(
                "5.1",
                "Were the data that produced this result analysed in accordance with a "
                "pre-specified analysis plan that was finalized before unblinded outcome data "
                "were available for analysis?",
            ),
            Question(
                "5.2",
                "Is the numerical result being assessed likely to have been selected, on the basis "
                "of the results, from multiple eligible outcome measurements (e.g. scales, "
                "definitions, time points) within the outcome domain?",
            ),
            Question(
                "5.3",
                "Is the numerical result being assessed likely to have been selected, on the basis "
                "of the results, from multiple eligible analyses of the data?",
            ),
        ),
        domain5,
    ),
)

TOOL = Tool(
    key="rob2",
    name="RoB 2 (randomised trials, effect of assignment)",
    domains=DOMAINS,
    judgements=JUDGEMENTS,
    per_result=True,
    robvis_template="ROB2",
    overall=overall,
    reference="Sterne et al. BMJ 2019;366:l4898; RoB 2 full guidance document, 22 August 2019",
    colours={LOW: "#02C100", SOME: "#E2DF07", HIGH: "#BF0000"},
)

__all__ = ["TOOL", "LOW", "SOME", "HIGH", "JUDGEMENTS", "STANDARD"]
