"""Risk-of-bias tools: their domains, signalling questions and algorithms. No Django here."""

from extraction.rob.tools import rob1, rob2, robins_i, robins_i_v2
from extraction.rob.tools.base import (
    NA,
    RESPONSE_LABELS,
    Domain,
    PreliminaryField,
    Proposal,
    Question,
    Tool,
)

BUILTIN: dict[str, Tool] = {
    tool.key: tool for tool in (rob2.TOOL, rob1.TOOL, robins_i_v2.TOOL, robins_i.TOOL)
}


def custom_tool(*, key: str, name: str, definition: dict) -> Tool:
    """A tool the lead defined: domains with questions and judgement options, no algorithm.

    `definition` = {"judgements": [...], "domains": [{"name": ..., "questions": [text, ...]}]}.
    """
    domains = tuple(
        Domain(
            f"D{i}",
            str(d["name"]),
            tuple(
                Question(f"{i}.{j}", str(text), ("Y", "PY", "PN", "N", "NI", NA))
                for j, text in enumerate(d.get("questions", []), start=1)
            ),
        )
        for i, d in enumerate(definition.get("domains", []), start=1)
    )
    judgements = tuple(str(j) for j in definition.get("judgements", []))
    return Tool(
        key=key,
        name=name,
        domains=domains,
        judgements=judgements,
        per_result=bool(definition.get("per_result", False)),
        robvis_template="Generic",
        overall=None,
    )


__all__ = [
    "BUILTIN",
    "RESPONSE_LABELS",
    "Domain",
    "PreliminaryField",
    "Proposal",
    "Question",
    "Tool",
    "custom_tool",
]
