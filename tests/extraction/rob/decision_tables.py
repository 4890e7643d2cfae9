"""The published decision tables, written out row by row, independently of the algorithms.

A row maps question ids to the answers that take that branch (a question not named is not on
the row's path); its judgement is the table's. The tests enumerate every combination of
answers and check that exactly one row matches and that the algorithm agrees with it.
"""

Y, PY, PN, N, NI, NA = "Y", "PY", "PN", "N", "NI", "NA"
YES = {Y, PY}
NO = {N, PN}
YES_NI = YES | {NI}
NO_NI = NO | {NI}
ONLY_NI = {NI}

# RoB 2 full guidance (22 August 2019), algorithm figures, effect of assignment.
L, S, H = "Low", "Some concerns", "High"

ROB2 = {
    "D1": [
        ({"1.2": NO}, H),
        ({"1.2": YES, "1.1": NO}, S),
        ({"1.2": YES, "1.1": YES_NI, "1.3": NO_NI}, L),
        ({"1.2": YES, "1.1": YES_NI, "1.3": YES}, S),
        ({"1.2": ONLY_NI, "1.3": NO_NI}, S),
        ({"1.2": ONLY_NI, "1.3": YES}, H),
    ],
    # Domain 2 is two tables (2.1-2.5 and 2.6-2.7) combined by ROB2_D2_COMBINED below.
    "D2_part1": [
        ({"2.1": NO, "2.2": NO}, L),
        *[
            row
            for aware in ({"2.1": YES_NI}, {"2.1": NO, "2.2": YES_NI})
            for row in (
                ({**aware, "2.3": NO}, L),
                ({**aware, "2.3": ONLY_NI}, S),
                ({**aware, "2.3": YES, "2.4": NO}, S),
                ({**aware, "2.3": YES, "2.4": YES_NI, "2.5": YES}, S),
                ({**aware, "2.3": YES, "2.4": YES_NI, "2.5": NO_NI}, H),
            )
        ],
    ],
    "D2_part2": [
        ({"2.6": YES}, L),
        ({"2.6": NO_NI, "2.7": NO}, S),
        ({"2.6": NO_NI, "2.7": YES_NI}, H),
    ],
    "D3": [
        ({"3.1": YES}, L),
        ({"3.1": NO_NI, "3.2": YES}, L),
        ({"3.1": NO_NI, "3.2": NO, "3.3": NO}, L),
        ({"3.1": NO_NI, "3.2": NO, "3.3": YES_NI, "3.4": NO}, S),
        ({"3.1": NO_NI, "3.2": NO, "3.3": YES_NI, "3.4": YES_NI}, H),
    ],
    "D4": [
        ({"4.1": YES}, H),
        ({"4.1": NO_NI, "4.2": YES}, H),
        ({"4.1": NO_NI, "4.2": NO, "4.3": NO}, L),
        ({"4.1": NO_NI, "4.2": NO, "4.3": YES_NI, "4.4": NO}, L),
        ({"4.1": NO_NI, "4.2": NO, "4.3": YES_NI, "4.4": YES_NI, "4.5": NO}, S),
        ({"4.1": NO_NI, "4.2": NO, "4.3": YES_NI, "4.4": YES_NI, "4.5": YES_NI}, H),
        ({"4.1": NO_NI, "4.2": ONLY_NI, "4.3": NO}, S),
        ({"4.1": NO_NI, "4.2": ONLY_NI, "4.3": YES_NI, "4.4": NO}, S),
        ({"4.1": NO_NI, "4.2": ONLY_NI, "4.3": YES_NI, "4.4": YES_NI, "4.5": NO}, S),
        ({"4.1": NO_NI, "4.2": ONLY_NI, "4.3": YES_NI, "4.4": YES_NI, "4.5": YES_NI}, H),
    ],
    "D5": [
        ({"5.2": YES}, H),
        ({"5.2": NO_NI, "5.3": YES}, H),
        ({"5.2": NO, "5.3": NO, "5.1": YES}, L),
        ({"5.2": NO, "5.3": NO, "5.1": NO_NI}, S),
        ({"5.2": ONLY_NI, "5.3": NO_NI}, S),
        ({"5.2": NO, "5.3": ONLY_NI}, S),
    ],
}


