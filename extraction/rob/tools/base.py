"""The shape of a risk-of-bias tool: domains, signalling questions and the algorithms that
propose a judgement from the answers. Pure Python: no Django import (a test checks).

A tool may come in variants chosen by its preliminary considerations (RoB 2: the trial's
design and the effect of interest; ROBINS-I V2: the effect the analysis estimates and the
decision whether to proceed). `Tool.resolve(preliminary)` returns the variant to assess with;
a tool without variants resolves to itself.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

Answers = Mapping[str, str]
Preliminary = Mapping[str, Any]

# Signalling-question responses, as the Cochrane tools spell them. ROBINS-I V2 adds weak and
# strong variants of "no" and "yes" for questions where the size of a problem matters.
Y, PY, PN, N, NI, NA = "Y", "PY", "PN", "N", "NI", "NA"
WN, SN, WY, SY = "WN", "SN", "WY", "SY"
YES = frozenset({Y, PY})
NO = frozenset({N, PN})
RESPONSE_LABELS = {
    Y: "Yes",
    PY: "Probably yes",
    PN: "Probably no",
    N: "No",
    NI: "No information",
    NA: "Not applicable",
    WN: "No, but not substantial",
    SN: "No, and probably substantial",
    WY: "Yes, but not substantially",
    SY: "Yes, substantially",
}
STANDARD = (Y, PY, PN, N, NI)
STANDARD_NA = (NA, Y, PY, PN, N, NI)

# The tools' own text (signalling questions, their conditions, domain names) is licensed by
# its authors under CC BY-NC-ND 4.0: shown verbatim, attributed, never edited or translated.
CC_BY_NC_ND = "CC BY-NC-ND 4.0"
CC_BY_NC_ND_URL = "https://creativecommons.org/licenses/by-nc-nd/4.0/"


class Unanswered(Exception):
    """The algorithm needs an answer that is missing (or 'not applicable' where it applies)."""

    def __init__(self, question: str) -> None:
        super().__init__(question)
        self.question = question


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    options: tuple[str, ...] = STANDARD
    # When the question applies, given the other answers of its domain (None: always).
    applies_if: Callable[[Answers], bool] | None = None
    condition: str = ""  # the tool's own wording of when to answer, e.g. "If Y/PY/NI to 2.1"
    # True where "not applicable" is itself an answer the algorithm routes on (RoB 2's
    # adhering variant: "[if applicable]" questions), not merely "not on this path".
    na_routes: bool = False

    def applies(self, answers: Answers) -> bool:
        return self.applies_if is None or self.applies_if(answers)


@dataclass(frozen=True)
class Domain:
    key: str  # "D1"
    name: str
    questions: tuple[Question, ...] = ()
    # Proposes the domain judgement from the answers; raises Unanswered for a missing answer.
    algorithm: Callable[[Answers], str] | None = None
    # The judgements this domain can take when they are fewer than the tool's (ROBINS-I V2
    # domain 1 is at best "low except for uncontrolled confounding"); empty: the tool's.
    judgements: tuple[str, ...] = ()


@dataclass(frozen=True)
class Proposal:
    """What an algorithm proposes for one domain: a judgement, or the question it still needs."""

    judgement: str | None
    needs: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"judgement": self.judgement, "needs": self.needs}


@dataclass(frozen=True)
class PreliminaryField:
    """One preliminary consideration: a choice, several choices, or free text."""

    id: str
    label: str
    kind: str = "choice"  # "choice" | "multi" | "text"
    choices: tuple[tuple[str, str], ...] = ()
    default: str = ""
    help: str = ""
    # Shown only when another field has one of these values: {"aim": ("adhering",)}.
    shown_if: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def shown(self, preliminary: Preliminary) -> bool:
        return all(str(preliminary.get(k, "")) in v for k, v in self.shown_if.items())


@dataclass(frozen=True)
class Tool:
    key: str
    name: str
    domains: tuple[Domain, ...]
    judgements: tuple[str, ...]  # best to worst
    per_result: (
        bool  # RoB 2 and ROBINS-I V2 are assessed per result; RoB 1, ROBINS-I 2016 per study
    )
    robvis_template: str  # the `tool=` argument of robvis for the CSV export
    overall: Callable[[Mapping[str, str]], str] | None = None
    reference: str = ""
    colours: Mapping[str, str] = field(default_factory=dict)
    licence: str = ""  # the notice shown wherever this tool's questions are shown or exported
    preliminary: tuple[PreliminaryField, ...] = ()
    # Picks the variant for the preliminary considerations (None: the tool has one form).
    resolver: Callable[[Preliminary], "Tool"] | None = None
    variant: str = ""  # e.g. "cluster · effect of adhering"
    # Every variant's domains, in the tool's display order (plots and exports span them).
    all_domains: tuple[Domain, ...] = ()
    # Set when the preliminary considerations end the assessment (ROBINS-I V2 section B):
    # the reason; the overall judgement is then proposed without domain judgements.
    stopped: str = ""
    # What keeps the preliminary considerations from being complete ("" when nothing does).
    preliminary_problem: Callable[[Preliminary], str] | None = None

    @property
    def has_algorithm(self) -> bool:
        return any(d.algorithm for d in self.domains)

    @property
    def every_domain(self) -> tuple[Domain, ...]:
        return self.all_domains or self.domains

    def resolve(self, preliminary: Preliminary | None = None) -> "Tool":
        """The variant to assess with, given the preliminary considerations."""
        if self.resolver is None:
            return self
        clean = self.preliminary_with_defaults(preliminary or {})
        return self.resolver(clean)

    def preliminary_with_defaults(self, preliminary: Preliminary) -> dict[str, Any]:
        clean: dict[str, Any] = {}
        for f in self.preliminary:
            value = preliminary.get(f.id)
            if f.kind == "multi":
                clean[f.id] = [str(v) for v in (value or [])]
            else:
                clean[f.id] = str(value if value not in (None, "") else f.default)
        return clean

    def domain(self, key: str) -> Domain:
        for d in self.domains:
            if d.key == key:
                return d
        raise KeyError(key)

    def question(self, qid: str) -> Question:
        for d in self.domains:
            for q in d.questions:
                if q.id == qid:
                    return q
        raise KeyError(qid)

    def domain_judgements(self, key: str) -> tuple[str, ...]:
        return self.domain(key).judgements or self.judgements

    def propose_domain(self, key: str, answers: Answers) -> Proposal:
        domain = self.domain(key)
        if domain.algorithm is None:
            return Proposal(None)
        try:
            return Proposal(domain.algorithm(answers))
        except Unanswered as missing:
            return Proposal(None, needs=missing.question)

    def propose(self, answers: Answers) -> dict[str, Proposal]:
        """Domain proposals keyed by domain key."""
        return {d.key: self.propose_domain(d.key, answers) for d in self.domains}

    def propose_overall(self, judgements: Mapping[str, str | None]) -> str | None:
        """The overall judgement from the domain judgements (final ones, after overrides)."""
        if self.overall is None:
            return None
        if any(not judgements.get(d.key) for d in self.domains):
            return None
        return self.overall({d.key: str(judgements[d.key]) for d in self.domains})


def variant_of(base: Tool, *, variant: str, domains: tuple[Domain, ...], **changes: Any) -> Tool:
    """A variant of `base`: its own domains (and anything else that differs)."""
    return replace(base, variant=variant, domains=domains, resolver=None, **changes)


def need(answers: Answers, qid: str, allowed: tuple[str, ...] = STANDARD) -> str:
    """The answer to `qid` on the algorithm's path; 'not applicable' or blank there is missing."""
    value = answers.get(qid) or ""
    if value not in allowed or value == NA:
        raise Unanswered(qid)
    return value


def worst(judgements: Mapping[str, str], order: tuple[str, ...]) -> str:
    return max(judgements.values(), key=order.index)
