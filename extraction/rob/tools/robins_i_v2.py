"""ROBINS-I V2: risk of bias in non-randomised studies of interventions, version 2 (follow-up
studies), with its published algorithms.

Signalling questions, preliminary considerations and algorithms as in: Sterne JAC, Higgins JPT,
et al. (ROBINS-I V2 development group). The ROBINS-I V2 tool, assessment tool for follow-up
studies, and its cribsheet (riskofbias.info/welcome/robins-i-v2; releases of November 2024 and
20 November 2025). V2 assesses one result; it has six domains (V1's "deviations from intended
interventions" is handled in domain 1 for the per-protocol effect); domain 1 has a variant for
the intention-to-treat effect (A) and one for the per-protocol effect (B), chosen by C4; section
B ends the assessment at "Critical" when the result should not be considered further. Some
questions take weak/strong answers (WN/SN, WY/SY) that grade the size of a problem.

The algorithms are the cribsheet's flowcharts (domains 1-5) and criteria (domain 6, overall),
read question by question; docs/risk-of-bias.md lays each out as a decision table and says
which sources it was checked against.
"""

from collections.abc import Callable, Mapping

from extraction.rob.tools.base import (
    CC_BY_NC_ND,
    NA,
    NI,
    NO,
    SN,
    STANDARD,
    SY,
    WN,
    WY,
    YES,
    Answers,
    Domain,
    Preliminary,
    PreliminaryField,
    Question,
    Tool,
    need,
    variant_of,
)

LOW_EXCEPT = "Low (except for concerns about uncontrolled confounding)"
LOW, MODERATE, SERIOUS, CRITICAL = "Low", "Moderate", "Serious", "Critical"
JUDGEMENTS = (LOW_EXCEPT, LOW, MODERATE, SERIOUS, CRITICAL)
LADDER = (LOW, MODERATE, SERIOUS, CRITICAL)
SEVERITY = {LOW_EXCEPT: 0, LOW: 0, MODERATE: 1, SERIOUS: 2, CRITICAL: 3}

YES_NI = YES | {NI}
NO_NI = NO | {NI}
# Response sets of V2.
WEAK_STRONG_NO = ("Y", "PY", WN, SN, NI)
WEAK_STRONG_YES = (SY, WY, "PN", "N", NI)
NO_NI_OPTION = ("Y", "PY", "PN", "N")

LICENCE = (
    "The ROBINS-I V2 signalling questions, preliminary considerations, their conditions and "
    "the domain names are © the ROBINS-I V2 Development Group (riskofbias.info), reproduced "
    "verbatim under the Creative Commons Attribution-NonCommercial-NoDerivatives 4.0 "
    f"International licence ({CC_BY_NC_ND})."
)


def _is(a: Answers, qid: str, values: frozenset[str] | set[str]) -> bool:
    return a.get(qid) in values


# ----------------------------------------------------------------------------- domain 1


def domain1_itt(a: Answers) -> str:
    """Variant A (C4 = No): only baseline confounding needs to be addressed."""
    controlled = need(a, "1.1", WEAK_STRONG_NO)
    if controlled in (SN, NI):
        return CRITICAL if need(a, "1.4", NO_NI_OPTION) in YES else SERIOUS
    if need(a, "1.3") in YES:
        # Controlled for post-intervention variables: the negative controls, then validity.
        if need(a, "1.4", NO_NI_OPTION) in YES:
            return CRITICAL
        return SERIOUS if need(a, "1.2", WEAK_STRONG_NO) in YES else CRITICAL
    valid = need(a, "1.2", WEAK_STRONG_NO)
    if valid in (SN, NI):
        return SERIOUS
    if need(a, "1.4", NO_NI_OPTION) in YES:
        return SERIOUS
    return MODERATE if WN in (controlled, valid) else LOW_EXCEPT


def domain1_per_protocol(a: Answers) -> str:
    """Variant B (C4 = Yes): baseline and time-varying confounding."""
    if need(a, "1.1") in NO_NI:
        # No method appropriate for time-varying confounding.
        if need(a, "1.4") in YES:
            return CRITICAL
        return CRITICAL if need(a, "1.5", NO_NI_OPTION) in YES else SERIOUS
    controlled = need(a, "1.2", WEAK_STRONG_NO)
    if controlled in (SN, NI):
        return SERIOUS
    valid = need(a, "1.3", WEAK_STRONG_NO)
    if valid in (SN, NI):
        return SERIOUS
    if need(a, "1.5", NO_NI_OPTION) in YES:
        return SERIOUS
    return MODERATE if WN in (controlled, valid) else LOW_EXCEPT