def rob2_d2_combined(part1: str, part2: str) -> str:
    """Guidance: low only if both parts are low; high if either part is high."""
    if H in (part1, part2):
        return H
    return L if (part1, part2) == (L, L) else S


# ROBINS-I (2016 detailed guidance criteria), as laid out in docs/risk-of-bias.md.
LO, MO, SE, NIJ = "Low", "Moderate", "Serious", "No information"


def _three(base, question, yes, no, ni):
    return [
        ({**base, question: YES}, yes),
        ({**base, question: NO}, no),
        ({**base, question: ONLY_NI}, ni),
    ]


_TIME_VARYING = {"1.1": YES, "1.2": YES, "1.3": YES_NI}
_BASELINE = ({"1.1": YES, "1.2": NO_NI}, {"1.1": YES, "1.2": YES, "1.3": NO})
_SEL_YES = [{"2.1": YES, "2.2": YES, "2.3": YES}]
_SEL_NO = [{"2.1": NO}, {"2.1": YES, "2.2": NO}, {"2.1": YES, "2.2": YES_NI, "2.3": NO}]
_SEL_UNKNOWN = [
    {"2.1": ONLY_NI},
    {"2.1": YES, "2.2": ONLY_NI, "2.3": YES_NI},
    {"2.1": YES, "2.2": YES, "2.3": ONLY_NI},
]
_MISSING_PROBLEM = [
    {"5.1": NO},
    {"5.1": YES_NI, "5.2": YES},
    {"5.1": YES_NI, "5.2": NO_NI, "5.3": YES},
]
_ADHERENCE_NO = [
    {"4.1": {NA}, "4.3": NO},
    {"4.1": {NA}, "4.3": YES_NI, "4.4": NO},
    {"4.1": {NA}, "4.3": YES_NI, "4.4": YES_NI, "4.5": NO},
]

