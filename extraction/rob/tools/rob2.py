"""RoB 2 for randomised trials: individually randomised parallel-group, cluster-randomised and
crossover trials, for the effect of assignment to intervention or of adhering to it.

The preliminary considerations (design, aim, the deviations addressed for the effect of
adhering, the result assessed, the sources consulted) select the variant. Signalling questions
and algorithms as published in:

- Sterne JAC, Savović J, Page MJ, et al. RoB 2: a revised tool for assessing risk of bias in
  randomised trials. BMJ 2019;366:l4898; Higgins JPT, Savović J, Page MJ, Sterne JAC (eds).
  RoB 2 full guidance document, 22 August 2019 (algorithm figures of each domain, including
  domain 2 for the effect of adhering to intervention).
- Eldridge S, Campbell MK, Campbell MJ, et al. RoB 2 for cluster-randomized trials, version of
  18 March 2021 (domains 1a, 1b, and the cluster forms of domains 2-4).
- Higgins JPT, Li T, Sterne JAC. RoB 2 for crossover trials, version of 18 March 2021 (domain S,
  period and carryover effects, and question 5.4).

The algorithms propose; the assessor may override with a justification. docs/risk-of-bias.md
lays each out as a decision table and names the sources checked against.
"""

from collections.abc import Callable, Mapping

from extraction.rob.tools.base import (
    CC_BY_NC_ND,
    NA,
    NI,
    NO,
    STANDARD_NA,
    YES,
    Answers,
    Domain,
    Preliminary,
    PreliminaryField,
    Question,
    Tool,
    Unanswered,
    need,
    variant_of,
)

LOW, SOME, HIGH = "Low", "Some concerns", "High"
JUDGEMENTS = (LOW, SOME, HIGH)
YES_NI = YES | {NI}
NO_NI = NO | {NI}
NO_NA = NO | {NA}
NO_NI_NA = (NA, "Y", "PY", "PN", "N")  # 3.2: no "no information" in the guidance

PARALLEL, CLUSTER, CROSSOVER = "parallel", "cluster", "crossover"
ASSIGNMENT, ADHERING = "assignment", "adhering"
NON_PROTOCOL, IMPLEMENTATION, NON_ADHERENCE = "non_protocol", "implementation", "non_adherence"

LICENCE = (
    "The RoB 2 signalling questions, their conditions and the domain names are © the RoB 2 "
    "Development Group (riskofbias.info), reproduced verbatim under the Creative Commons "
    f"Attribution-NonCommercial-NoDerivatives 4.0 International licence ({CC_BY_NC_ND})."
)


def _is(answers: Answers, qid: str, values: frozenset[str]) -> bool:
    return answers.get(qid) in values


def _combined(*parts: str) -> str:
    """Low if every part is low, high if any is high, otherwise some concerns."""
    if HIGH in parts:
        return HIGH
    return LOW if all(p == LOW for p in parts) else SOME


# ----------------------------------------------------------------------------- domain 1


def _randomization(a: Answers, random: str, concealed: str, baseline: str) -> str:
    allocation_concealed = need(a, concealed)
    if allocation_concealed in NO:
        return HIGH
    if allocation_concealed in YES:
        if need(a, random) in NO:
            return SOME
        return SOME if need(a, baseline) in YES else LOW
    # No information on concealment: baseline imbalance decides between some concerns and high.
    return HIGH if need(a, baseline) in YES else SOME


def domain1(a: Answers) -> str:
    return _randomization(a, "1.1", "1.2", "1.3")


def domain1a_cluster(a: Answers) -> str:
    return _randomization(a, "1a.1", "1a.2", "1a.3")


def domain1b_cluster(a: Answers) -> str:
    """Timing of identification and recruitment of participants (cluster trials)."""
    if need(a, "1b.1") in YES:
        return LOW  # everyone identified (and recruited) before the clusters were randomized
    selection_affected = need(a, "1b.2")
    if selection_affected in YES:
        return HIGH
    imbalance = need(a, "1b.3")
    if selection_affected in NO:
        return SOME if imbalance in YES else LOW
    return HIGH if imbalance in YES else SOME