# ----------------------------------------------------------------------------- domain 2


def domain2(a: Answers) -> str:
    """Classification of interventions: a ladder. Strategies indistinguishable at the start
    of follow-up (2.1-2.3) set the starting level; outcome-influenced classification (2.4)
    and further classification errors (2.5) each raise it."""
    if need(a, "2.1") in YES or need(a, "2.2") in YES:
        level = 0
    else:
        avoided = need(a, "2.3", WEAK_STRONG_YES)
        level = 0 if avoided == SY else (1 if avoided in (WY, NI) else 2)
    influenced = need(a, "2.4", WEAK_STRONG_YES)
    level += 0 if influenced in NO else (2 if influenced == SY else 1)
    if level >= 3:
        return CRITICAL
    level += 0 if need(a, "2.5") in NO else 1
    return LADDER[min(level, 3)]


# ----------------------------------------------------------------------------- domain 3


def _immortal_time(a: Answers) -> str:
    began = need(a, "3.1", WEAK_STRONG_NO)
    if began in YES:
        return MODERATE if need(a, "3.2") in YES else LOW
    return SERIOUS if began == SN else MODERATE


def _other_selection(a: Answers) -> str:
    for qid in ("3.3", "3.4"):
        value = need(a, qid)
        if value in NO:
            return LOW
        if value == NI:
            return MODERATE
    return SERIOUS if need(a, "3.5") in YES else MODERATE


def domain3(a: Answers) -> str:
    """Selection of participants: the worse of the two parts (prevalent users and immortal
    time; other selection); a serious problem may be corrected, or shown minimal, by the
    analysis (3.6, 3.7), or be severe enough to be critical (3.8)."""
    parts = (_immortal_time(a), _other_selection(a))
    judged = max(parts, key=SEVERITY.__getitem__)
    if judged != SERIOUS:
        return judged
    if need(a, "3.6") in YES or need(a, "3.7") in YES:
        return MODERATE
    return CRITICAL if need(a, "3.8") in YES else SERIOUS


# ----------------------------------------------------------------------------- domain 4


def _robust(a: Answers, level: int) -> str:
    """4.11: evidence that the result was not biased by missing data keeps the level."""
    return LADDER[level] if need(a, "4.11", NO_NI_OPTION) in YES else LADDER[level + 1]


def _handled(value: str) -> int:
    return 0 if value in YES else (2 if value == SN else 1)


def domain4(a: Answers) -> str:
    """Missing data."""
    complete = [need(a, q) for q in ("4.1", "4.2", "4.3")]
    if all(v in YES for v in complete):
        return LOW
    if need(a, "4.4") in YES_NI:  # complete-case analysis
        if need(a, "4.5") in NO:
            return LOW  # exclusion unrelated to the true value of the outcome
        return _robust(a, _handled(need(a, "4.6", WEAK_STRONG_NO)))
    if need(a, "4.7") in YES:  # imputation
        if need(a, "4.8") in NO_NI:
            return SERIOUS  # missing at random not a reasonable assumption
        imputed = need(a, "4.9", WEAK_STRONG_NO)
        return LOW if imputed in YES else _robust(a, _handled(imputed))
    alternative = need(a, "4.10", WEAK_STRONG_NO)
    return LOW if alternative in YES else _robust(a, _handled(alternative))


# ----------------------------------------------------------------------------- domain 5


def domain5(a: Answers) -> str:
    """Measurement of the outcome. No information on 5.1 makes the best judgement Moderate."""
    differed = need(a, "5.1")
    if differed in YES:
        return SERIOUS
    comparable = differed in NO
    if need(a, "5.2") in NO:
        return LOW if comparable else MODERATE
    influenced = need(a, "5.3", WEAK_STRONG_YES)
    if influenced == SY:
        return SERIOUS
    return LOW if comparable and influenced in NO else MODERATE