ROBINS_I = {
    "D1": [
        ({"1.1": NO}, LO),
        ({"1.1": ONLY_NI}, NIJ),
        ({**_TIME_VARYING, "1.7": NO}, SE),
        ({**_TIME_VARYING, "1.7": ONLY_NI}, NIJ),
        *_three({**_TIME_VARYING, "1.7": YES}, "1.8", MO, SE, NIJ),
        *[
            row
            for base in _BASELINE
            for row in (
                ({**base, "1.4": NO}, SE),
                ({**base, "1.4": YES_NI, "1.6": YES}, SE),
                ({**base, "1.4": ONLY_NI, "1.6": NO_NI}, NIJ),
                ({**base, "1.4": YES, "1.6": NO_NI, "1.5": NO}, SE),
                ({**base, "1.4": YES, "1.6": NO_NI, "1.5": ONLY_NI}, NIJ),
                ({**base, "1.4": YES, "1.6": ONLY_NI, "1.5": YES}, NIJ),
                ({**base, "1.4": YES, "1.6": NO, "1.5": YES}, MO),
            )
        ],
    ],
    "D2": [
        *[row for s in _SEL_YES for row in _three(s, "2.5", MO, SE, NIJ)],
        *[
            row
            for s in _SEL_NO + _SEL_UNKNOWN
            for row in _three({**s, "2.4": NO}, "2.5", MO, SE, NIJ)
        ],
        *[({**s, "2.4": YES}, LO) for s in _SEL_NO],
        *[({**s, "2.4": ONLY_NI}, NIJ) for s in _SEL_NO],
        *[({**s, "2.4": YES_NI}, NIJ) for s in _SEL_UNKNOWN],
    ],
    "D3": [
        ({"3.1": NO}, SE),
        ({"3.1": YES_NI, "3.3": YES}, SE),
        ({"3.1": ONLY_NI, "3.3": NO_NI}, NIJ),
        ({"3.1": YES, "3.3": ONLY_NI}, NIJ),
        *_three({"3.1": YES, "3.3": NO}, "3.2", LO, MO, NIJ),
    ],
    "D4": [
        ({"4.1": NO}, LO),
        ({"4.1": ONLY_NI}, NIJ),
        *_three({"4.1": YES}, "4.2", SE, MO, NIJ),
        *[row for base in _ADHERENCE_NO for row in _three(base, "4.6", MO, SE, NIJ)],
        ({"4.1": {NA}, "4.3": YES, "4.4": YES, "4.5": YES}, LO),
        ({"4.1": {NA}, "4.3": ONLY_NI, "4.4": YES_NI, "4.5": YES_NI}, NIJ),
        ({"4.1": {NA}, "4.3": YES, "4.4": ONLY_NI, "4.5": YES_NI}, NIJ),
        ({"4.1": {NA}, "4.3": YES, "4.4": YES, "4.5": ONLY_NI}, NIJ),
    ],
    "D5": [
        ({"5.1": YES, "5.2": NO, "5.3": NO}, LO),
        *[({**p, "5.5": YES}, LO) for p in _MISSING_PROBLEM],
        *[row for p in _MISSING_PROBLEM for row in _three({**p, "5.5": NO_NI}, "5.4", LO, SE, NIJ)],
        ({"5.1": ONLY_NI, "5.2": NO_NI, "5.3": NO_NI}, NIJ),
        ({"5.1": YES, "5.2": ONLY_NI, "5.3": NO_NI}, NIJ),
        ({"5.1": YES, "5.2": NO, "5.3": ONLY_NI}, NIJ),
    ],
    "D6": [
        ({"6.3": NO}, SE),
        ({"6.3": YES_NI, "6.4": YES}, SE),
        ({"6.3": YES_NI, "6.4": NO_NI, "6.1": YES, "6.2": YES}, SE),
        ({"6.3": YES, "6.4": NO, "6.1": NO}, LO),
        ({"6.3": YES, "6.4": NO, "6.1": YES_NI, "6.2": NO}, LO),
        ({"6.3": YES, "6.4": NO, "6.1": YES, "6.2": ONLY_NI}, MO),
        ({"6.3": YES, "6.4": NO, "6.1": ONLY_NI, "6.2": YES_NI}, NIJ),
        ({"6.3": ONLY_NI, "6.4": NO_NI, "6.1": NO_NI}, NIJ),
        ({"6.3": ONLY_NI, "6.4": NO_NI, "6.1": YES, "6.2": NO_NI}, NIJ),
        ({"6.3": YES, "6.4": ONLY_NI, "6.1": NO_NI}, NIJ),
        ({"6.3": YES, "6.4": ONLY_NI, "6.1": YES, "6.2": NO_NI}, NIJ),
    ],
    "D7": [
        ({"7.1": YES}, SE),
        ({"7.1": NO_NI, "7.2": YES}, SE),
        ({"7.1": NO_NI, "7.2": NO_NI, "7.3": YES}, SE),
        ({"7.1": NO, "7.2": NO, "7.3": NO}, LO),
        ({"7.1": ONLY_NI, "7.2": NO_NI, "7.3": NO_NI}, MO),
        ({"7.1": NO, "7.2": ONLY_NI, "7.3": NO_NI}, MO),
        ({"7.1": NO, "7.2": NO, "7.3": ONLY_NI}, MO),
    ],
}


# ---------------------------------------------------------------------------------------------
# RoB 2 variants. A row's judgement "needs:<question>" means the table asks that question and
# the answer given ("not applicable") is no answer: the algorithm must name that question.
NA_ = {NA}
YES_NA = YES | NA_
NO_NA = NO | NA_


def needs(qid: str) -> str:
    return f"needs:{qid}"


def _analysis_26(base):
    """The adhering variant's last step: an appropriate analysis (2.6) or not."""
    return [
        ({**base, "2.6": YES}, S),
        ({**base, "2.6": NO_NI}, H),
        ({**base, "2.6": NA_}, needs("2.6")),
    ]