# ----------------------------------------------------------------------------- domain S


def domain_s_crossover(a: Answers) -> str:
    """Period and carryover effects (crossover trials)."""
    carryover_gone = need(a, "S.3")
    if carryover_gone in NO:
        return HIGH
    if carryover_gone == NI:
        return SOME
    if need(a, "S.1") in YES:
        return LOW  # sequences (nearly) equal: period effects cannot bias the comparison
    return LOW if need(a, "S.2") in YES else SOME


# ----------------------------------------------------------------------------- domain 2


def _deviations_part(a: Answers, aware: bool, q: tuple[str, str, str]) -> str:
    """Deviations that arose because of the trial context (effect of assignment), part 1."""
    arose, affected, balanced = q
    if not aware:
        return LOW
    deviations = need(a, arose)
    if deviations in NO:
        return LOW
    if deviations == NI:
        return SOME
    if need(a, affected) in NO:
        return SOME
    return SOME if need(a, balanced) in YES else HIGH


def _analysis_part(a: Answers, appropriate: str, impact: str) -> str:
    if need(a, appropriate) in YES:
        return LOW
    return SOME if need(a, impact) in NO else HIGH


def domain2(a: Answers) -> str:
    """Effect of assignment, individually randomised (parallel and crossover) trials."""
    aware = need(a, "2.1") not in NO or need(a, "2.2") not in NO
    return _combined(
        _deviations_part(a, aware, ("2.3", "2.4", "2.5")), _analysis_part(a, "2.6", "2.7")
    )


def domain2_cluster(a: Answers) -> str:
    """Effect of assignment, cluster-randomised trials: 2.1a asks whether participants knew
    they were in a trial at all; if not, only carers' and deliverers' awareness matters."""
    in_trial = need(a, "2.1a")
    carers = need(a, "2.2")
    # Participants who did not know they were in a trial cannot cause trial-context deviations.
    aware = (in_trial not in NO and need(a, "2.1b") not in NO) or carers not in NO
    return _combined(
        _deviations_part(a, aware, ("2.3", "2.4", "2.5")), _analysis_part(a, "2.6", "2.7")
    )


def _raw(a: Answers, qid: str, options: tuple[str, ...]) -> str:
    """An answer where "not applicable" is itself an answer the algorithm routes on."""
    value = a.get(qid) or ""
    if value not in options:
        raise Unanswered(qid)
    return value


def domain2_adhering(a: Answers) -> str:
    """Effect of adhering to intervention (all designs), the guidance's figure for domain 2.

    Questions marked "[if applicable]" take NA when the review does not address that kind of
    deviation (preliminary considerations); NA routes like "no problem"."""
    blinded = need(a, "2.1") in NO and need(a, "2.2") in NO
    if not blinded and _raw(a, "2.3", STANDARD_NA) not in YES | {NA}:
        # Non-protocol interventions unbalanced (or no information): the analysis decides.
        return SOME if need(a, "2.6") in YES else HIGH
    failures = _raw(a, "2.4", STANDARD_NA)
    non_adherence = _raw(a, "2.5", STANDARD_NA)
    if failures in NO_NA and non_adherence in NO_NA:
        return LOW
    return SOME if need(a, "2.6") in YES else HIGH


# ----------------------------------------------------------------------------- domain 3


def _missing_rest(a: Answers) -> str:
    if need(a, "3.2", ("Y", "PY", "PN", "N")) in YES:
        return LOW
    if need(a, "3.3") in NO:
        return LOW
    return SOME if need(a, "3.4") in NO else HIGH


def domain3(a: Answers) -> str:
    if need(a, "3.1") in YES:
        return LOW
    return _missing_rest(a)


def domain3_cluster(a: Answers) -> str:
    if need(a, "3.1a") in YES and need(a, "3.1b") in YES:
        return LOW
    # An N/PN/NI on either: the other answer does not change the path.
    return _missing_rest(a)