# ----------------------------------------------------------------------------- domain 6


def domain6(a: Answers) -> str:
    """Selection of the reported result: by counting 6.2-6.4 unless the result followed an
    available, pre-determined analysis plan."""
    if need(a, "6.1") in YES:
        return LOW
    selected = [need(a, q) for q in ("6.2", "6.3", "6.4")]
    yes = sum(v in YES for v in selected)
    no_info = selected.count(NI)
    if yes >= 2:
        return CRITICAL
    if yes == 1 or no_info == 3:
        return SERIOUS
    return MODERATE if no_info else LOW


def overall(judgements: Mapping[str, str]) -> str:
    """The worst domain; "low except for concerns about uncontrolled confounding" when every
    domain is at its best. The tool also lets the assessor judge several moderate domains
    serious, or several serious ones critical: an override with its justification."""
    level = max(SEVERITY.get(v, 0) for v in judgements.values())
    return LOW_EXCEPT if level == 0 else LADDER[level]


# ----------------------------------------------------------------------------- questions


def _q(qid: str, text: str, options: tuple[str, ...] = STANDARD, condition: str = "",
       applies: Callable[[Answers], bool] | None = None) -> Question:  # fmt: skip
    if applies is not None and NA not in options:
        options = (NA, *options)
    return Question(qid, text, options, applies, condition)


def _d1(per_protocol: bool) -> Domain:
    negative = (
        "Did the use of negative controls, quantitative bias analysis, or other "
        "considerations, suggest serious uncontrolled confounding?"
    )
    if not per_protocol:
        controlled = _q(
            "1.1",
            "Did the authors control for all the important confounding factors for which "
            "this was necessary?",
            WEAK_STRONG_NO,
        )
        adjusted = lambda a: _is(a, "1.1", {"Y", "PY", WN})  # noqa: E731 (a one-line rule)
        questions: tuple[Question, ...] = (
            controlled,
            _q(
                "1.2",
                "Were confounding factors that were controlled for (and for which control was "
                "necessary) measured validly and reliably by the variables available in this "
                "study?",
                WEAK_STRONG_NO,
                "If Y/PY/WN to 1.1",
                adjusted,
            ),
            _q(
                "1.3",
                "Did the authors control for any post-intervention variables that could have "
                "been affected by the intervention?",
                STANDARD,
                "If Y/PY/WN to 1.1",
                adjusted,
            ),
            _q("1.4", negative, NO_NI_OPTION),
        )
        name = "Bias due to confounding (intention-to-treat effect)"
        algorithm = domain1_itt
    else:
        appropriate = lambda a: _is(a, "1.1", YES)  # noqa: E731 (a one-line rule)
        questions = (
            _q(
                "1.1",
                "Did the authors use an analysis method that was appropriate to control for "
                "time-varying as well as baseline confounding?",
            ),
            _q(
                "1.2",
                "Did the authors control for all the important baseline and time-varying "
                "confounding factors for which this was necessary?",
                WEAK_STRONG_NO,
                "If Y/PY to 1.1",
                appropriate,
            ),
            _q(
                "1.3",
                "Were confounding factors that were controlled for (and for which control was "
                "necessary) measured validly and reliably by the variables available in this "
                "study?",
                WEAK_STRONG_NO,
                "If Y/PY/WN to 1.2",
                lambda a: appropriate(a) and _is(a, "1.2", {"Y", "PY", WN}),
            ),
            _q(
                "1.4",
                "Did the authors control for time-varying factors or other variables measured "
                "after the start of intervention?",
                STANDARD,
                "If N/PN/NI to 1.1",
                lambda a: _is(a, "1.1", NO_NI),
            ),
            _q(
                "1.5",
                "Did the use of negative controls, or other considerations, suggest serious "
                "uncontrolled confounding?",
                NO_NI_OPTION,
            ),
        )
        name = "Bias due to confounding (per-protocol effect)"
        algorithm = domain1_per_protocol
    return Domain(
        "D1", name, questions, algorithm, judgements=(LOW_EXCEPT, MODERATE, SERIOUS, CRITICAL)
    )