_BLINDED = {"2.1": NO, "2.2": NO}
_AWARE = ({"2.1": YES_NI}, {"2.1": NO, "2.2": YES_NI})

# RoB 2 full guidance, figure for domain 2, effect of adhering to intervention: participants
# and carers unaware, or (aware and) non-protocol interventions balanced or not applicable,
# then no implementation failures and no non-adherence (or not applicable): low; otherwise the
# analysis decides between some concerns and high.
ROB2_D2_ADHERING = [
    ({**_BLINDED, "2.4": NO_NA, "2.5": NO_NA}, L),
    *_analysis_26({**_BLINDED, "2.4": YES_NI}),
    *_analysis_26({**_BLINDED, "2.4": NO_NA, "2.5": YES_NI}),
    *[
        row
        for aware in _AWARE
        for row in (
            ({**aware, "2.3": YES_NA, "2.4": NO_NA, "2.5": NO_NA}, L),
            *_analysis_26({**aware, "2.3": NO_NI}),
            *_analysis_26({**aware, "2.3": YES_NA, "2.4": YES_NI}),
            *_analysis_26({**aware, "2.3": YES_NA, "2.4": NO_NA, "2.5": YES_NI}),
        )
    ],
]

# RoB 2 for cluster-randomized trials (2021).
ROB2_CLUSTER_D1A = [
    ({q.replace("1.", "1a."): v for q, v in cond.items()}, j) for cond, j in ROB2["D1"]
]
ROB2_CLUSTER_D1B = [
    ({"1b.1": YES}, L),
    ({"1b.1": NO_NI, "1b.2": YES}, H),
    ({"1b.1": NO_NI, "1b.2": NO, "1b.3": NO_NI}, L),
    ({"1b.1": NO_NI, "1b.2": NO, "1b.3": YES}, S),
    ({"1b.1": NO_NI, "1b.2": ONLY_NI, "1b.3": NO_NI}, S),
    ({"1b.1": NO_NI, "1b.2": ONLY_NI, "1b.3": YES}, H),
]
_CLUSTER_UNAWARE = ({"2.1a": NO, "2.2": NO}, {"2.1a": YES_NI, "2.1b": NO, "2.2": NO})
_CLUSTER_AWARE = (
    {"2.1a": NO, "2.2": YES_NI},
    {"2.1a": YES_NI, "2.1b": YES_NI},
    {"2.1a": YES_NI, "2.1b": NO, "2.2": YES_NI},
)
ROB2_CLUSTER_D2_PART1 = [
    *[(unaware, L) for unaware in _CLUSTER_UNAWARE],
    *[
        row
        for aware in _CLUSTER_AWARE
        for row in (
            ({**aware, "2.3": NO}, L),
            ({**aware, "2.3": ONLY_NI}, S),
            ({**aware, "2.3": YES, "2.4": NO}, S),
            ({**aware, "2.3": YES, "2.4": YES_NI, "2.5": YES}, S),
            ({**aware, "2.3": YES, "2.4": YES_NI, "2.5": NO_NI}, H),
        )
    ],
]
_MISSING_AFTER_31 = [
    ({"3.2": YES}, L),
    ({"3.2": NO, "3.3": NO}, L),
    ({"3.2": NO, "3.3": YES_NI, "3.4": NO}, S),
    ({"3.2": NO, "3.3": YES_NI, "3.4": YES_NI}, H),
]
ROB2_CLUSTER_D3 = [
    ({"3.1a": YES, "3.1b": YES}, L),
    *[
        ({**incomplete, **rest}, j)
        for incomplete in ({"3.1a": NO_NI}, {"3.1a": YES, "3.1b": NO_NI})
        for rest, j in _MISSING_AFTER_31
    ],
]
ROB2_CLUSTER_D4 = [
    ({"4.1": YES}, H),
    ({"4.1": NO_NI, "4.2": YES}, H),
    *[
        row
        for differed, floor in (({"4.1": NO_NI, "4.2": NO}, L), ({"4.1": NO_NI, "4.2": ONLY_NI}, S))
        for row in (
            ({**differed, "4.3a": NO}, floor),
            ({**differed, "4.3a": YES_NI, "4.3b": NO}, floor),
            ({**differed, "4.3a": YES_NI, "4.3b": YES_NI, "4.4": NO}, floor),
            ({**differed, "4.3a": YES_NI, "4.3b": YES_NI, "4.4": YES_NI, "4.5": NO}, S),
            ({**differed, "4.3a": YES_NI, "4.3b": YES_NI, "4.4": YES_NI, "4.5": YES_NI}, H),
        )
    ],
]