# ----------------------------------------------------------------------------- domain 4


def _measurement(a: Answers, aware_chain: tuple[str, ...]) -> str:
    if need(a, "4.1") in YES:
        return HIGH
    differed = need(a, "4.2")
    if differed in YES:
        return HIGH
    # With no information on whether measurement differed, the best this domain can be is
    # "some concerns"; otherwise the path is the same.
    floor = LOW if differed in NO else SOME
    for qid in aware_chain:  # 4.3 (4.3a, 4.3b in cluster trials), then 4.4
        if need(a, qid) in NO:
            return floor
    return SOME if need(a, "4.5") in NO else HIGH


def domain4(a: Answers) -> str:
    return _measurement(a, ("4.3", "4.4"))


def domain4_cluster(a: Answers) -> str:
    return _measurement(a, ("4.3a", "4.3b", "4.4"))


# ----------------------------------------------------------------------------- domain 5


def _selection(a: Answers, selected_from: tuple[str, ...]) -> str:
    answers = [need(a, q) for q in selected_from]
    if any(v in YES for v in answers):
        return HIGH
    if all(v in NO for v in answers):
        return LOW if need(a, "5.1") in YES else SOME
    return SOME


def domain5(a: Answers) -> str:
    return _selection(a, ("5.2", "5.3"))


def domain5_crossover(a: Answers) -> str:
    """5.4: a result from both periods was sought but only first-period data were reported,
    because carryover was identified."""
    return _selection(a, ("5.2", "5.3", "5.4"))


def overall(judgements: Mapping[str, str]) -> str:
    """Low if every domain is low, high if any is high, otherwise some concerns.

    The guidance also allows "high" for some concerns in several domains that together lower
    confidence in the result substantially: that is the assessor's call (an override).
    """
    return _combined(*judgements.values())


# ----------------------------------------------------------------------------- questions


def _q(qid: str, text: str, condition: str = "", applies: Callable[[Answers], bool] | None = None,
       options: tuple[str, ...] | None = None, na_routes: bool = False) -> Question:  # fmt: skip
    if options is None:
        options = STANDARD_NA if applies is not None or na_routes else ("Y", "PY", "PN", "N", "NI")
    return Question(qid, text, options, applies, condition, na_routes)


def _either(*pairs: tuple[str, frozenset[str]]) -> Callable[[Answers], bool]:
    return lambda a: any(_is(a, q, v) for q, v in pairs)


RANDOM = "Was the allocation sequence random?"
BASELINE = (
    "Did baseline differences between intervention groups suggest a problem with the "
    "randomization process?"
)
AWARE_PARTICIPANTS = "Were participants aware of their assigned intervention during the trial?"
AWARE_CARERS = (
    "Were carers and people delivering the interventions aware of participants' assigned "
    "intervention during the trial?"
)
TRIAL_CONTEXT = (
    "Were there deviations from the intended intervention that arose because of the trial context?"
)
AFFECTED = "Were these deviations likely to have affected the outcome?"
BALANCED = "Were these deviations from intended intervention balanced between groups?"
ANALYSIS_ASSIGNMENT = (
    "Was an appropriate analysis used to estimate the effect of assignment to intervention?"
)
IMPACT = (
    "Was there potential for a substantial impact (on the result) of the failure to analyse "
    "participants in the group to which they were randomized?"
)


def _d1_individual() -> Domain:
    return Domain(
        "D1",
        "Bias arising from the randomization process",
        (
            _q("1.1", RANDOM),
            _q(
                "1.2",
                "Was the allocation sequence concealed until participants were enrolled and "
                "assigned to interventions?",
            ),
            _q("1.3", BASELINE),
        ),
        domain1,
    )