D2 = Domain(
    "D2",
    "Bias in classification of interventions",
    (
        _q(
            "2.1",
            "Were the intervention strategies distinguishable at the time when follow-up would "
            "have started in the target trial?",
        ),
        _q(
            "2.2",
            "Did all or nearly all outcome events occur after the intervention and comparator "
            "strategies could be distinguished?",
            STANDARD,
            "If N/PN/NI to 2.1",
            lambda a: _is(a, "2.1", NO_NI),
        ),
        _q(
            "2.3",
            "Did the analysis avoid problems arising from intervention strategies that are not "
            "distinguishable at the start of follow-up?",
            WEAK_STRONG_YES,
            "If N/PN/NI to 2.2",
            lambda a: _is(a, "2.1", NO_NI) and _is(a, "2.2", NO_NI),
        ),
        _q(
            "2.4",
            "Was classification of intervention status influenced by knowledge of the outcome or "
            "risk of the outcome?",
            WEAK_STRONG_YES,
        ),
        _q(
            "2.5",
            "Were further classification errors (not influenced by knowledge of the outcome or "
            "risk of the outcome) likely?",
        ),
    ),
    domain2,
    judgements=LADDER,
)


def _selected_after_start(a: Answers) -> bool:
    return _is(a, "3.3", YES) and _is(a, "3.4", YES)


def _serious_selection(a: Answers) -> bool:
    return _is(a, "3.1", {SN}) or (_selected_after_start(a) and _is(a, "3.5", YES))


D3 = Domain(
    "D3",
    "Bias in selection of participants into the study (or into the analysis)",
    (
        _q(
            "3.1",
            "Did follow up in the analysis begin at the start of the intervention strategies "
            "being compared?",
            WEAK_STRONG_NO,
        ),
        _q(
            "3.2",
            "Were outcome events during a period of follow-up after the start of the "
            "interventions excluded from the analysis?",
            STANDARD,
            "If Y/PY to 3.1",
            lambda a: _is(a, "3.1", YES),
        ),
        _q(
            "3.3",
            "Was selection of participants into the study (or into the analysis) based on "
            "participant characteristics observed after the start of intervention (additional "
            "to the situations addressed in 3.1 and 3.2)?",
        ),
        _q(
            "3.4",
            "Were the post-intervention variables that influenced selection likely to be "
            "associated with intervention?",
            STANDARD,
            "If Y/PY to 3.3",
            lambda a: _is(a, "3.3", YES),
        ),
        _q(
            "3.5",
            "Were the post-intervention variables that influenced selection likely to be "
            "influenced by the outcome or a cause of the outcome?",
            STANDARD,
            "If Y/PY to 3.4",
            _selected_after_start,
        ),
        _q(
            "3.6",
            "Is it likely that the analysis corrected for all of the potential selection biases "
            "identified above?",
            STANDARD,
            "If SN to 3.1 or Y/PY to 3.5",
            _serious_selection,
        ),
        _q(
            "3.7",
            "Did sensitivity analyses demonstrate that the likely impact of the potential "
            "selection biases identified above was minimal?",
            STANDARD,
            "If N/PN/NI to 3.6",
            lambda a: _serious_selection(a) and _is(a, "3.6", NO_NI),
        ),
        _q(
            "3.8",
            "Were potential selection biases identified above sufficiently severe that the "
            "result should not be included in a quantitative synthesis?",
            STANDARD,
            "If N/PN/NI to 3.7",
            lambda a: _serious_selection(a) and _is(a, "3.6", NO_NI) and _is(a, "3.7", NO_NI),
        ),
    ),
    domain3,
    judgements=LADDER,
)


def _incomplete(a: Answers) -> bool:
    return any(_is(a, q, NO_NI) for q in ("4.1", "4.2", "4.3"))


def _complete_case(a: Answers) -> bool:
    return _incomplete(a) and _is(a, "4.4", YES_NI)


def _imputed(a: Answers) -> bool:
    return _incomplete(a) and _is(a, "4.4", NO) and _is(a, "4.7", YES)


def _otherwise(a: Answers) -> bool:
    return _incomplete(a) and _is(a, "4.4", NO) and _is(a, "4.7", NO_NI)


