"""The Cochrane risk-of-bias tool for randomised trials (RoB 1): seven domains judged low, high
or unclear, each with support for the judgement. Higgins JPT, Altman DG, Gøtzsche PC, et al.
BMJ 2011;343:d5928; Cochrane Handbook version 5.1, chapter 8. There are no signalling questions:
the assessor judges each domain directly.
"""

from collections.abc import Mapping

from extraction.rob.tools.base import Domain, Tool

LOW, UNCLEAR, HIGH = "Low", "Unclear", "High"
JUDGEMENTS = (LOW, UNCLEAR, HIGH)

DOMAINS = (
    Domain("D1", "Random sequence generation (selection bias)"),
    Domain("D2", "Allocation concealment (selection bias)"),
    Domain("D3", "Blinding of participants and personnel (performance bias)"),
    Domain("D4", "Blinding of outcome assessment (detection bias)"),
    Domain("D5", "Incomplete outcome data (attrition bias)"),
    Domain("D6", "Selective reporting (reporting bias)"),
    Domain("D7", "Other bias"),
)


def overall(judgements: Mapping[str, str]) -> str:
    """Handbook 5.1 table 8.7.a: high if any domain is high, unclear if any is unclear."""
    values = set(judgements.values())
    if HIGH in values:
        return HIGH
    return UNCLEAR if UNCLEAR in values else LOW


TOOL = Tool(
    key="rob1",
    name="Cochrane RoB 1 (randomised trials)",
    domains=DOMAINS,
    judgements=JUDGEMENTS,
    per_result=False,
    robvis_template="Generic",
    overall=overall,
    reference="Higgins et al. BMJ 2011;343:d5928",
    colours={LOW: "#02C100", UNCLEAR: "#E2DF07", HIGH: "#BF0000"},
)