def _d1_cluster() -> tuple[Domain, Domain]:
    d1a = Domain(
        "D1",
        "Bias arising from the randomization process",
        (
            _q("1a.1", RANDOM),
            _q(
                "1a.2",
                "Was the allocation sequence concealed until clusters were enrolled and "
                "assigned to interventions?",
            ),
            _q("1a.3", BASELINE),
        ),
        domain1a_cluster,
    )
    d1b = Domain(
        "D1b",
        "Bias arising from the timing of identification and recruitment of participants",
        (
            _q(
                "1b.1",
                "Were all the individual participants identified and recruited (if "
                "appropriate) before randomization of clusters?",
            ),
            _q(
                "1b.2",
                "Is it likely that selection of individual participants was affected by "
                "knowledge of the intervention assigned to the cluster?",
                "If N/PN/NI to 1b.1",
                _either(("1b.1", NO_NI)),
            ),
            _q(
                "1b.3",
                "Were there baseline imbalances that suggest differential identification or "
                "recruitment of individual participants between intervention groups?",
            ),
        ),
        domain1b_cluster,
    )
    return d1a, d1b


def _ds_crossover() -> Domain:
    return Domain(
        "DS",
        "Bias arising from period and carryover effects",
        (
            _q(
                "S.1",
                "Was the number of participants allocated to each of the two sequences equal "
                "or nearly equal?",
            ),
            _q(
                "S.2",
                "Were period effects accounted for in the analysis?",
                "If N/PN/NI to S.1",
                _either(("S.1", NO_NI)),
            ),
            _q(
                "S.3",
                "Was there sufficient time for any carryover effects to have disappeared "
                "before outcome assessment in the second period?",
            ),
        ),
        domain_s_crossover,
    )


def _d2_assignment() -> Domain:
    aware = _either(("2.1", YES_NI), ("2.2", YES_NI))
    return Domain(
        "D2",
        "Bias due to deviations from intended interventions (effect of assignment)",
        (
            _q("2.1", AWARE_PARTICIPANTS),
            _q("2.2", AWARE_CARERS),
            _q("2.3", TRIAL_CONTEXT, "If Y/PY/NI to 2.1 or 2.2", aware),
            _q("2.4", AFFECTED, "If Y/PY to 2.3", lambda a: aware(a) and _is(a, "2.3", YES)),
            _q(
                "2.5",
                BALANCED,
                "If Y/PY/NI to 2.4",
                lambda a: aware(a) and _is(a, "2.3", YES) and _is(a, "2.4", YES_NI),
            ),
            _q("2.6", ANALYSIS_ASSIGNMENT),
            _q("2.7", IMPACT, "If N/PN/NI to 2.6", _either(("2.6", NO_NI))),
        ),
        domain2,
    )


def _d2_assignment_cluster() -> Domain:
    def aware(a: Answers) -> bool:
        knew_trial = not _is(a, "2.1a", NO)
        return (knew_trial and _is(a, "2.1b", YES_NI)) or _is(a, "2.2", YES_NI)

    return Domain(
        "D2",
        "Bias due to deviations from intended interventions (effect of assignment)",
        (
            _q("2.1a", "Were participants aware that they were in a trial?"),
            _q("2.1b", AWARE_PARTICIPANTS, "If Y/PY/NI to 2.1a", _either(("2.1a", YES_NI))),
            _q("2.2", AWARE_CARERS),
            _q("2.3", TRIAL_CONTEXT, "If Y/PY/NI to 2.1b or 2.2", aware),
            _q("2.4", AFFECTED, "If Y/PY to 2.3", lambda a: aware(a) and _is(a, "2.3", YES)),
            _q(
                "2.5",
                BALANCED,
                "If Y/PY/NI to 2.4",
                lambda a: aware(a) and _is(a, "2.3", YES) and _is(a, "2.4", YES_NI),
            ),
            _q("2.6", ANALYSIS_ASSIGNMENT),
            _q("2.7", IMPACT, "If N/PN/NI to 2.6", _either(("2.6", NO_NI))),
        ),
        domain2_cluster,
    )