D4 = Domain(
    "D4",
    "Bias due to missing data",
    (
        _q(
            "4.1",
            "Were complete data on intervention status available for all, or nearly all, "
            "participants?",
        ),
        _q(
            "4.2",
            "Were complete data on the outcome available for all, or nearly all, participants?",
        ),
        _q(
            "4.3",
            "Were complete data on important confounding variables available for all, or nearly "
            "all, participants?",
        ),
        _q(
            "4.4",
            "Is the result based on a complete case analysis?",
            STANDARD,
            "If N/PN/NI to 4.1, 4.2 or 4.3",
            _incomplete,
        ),
        _q(
            "4.5",
            "Was exclusion from the analysis because of missing data (in intervention, "
            "confounders or the outcome) likely to be related to the true value of the outcome?",
            STANDARD,
            "If Y/PY/NI to 4.4",
            _complete_case,
        ),
        _q(
            "4.6",
            "Is the relationship between the outcome and missingness likely to be explained by "
            "the variables in the analysis model?",
            WEAK_STRONG_NO,
            "If Y/PY/NI to 4.5",
            lambda a: _complete_case(a) and _is(a, "4.5", YES_NI),
        ),
        _q(
            "4.7",
            "Was the analysis based on imputing missing values?",
            STANDARD,
            "If N/PN to 4.4",
            lambda a: _incomplete(a) and _is(a, "4.4", NO),
        ),
        _q(
            "4.8",
            "Is it reasonable to assume that data were 'missing at random' (MAR) or 'missing "
            "completely at random' (MCAR)?",
            STANDARD,
            "If Y/PY to 4.7",
            _imputed,
        ),
        _q(
            "4.9",
            "Was imputation performed appropriately?",
            WEAK_STRONG_NO,
            "If Y/PY to 4.8",
            lambda a: _imputed(a) and _is(a, "4.8", YES),
        ),
        _q(
            "4.10",
            "Was an appropriate alternative method used to correct for bias due to missing data?",
            WEAK_STRONG_NO,
            "If N/PN/NI to 4.7",
            _otherwise,
        ),
        _q(
            "4.11",
            "Is there evidence that the result was not biased by missing data?",
            NO_NI_OPTION,
            "If PN/N/NI to 4.1, 4.2 or 4.3 AND (Y/PY/NI to 4.5 OR WN/SN/NI to 4.9 OR WN/SN/NI "
            "to 4.10)",
            lambda a: (
                (_complete_case(a) and _is(a, "4.5", YES_NI))
                or (_imputed(a) and _is(a, "4.8", YES) and _is(a, "4.9", {WN, SN, NI}))
                or (_otherwise(a) and _is(a, "4.10", {WN, SN, NI}))
            ),
        ),
    ),
    domain4,
    judgements=LADDER,
)

D5 = Domain(
    "D5",
    "Bias in measurement of the outcome",
    (
        _q(
            "5.1",
            "Could measurement or ascertainment of the outcome have differed between "
            "intervention groups?",
        ),
        _q(
            "5.2",
            "Were outcome assessors aware of the intervention received by study participants?",
        ),
        _q(
            "5.3",
            "Could assessment of the outcome have been influenced by knowledge of the "
            "intervention received?",
            WEAK_STRONG_YES,
            "If Y/PY/NI to 5.2",
            lambda a: _is(a, "5.2", YES_NI),
        ),
    ),
    domain5,
    judgements=LADDER,
)

D6 = Domain(
    "D6",
    "Bias in selection of the reported result",
    (
        _q(
            "6.1",
            "Was the result reported in accordance with an available, pre-determined analysis "
            "plan?",
        ),
        _q(
            "6.2",
            "Is the numerical result being assessed likely to have been selected, on the basis "
            "of the results, from multiple outcome measurements (e.g. scales, definitions, time "
            "points) within the outcome domain?",
        ),
        _q(
            "6.3",
            "Is the numerical result being assessed likely to have been selected, on the basis "
            "of the results, from multiple analyses of the data?",
        ),
        _q(
            "6.4",
            "Is the numerical result being assessed likely to have been selected, on the basis "
            "of the results, from multiple subgroups?",
        ),
    ),
    domain6,
    judgements=LADDER,
)