# RoB 2 for crossover trials (2021): domain S (period and carryover effects) and 5.4.
ROB2_CROSSOVER_DS = [
    ({"S.3": NO}, H),
    ({"S.3": ONLY_NI}, S),
    ({"S.3": YES, "S.1": YES}, L),
    ({"S.3": YES, "S.1": NO_NI, "S.2": YES}, L),
    ({"S.3": YES, "S.1": NO_NI, "S.2": NO_NI}, S),
]
ROB2_CROSSOVER_D5 = [
    ({"5.2": YES}, H),
    ({"5.2": NO_NI, "5.3": YES}, H),
    ({"5.2": NO_NI, "5.3": NO_NI, "5.4": YES}, H),
    ({"5.2": NO, "5.3": NO, "5.4": NO, "5.1": YES}, L),
    ({"5.2": NO, "5.3": NO, "5.4": NO, "5.1": NO_NI}, S),
    ({"5.2": ONLY_NI, "5.3": NO_NI, "5.4": NO_NI}, S),
    ({"5.2": NO, "5.3": ONLY_NI, "5.4": NO_NI}, S),
    ({"5.2": NO, "5.3": NO, "5.4": ONLY_NI}, S),
]


# ---------------------------------------------------------------------------------------------
# ROBINS-I V2 (cribsheet of 20 November 2025): the flowcharts of domains 1-5 written out as
# rows, domain 6's and the overall criteria as stated.
LX = "Low (except for concerns about uncontrolled confounding)"
CR = "Critical"
WN, SN, WY, SY = "WN", "SN", "WY", "SY"
STRONG_NO_NI = {SN, NI}
CONTROLLED = {Y, PY, WN}

V2_D1_ITT = [
    ({"1.1": STRONG_NO_NI, "1.4": NO}, SE),
    ({"1.1": STRONG_NO_NI, "1.4": YES}, CR),
    ({"1.1": CONTROLLED, "1.3": YES, "1.4": YES}, CR),
    ({"1.1": CONTROLLED, "1.3": YES, "1.4": NO, "1.2": YES}, SE),
    ({"1.1": CONTROLLED, "1.3": YES, "1.4": NO, "1.2": {WN, SN, NI}}, CR),
    ({"1.1": CONTROLLED, "1.3": NO_NI, "1.2": STRONG_NO_NI}, SE),
    ({"1.1": YES, "1.3": NO_NI, "1.2": YES, "1.4": NO}, LX),
    ({"1.1": YES, "1.3": NO_NI, "1.2": YES, "1.4": YES}, SE),
    ({"1.1": YES, "1.3": NO_NI, "1.2": {WN}, "1.4": NO}, MO),
    ({"1.1": YES, "1.3": NO_NI, "1.2": {WN}, "1.4": YES}, SE),
    ({"1.1": {WN}, "1.3": NO_NI, "1.2": CONTROLLED, "1.4": NO}, MO),
    ({"1.1": {WN}, "1.3": NO_NI, "1.2": CONTROLLED, "1.4": YES}, SE),
]
V2_D1_PER_PROTOCOL = [
    ({"1.1": NO_NI, "1.4": YES}, CR),
    ({"1.1": NO_NI, "1.4": NO_NI, "1.5": YES}, CR),
    ({"1.1": NO_NI, "1.4": NO_NI, "1.5": NO}, SE),
    ({"1.1": YES, "1.2": STRONG_NO_NI}, SE),
    ({"1.1": YES, "1.2": CONTROLLED, "1.3": STRONG_NO_NI}, SE),
    ({"1.1": YES, "1.2": YES, "1.3": YES, "1.5": NO}, LX),
    ({"1.1": YES, "1.2": YES, "1.3": YES, "1.5": YES}, SE),
    ({"1.1": YES, "1.2": YES, "1.3": {WN}, "1.5": NO}, MO),
    ({"1.1": YES, "1.2": YES, "1.3": {WN}, "1.5": YES}, SE),
    ({"1.1": YES, "1.2": {WN}, "1.3": CONTROLLED, "1.5": NO}, MO),
    ({"1.1": YES, "1.2": {WN}, "1.3": CONTROLLED, "1.5": YES}, SE),
]

