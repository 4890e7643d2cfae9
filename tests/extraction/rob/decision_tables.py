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