ITT, PER_PROTOCOL = "no", "yes"
YES_NO = (("Y", "Yes"), ("PY", "Probably yes"), ("PN", "Probably no"), ("N", "No"))
SOURCES = (
    ("article", "Journal article(s)"),
    ("protocol", "Study protocol"),
    ("sap", "Statistical analysis plan (SAP)"),
    ("registry", "Non-commercial registry record (e.g. ClinicalTrials.gov record)"),
    ("company_registry", "Company-owned registry record"),
    ("grey", "Grey literature (e.g. unpublished thesis)"),
    ("abstract", "Conference abstract(s)"),
    ("regulatory", "Regulatory document (e.g. Clinical Study Report, Drug Approval Package)"),
    ("ipd", "Individual participant data"),
    ("ethics", "Research ethics application"),
    ("grant", "Grant database summary (e.g. NIH RePORTER)"),
    ("investigator", "Personal communication with investigator"),
    ("sponsor", "Personal communication with sponsor"),
)
PRELIMINARY = (
    PreliminaryField(
        "result",
        "A1. Specify the numerical result being assessed",
        "text",
        help="e.g. RR = 1.52 (95% CI 0.83 to 2.77), or a table or figure that identifies it",
    ),
    PreliminaryField(
        "B1",
        "B1. Did the authors make any attempt to control for confounding in the result being "
        "assessed?",
        "choice",
        YES_NO,
    ),
    PreliminaryField(
        "B2",
        "B2. If N/PN to B1: Is there sufficient potential for confounding that this result "
        "should not be considered further?",
        "choice",
        YES_NO,
        shown_if={"B1": ("PN", "N")},
    ),
    PreliminaryField(
        "B3", "B3. Was the method of measuring the outcome inappropriate?", "choice", YES_NO
    ),
    PreliminaryField(
        "C4",
        "C4. Did the analysis account for switches during follow-up between the intervention "
        "strategies being compared, or for other protocol deviations during follow-up?",
        "choice",
        (
            (ITT, "No (the analysis is estimating the intention-to-treat effect)"),
            (PER_PROTOCOL, "Yes (the analysis is estimating the per-protocol effect)"),
        ),
        ITT,
    ),
    PreliminaryField(
        "sources",
        "D. Sources of information obtained to inform the risk-of-bias assessment",
        "multi",
        SOURCES,
    ),
)

STOP_REASON = (
    "Section B: {question} answered Y/PY, so the result is at critical risk of bias and no "
    "further assessment is required."
)


def _critical(judgements: Mapping[str, str]) -> str:
    return CRITICAL


def _resolve(preliminary: Preliminary) -> Tool:
    b2 = preliminary.get("B1") in NO and preliminary.get("B2") in YES
    b3 = preliminary.get("B3") in YES
    if b2 or b3:
        return variant_of(
            TOOL,
            variant="not assessed further (section B)",
            domains=(),
            overall=_critical,
            stopped=STOP_REASON.format(question="B2" if b2 else "B3"),
        )
    per_protocol = preliminary.get("C4") == PER_PROTOCOL
    return variant_of(
        TOOL,
        variant="per-protocol effect (variant B)"
        if per_protocol
        else "intention-to-treat effect (variant A)",
        domains=(_d1(per_protocol), D2, D3, D4, D5, D6),
    )


TOOL = Tool(
    key="robins_i_v2",
    name="ROBINS-I V2 (non-randomised studies of interventions)",
    domains=(_d1(False), D2, D3, D4, D5, D6),
    judgements=JUDGEMENTS,
    per_result=True,
    # robvis has no ROBINS-I V2 template (its ROBINS-I one has V1's seven domains).
    robvis_template="Generic",
    overall=overall,
    reference="ROBINS-I V2 (riskofbias.info), assessment tool for follow-up studies and "
    "cribsheet, 20 November 2025",
    colours={
        LOW_EXCEPT: "#02C100",
        LOW: "#02C100",
        MODERATE: "#E2DF07",
        SERIOUS: "#BF0000",
        CRITICAL: "#820000",
    },
    licence=LICENCE,
    preliminary=PRELIMINARY,
    resolver=_resolve,
    variant="intention-to-treat effect (variant A)",
    all_domains=(
        Domain("D1", "Bias due to confounding"),
        D2,
        D3,
        D4,
        D5,
        D6,
    ),
)

__all__ = ["TOOL", "JUDGEMENTS", "LOW_EXCEPT", "SEVERITY"]