def _d2_adhering(addressed: frozenset[str]) -> Domain:
    """`addressed`: the deviations the preliminary considerations say the review addresses;
    an "[if applicable]" question about any other kind is answered NA."""

    def aware(a: Answers) -> bool:
        return _is(a, "2.1", YES_NI) or _is(a, "2.2", YES_NI)

    def analysis_needed(a: Answers) -> bool:
        return (aware(a) and _is(a, "2.3", NO_NI)) or _either(("2.4", YES_NI), ("2.5", YES_NI))(a)

    return Domain(
        "D2",
        "Bias due to deviations from intended interventions (effect of adhering)",
        (
            _q("2.1", AWARE_PARTICIPANTS),
            _q("2.2", AWARE_CARERS),
            _q(
                "2.3",
                "Were important non-protocol interventions balanced across intervention groups?",
                "[If applicable:] If Y/PY/NI to 2.1 or 2.2",
                lambda a: NON_PROTOCOL in addressed and aware(a),
                na_routes=True,
            ),
            _q(
                "2.4",
                "Were there failures in implementing the intervention that could have "
                "affected the outcome?",
                "[If applicable:]",
                lambda a: IMPLEMENTATION in addressed,
                na_routes=True,
            ),
            _q(
                "2.5",
                "Was there non-adherence to the assigned intervention regimen that could have "
                "affected participants' outcomes?",
                "[If applicable:]",
                lambda a: NON_ADHERENCE in addressed,
                na_routes=True,
            ),
            _q(
                "2.6",
                "Was an appropriate analysis used to estimate the effect of adhering to the "
                "intervention?",
                "If N/PN/NI to 2.3, or Y/PY/NI to 2.4 or 2.5",
                analysis_needed,
                na_routes=True,
            ),
        ),
        domain2_adhering,
    )


def _d3(cluster: bool) -> Domain:
    if cluster:
        incomplete = _either(("3.1a", NO_NI), ("3.1b", NO_NI))
        first: tuple[Question, ...] = (
            _q(
                "3.1a",
                "Were data for this outcome available for all clusters that recruited "
                "participants?",
            ),
            _q(
                "3.1b",
                "Were data for this outcome available for all, or nearly all, participants "
                "within clusters?",
            ),
        )
        condition = "If N/PN/NI to 3.1a or 3.1b"
    else:
        incomplete = _either(("3.1", NO_NI))
        first = (
            _q(
                "3.1",
                "Were data for this outcome available for all, or nearly all, participants "
                "randomized?",
            ),
        )
        condition = "If N/PN/NI to 3.1"
    return Domain(
        "D3",
        "Bias due to missing outcome data",
        (
            *first,
            _q(
                "3.2",
                "Is there evidence that the result was not biased by missing outcome data?",
                condition,
                incomplete,
                options=NO_NI_NA,
            ),
            _q(
                "3.3",
                "Could missingness in the outcome depend on its true value?",
                "If N/PN to 3.2",
                lambda a: incomplete(a) and _is(a, "3.2", NO),
            ),
            _q(
                "3.4",
                "Is it likely that missingness in the outcome depended on its true value?",
                "If Y/PY/NI to 3.3",
                lambda a: incomplete(a) and _is(a, "3.2", NO) and _is(a, "3.3", YES_NI),
            ),
        ),
        domain3_cluster if cluster else domain3,
    )


