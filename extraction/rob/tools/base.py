"""The shape of a risk-of-bias tool: domains, signalling questions and the algorithms that
propose a judgement from the answers. Pure Python: no Django import (a test checks)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

Answers = Mapping[str, str]

# Signalling-question responses, as the Cochrane tools spell them.
Y, PY, PN, N, NI, NA = "Y", "PY", "PN", "N", "NI", "NA"
YES = frozenset({Y, PY})
NO = frozenset({N, PN})
RESPONSE_LABELS = {
    Y: "Yes",
    PY: "Probably yes",
    PN: "Probably no",
    N: "No",
    NI: "No information",
    NA: "Not applicable",
}
STANDARD = (Y, PY, PN, N, NI)
STANDARD_NA = (NA, Y, PY, PN, N, NI)


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

    def applies(self, answers: Answers) -> bool:
        return self.applies_if is None or self.applies_if(answers)


@dataclass(frozen=True)
class Domain:
    key: str  # "D1"
    name: str
    questions: tuple[Question, ...] = ()
    # Proposes the domain judgement from the answers; raises Unanswered for a missing answer.
    algorithm: Callable[[Answers], str] | None = None


@dataclass(frozen=True)
class Proposal:
    """What an algorithm proposes for one domain: a judgement, or the question it still needs."""

    judgement: str | None
    needs: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"judgement": self.judgement, "needs": self.needs}


@dataclass(frozen=True)
class Tool:
    key: str
    name: str
    domains: tuple[Domain, ...]
    judgements: tuple[str, ...]  # best to worst, then any "no information"-like label last
    per_result: bool  # RoB 2 is assessed per result (outcome); RoB 1 and ROBINS-I per study
    robvis_template: str  # the `tool=` argument of robvis for the CSV export
    overall: Callable[[Mapping[str, str]], str] | None = None
    reference: str = ""
    colours: Mapping[str, str] = field(default_factory=dict)

    @property
    def has_algorithm(self) -> bool:
        return any(d.algorithm for d in self.domains)

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

    def propose_domain(self, key: str, answers: Answers) -> Proposal:
        domain = self.domain(key)
        if domain.algorithm is None:
            return Proposal(None)
        try:
            return Proposal(domain.algorithm(answers))
        except Unanswered as missing:
            return Proposal(None, needs=missing.question)

    def propose(self, answers: Answers) -> dict[str, Proposal]:
        """Domain proposals keyed by domain key, plus "overall" once every domain has one."""
        proposals = {d.key: self.propose_domain(d.key, answers) for d in self.domains}
        return proposals

    def propose_overall(self, judgements: Mapping[str, str | None]) -> str | None:
        """The overall judgement from the domain judgements (final ones, after overrides)."""
        if self.overall is None:
            return None
        if any(not judgements.get(d.key) for d in self.domains):
            return None
        return self.overall({d.key: str(judgements[d.key]) for d in self.domains})


def need(answers: Answers, qid: str, allowed: tuple[str, ...] = STANDARD) -> str:
    """The answer to `qid` on the algorithm's path; 'not applicable' or blank there is missing."""
    value = answers.get(qid) or ""
    if value not in allowed or value == NA:
        raise Unanswered(qid)
    return value