# Domain 2: three tracks (entry at 2.1-2.3), each through 2.4 then 2.5, as drawn.
_D2_ENTRY = {
    "top": [
        {"2.1": YES},
        {"2.1": NO_NI, "2.2": YES},
        {"2.1": NO_NI, "2.2": NO_NI, "2.3": {SY}},
    ],
    "middle": [{"2.1": NO_NI, "2.2": NO_NI, "2.3": {WY, NI}}],
    "bottom": [{"2.1": NO_NI, "2.2": NO_NI, "2.3": NO}],
}
# 2.4 on each track: answers -> the 2.5 box reached, or a judgement.
_D2_AT_24 = {
    "top": [(NO, "top"), ({WY, NI}, "middle"), ({SY}, "bottom")],
    "middle": [(NO, "middle"), ({WY, NI}, "bottom"), ({SY}, CR)],
    "bottom": [(NO, "bottom"), ({WY, NI, SY}, CR)],
}
_D2_AT_25 = {
    "top": [(NO, LO), (YES_NI, MO)],
    "middle": [(NO, MO), (YES_NI, SE)],
    "bottom": [(NO, SE), (YES_NI, CR)],
}
V2_D2 = [
    ({**entry, "2.4": a24, **({"2.5": a25} if then in _D2_AT_25 else {})}, j)
    for track, entries in _D2_ENTRY.items()
    for entry in entries
    for a24, then in _D2_AT_24[track]
    for a25, j in _D2_AT_25.get(then, [(None, then)])
]

_V2_D3_PART_A = [
    ({"3.1": YES, "3.2": NO_NI}, LO),
    ({"3.1": YES, "3.2": YES}, MO),
    ({"3.1": {WN, NI}}, MO),
    ({"3.1": {SN}}, SE),
]
_V2_D3_PART_B = [
    ({"3.3": NO}, LO),
    ({"3.3": ONLY_NI}, MO),
    ({"3.3": YES, "3.4": NO}, LO),
    ({"3.3": YES, "3.4": ONLY_NI}, MO),
    ({"3.3": YES, "3.4": YES, "3.5": NO_NI}, MO),
    ({"3.3": YES, "3.4": YES, "3.5": YES}, SE),
]
_V2_D3_SERIOUS = [
    ({"3.6": YES}, MO),
    ({"3.6": NO_NI, "3.7": YES}, MO),
    ({"3.6": NO_NI, "3.7": NO_NI, "3.8": YES}, CR),
    ({"3.6": NO_NI, "3.7": NO_NI, "3.8": NO_NI}, SE),
]
_RANK = {LO: 0, MO: 1, SE: 2, CR: 3}
V2_D3 = [
    row
    for a, ja in _V2_D3_PART_A
    for b, jb in _V2_D3_PART_B
    for row in (
        [({**a, **b, **c}, jc) for c, jc in _V2_D3_SERIOUS]
        if SE in (ja, jb)
        else [({**a, **b}, ja if _RANK[ja] >= _RANK[jb] else jb)]
    )
]