def _d4(cluster: bool) -> Domain:
    def measured_alike(a: Answers) -> bool:
        return _is(a, "4.1", NO_NI) and _is(a, "4.2", NO_NI)

    if cluster:
        aware: tuple[Question, ...] = (
            _q(
                "4.3a",
                "Were outcome assessors aware that a trial was taking place?",
                "If N/PN/NI to 4.1 and 4.2",
                measured_alike,
            ),
            _q(
                "4.3b",
                "Were outcome assessors aware of the intervention received by study participants?",
                "If Y/PY/NI to 4.3a",
                lambda a: measured_alike(a) and _is(a, "4.3a", YES_NI),
            ),
        )
        last = "4.3b"
    else:
        aware = (
            _q(
                "4.3",
                "Were outcome assessors aware of the intervention received by study participants?",
                "If N/PN/NI to 4.1 and 4.2",
                measured_alike,
            ),
        )
        last = "4.3"

    def assessors_aware(a: Answers) -> bool:
        return measured_alike(a) and all(_is(a, q.id, YES_NI) for q in aware)

    return Domain(
        "D4",
        "Bias in measurement of the outcome",
        (
            _q("4.1", "Was the method of measuring the outcome inappropriate?"),
            _q(
                "4.2",
                "Could measurement or ascertainment of the outcome have differed between "
                "intervention groups?",
            ),
            *aware,
            _q(
                "4.4",
                "Could assessment of the outcome have been influenced by knowledge of "
                "intervention received?",
                f"If Y/PY/NI to {last}",
                assessors_aware,
            ),
            _q(
                "4.5",
                "Is it likely that assessment of the outcome was influenced by knowledge of "
                "intervention received?",
                "If Y/PY/NI to 4.4",
                lambda a: assessors_aware(a) and _is(a, "4.4", YES_NI),
            ),
        ),
        domain4_cluster if cluster else domain4,
    )


def _d5(crossover: bool) -> Domain:
    questions = [
        _q(
            "5.1",
            "Were the data that produced this result analysed in accordance with a "
            "pre-specified analysis plan that was finalized before unblinded outcome data were "
            "available for analysis?",
        ),
        _q(
            "5.2",
            "Is the numerical result being assessed likely to have been selected, on the basis "
            "of the results, from multiple eligible outcome measurements (e.g. scales, "
            "definitions, time points) within the outcome domain?",
        ),
        _q(
            "5.3",
            "Is the numerical result being assessed likely to have been selected, on the basis "
            "of the results, from multiple eligible analyses of the data?",
        ),
    ]
    if crossover:
        questions.append(
            _q(
                "5.4",
                "Is a result based on data from both periods sought, but unavailable on the "
                "basis of carryover having been identified?",
            )
        )
    return Domain(
        "D5",
        "Bias in selection of the reported result",
        tuple(questions),
        domain5_crossover if crossover else domain5,
    )


# ----------------------------------------------------------------------------- the tool

DESIGNS = (
    (PARALLEL, "Individually-randomized parallel-group trial"),
    (CLUSTER, "Cluster-randomized parallel-group trial"),
    (CROSSOVER, "Individually randomized cross-over (or other matched) trial"),
)
AIMS = (
    (ASSIGNMENT, "to assess the effect of assignment to intervention (the 'intention-to-treat' "
     "effect)"),
    (ADHERING, "to assess the effect of adhering to intervention (the 'per-protocol' effect)"),
)  # fmt: skip
DEVIATIONS = (
    (NON_PROTOCOL, "occurrence of non-protocol interventions"),
    (IMPLEMENTATION, "failures in implementing the intervention that could have affected the "
     "outcome"),
    (NON_ADHERENCE, "non-adherence to their assigned intervention by trial participants"),
)  # fmt: skip
SOURCES = (
    ("article", "Journal article(s) with results of the trial"),
    ("protocol", "Trial protocol"),
    ("sap", "Statistical analysis plan (SAP)"),
    ("registry", "Non-commercial trial registry record (e.g. ClinicalTrials.gov record)"),
    ("company_registry", "Company-owned trial registry record"),
    ("grey", "'Grey literature' (e.g. unpublished thesis)"),
    ("abstract", "Conference abstract(s) about the trial"),
    ("regulatory", "Regulatory document (e.g. Clinical Study Report, Drug Approval Package)"),
    ("ethics", "Research ethics application"),
    ("grant", "Grant database summary (e.g. NIH RePORTER)"),
    ("trialist", "Personal communication with trialist"),
    ("sponsor", "Personal communication with the sponsor"),
)