_V2_D4_INCOMPLETE = [
    {"4.1": NO_NI},
    {"4.1": YES, "4.2": NO_NI},
    {"4.1": YES, "4.2": YES, "4.3": NO_NI},
]
# "Is there evidence that the result was not biased?" (4.11) after a handling question that
# left the level at moderate-or-better (@0), moderate (@1) or serious (@2).
_D4_411 = {0: ((LO, MO)), 1: (MO, SE), 2: (SE, CR)}


def _then_411(base, level):
    kept, raised = _D4_411[level]
    return [({**base, "4.11": YES}, kept), ({**base, "4.11": NO}, raised)]


V2_D4 = [
    ({"4.1": YES, "4.2": YES, "4.3": YES}, LO),
    *[
        row
        for inc in _V2_D4_INCOMPLETE
        for row in (
            ({**inc, "4.4": YES_NI, "4.5": NO}, LO),
            *_then_411({**inc, "4.4": YES_NI, "4.5": YES_NI, "4.6": YES}, 0),
            *_then_411({**inc, "4.4": YES_NI, "4.5": YES_NI, "4.6": {WN, NI}}, 1),
            *_then_411({**inc, "4.4": YES_NI, "4.5": YES_NI, "4.6": {SN}}, 2),
            ({**inc, "4.4": NO, "4.7": YES, "4.8": NO_NI}, SE),
            ({**inc, "4.4": NO, "4.7": YES, "4.8": YES, "4.9": YES}, LO),
            *_then_411({**inc, "4.4": NO, "4.7": YES, "4.8": YES, "4.9": {WN, NI}}, 1),
            *_then_411({**inc, "4.4": NO, "4.7": YES, "4.8": YES, "4.9": {SN}}, 2),
            ({**inc, "4.4": NO, "4.7": NO_NI, "4.10": YES}, LO),
            *_then_411({**inc, "4.4": NO, "4.7": NO_NI, "4.10": {WN, NI}}, 1),
            *_then_411({**inc, "4.4": NO, "4.7": NO_NI, "4.10": {SN}}, 2),
        )
    ],
]

V2_D5 = [
    ({"5.1": YES}, SE),
    ({"5.1": NO, "5.2": NO}, LO),
    ({"5.1": NO, "5.2": YES_NI, "5.3": NO}, LO),
    ({"5.1": NO, "5.2": YES_NI, "5.3": {WY, NI}}, MO),
    ({"5.1": NO, "5.2": YES_NI, "5.3": {SY}}, SE),
    ({"5.1": ONLY_NI, "5.2": NO}, MO),
    ({"5.1": ONLY_NI, "5.2": YES_NI, "5.3": {WY, NI} | NO}, MO),
    ({"5.1": ONLY_NI, "5.2": YES_NI, "5.3": {SY}}, SE),
]


def _d6_band(answers):
    """Domain 6 criteria: Y/PY to two or more of 6.2-6.4 critical; Y/PY to one, or NI to all
    three, serious; NI to at least one (and no Y/PY) moderate; N/PN to all low."""
    picks = [answers[q] for q in ("6.2", "6.3", "6.4")]
    if sum(p in YES for p in picks) >= 2:
        return CR
    if any(p in YES for p in picks) or all(p == NI for p in picks):
        return SE
    return MO if NI in picks else LO


V2_D6 = [
    ({"6.1": YES}, LO),
    *[
        ({"6.1": NO_NI, "6.2": a, "6.3": b, "6.4": c}, _d6_band({"6.2": x, "6.3": y, "6.4": z}))
        for a, x in ((YES, Y), (NO, N), (ONLY_NI, NI))
        for b, y in ((YES, Y), (NO, N), (ONLY_NI, NI))
        for c, z in ((YES, Y), (NO, N), (ONLY_NI, NI))
    ],
]


def v2_overall(judgements):
    """Overall: the worst domain; all domains at their best: low except for confounding."""
    rank = {LX: 0, LO: 0, MO: 1, SE: 2, CR: 3}
    worst = max(rank[j] for j in judgements)
    return LX if worst == 0 else [LO, MO, SE, CR][worst]