PRELIMINARY = (
    PreliminaryField("design", "Study design", "choice", DESIGNS, PARALLEL),
    PreliminaryField("experimental", "Experimental intervention", "text"),
    PreliminaryField("comparator", "Comparator", "text"),
    PreliminaryField(
        "result",
        "Numerical result being assessed",
        "text",
        help="e.g. RR = 1.52 (95% CI 0.83 to 2.77), or a table or figure that identifies it",
    ),
    PreliminaryField(
        "aim", "Is the review team's aim for this result…?", "choice", AIMS, ASSIGNMENT
    ),
    PreliminaryField(
        "deviations",
        "Deviations from intended intervention to be addressed (at least one)",
        "multi",
        DEVIATIONS,
        shown_if={"aim": (ADHERING,)},
    ),
    PreliminaryField("sources", "Sources of information obtained to inform the assessment",
                     "multi", SOURCES),
)  # fmt: skip

ALL_DOMAINS = (
    _d1_individual(),
    _d1_cluster()[1],
    _ds_crossover(),
    Domain("D2", "Bias due to deviations from intended interventions"),
    Domain("D3", "Bias due to missing outcome data"),
    Domain("D4", "Bias in measurement of the outcome"),
    Domain("D5", "Bias in selection of the reported result"),
)
ROBVIS = {PARALLEL: "ROB2", CLUSTER: "ROB2-Cluster", CROSSOVER: "Generic"}


def variant_domains(design: str, aim: str, addressed: frozenset[str]) -> tuple[Domain, ...]:
    d2 = (
        _d2_adhering(addressed)
        if aim == ADHERING
        else (_d2_assignment_cluster() if design == CLUSTER else _d2_assignment())
    )
    if design == CLUSTER:
        return (*_d1_cluster(), d2, _d3(True), _d4(True), _d5(False))
    if design == CROSSOVER:
        return (_d1_individual(), _ds_crossover(), d2, _d3(False), _d4(False), _d5(True))
    return (_d1_individual(), d2, _d3(False), _d4(False), _d5(False))


def _resolve(preliminary: Preliminary) -> Tool:
    design = str(preliminary.get("design") or "")
    design = design if design in ROBVIS else PARALLEL
    aim = ADHERING if preliminary.get("aim") == ADHERING else ASSIGNMENT
    addressed = frozenset(preliminary.get("deviations") or ()) if aim == ADHERING else frozenset()
    names = dict(DESIGNS)
    return variant_of(
        TOOL,
        variant=f"{names[design]} · effect of {'adhering' if aim == ADHERING else 'assignment'}",
        domains=variant_domains(design, aim, addressed),
        robvis_template=ROBVIS[design],
    )


def _preliminary_problem(preliminary: Preliminary) -> str:
    if preliminary.get("aim") == ADHERING and not preliminary.get("deviations"):
        return (
            "For the effect of adhering to intervention, select at least one kind of deviation "
            "to address (preliminary considerations)."
        )
    return ""


TOOL = Tool(
    key="rob2",
    name="RoB 2 (randomised trials)",
    domains=variant_domains(PARALLEL, ASSIGNMENT, frozenset()),
    judgements=JUDGEMENTS,
    per_result=True,
    robvis_template="ROB2",
    overall=overall,
    reference=(
        "Sterne et al. BMJ 2019;366:l4898; RoB 2 full guidance document, 22 August 2019; "
        "RoB 2 for cluster-randomized trials and for crossover trials, 18 March 2021"
    ),
    colours={LOW: "#02C100", SOME: "#E2DF07", HIGH: "#BF0000"},
    licence=LICENCE,
    preliminary=PRELIMINARY,
    resolver=_resolve,
    variant=f"{DESIGNS[0][1]} · effect of assignment",
    all_domains=ALL_DOMAINS,
    preliminary_problem=_preliminary_problem,
)

__all__ = ["TOOL", "LOW", "SOME", "HIGH", "JUDGEMENTS", "variant_domains"]
