"""Reads on risk of bias: the assessment grid, comparisons, plot data and exports."""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from extraction.models import Outcome
from extraction.rob.models import RobAssessment, RobTool
from extraction.rob.plots import PlotSpec, StudyJudgements
from extraction.rob.tools import Domain, rob2
from reviewapp.models import Review
from screening.models import Study
from screening.selectors import included_studies

# How bad a judgement is, across tools, for "worst of" and "exclude high risk".
SEVERITY = {
    "Low": 0,
    "Some concerns": 1,
    "Moderate": 1,
    "Unclear": 1,
    "No information": 1,
    "High": 2,
    "Serious": 2,
    "Critical": 3,
    "Low (except for concerns about uncontrolled confounding)": 0,
}
HIGH_RISK = frozenset({"High", "Serious", "Critical"})


def rob_tools(*, review: Review) -> QuerySet[RobTool]:
    return RobTool.objects.filter(review=review).order_by("created_at", "id")


def outcomes(*, review: Review) -> QuerySet[Outcome]:
    return Outcome.objects.filter(review=review).order_by("position", "id")


@dataclass
class GridRow:
    study: Study
    outcome: Outcome | None
    mine: RobAssessment | None = None  # the user's (dual) or the shared (single) assessment
    others: list[RobAssessment] = field(default_factory=list)  # other independent ones
    consensus: RobAssessment | None = None
    cells: list[str] = field(default_factory=list)  # final judgement per domain, then overall

    @property
    def feeding(self) -> RobAssessment | None:
        return self.consensus if self.others or self.consensus else self.mine

    @property
    def independent_done(self) -> int:
        done = [a for a in [self.mine, *self.others] if a and a.kind == "independent"]
        return sum(1 for a in done if a.status == RobAssessment.Status.COMPLETE)


def assessment_grid(*, tool: RobTool, user: Any, outcome: Outcome | None = None) -> list[GridRow]:
    """Studies (by result, for per-result tools) with the status of each assessment."""
    studies = list(included_studies(review=tool.review))
    outcome = outcome if tool.per_result else None
    rows = {s.pk: GridRow(study=s, outcome=outcome) for s in studies}
    assessments = RobAssessment.objects.filter(tool=tool, outcome=outcome).select_related(
        "assessor", "updated_by"
    )
    for a in assessments:
        row = rows.get(a.study_id)
        if row is None:
            continue
        if a.kind == RobAssessment.Kind.CONSENSUS:
            row.consensus = a
        elif a.kind == RobAssessment.Kind.SINGLE:
            if tool.mode == RobTool.Mode.SINGLE:
                row.mine = a
        elif a.assessor_id == getattr(user, "pk", None):
            row.mine = a
        else:
            row.others.append(a)
    keys = [d.key for d in grid_domains(tool=tool)]
    for row in rows.values():
        shown = row.feeding
        row.cells = [shown.final(k) for k in keys] + [shown.overall] if shown else []
    return [rows[s.pk] for s in studies]


def grid_domains(*, tool: RobTool) -> tuple[Domain, ...]:
    """The columns of the grid, plots and exports: every domain any variant of the tool has
    (RoB 2: D1, D1b for cluster trials, DS for crossover trials, D2-D5)."""
    return tool.spec.every_domain


def independent_pair(
    *, tool: RobTool, study: Study, outcome: Outcome | None
) -> list[RobAssessment]:
    return list(
        RobAssessment.objects.filter(
            tool=tool, study=study, outcome=outcome, kind=RobAssessment.Kind.INDEPENDENT
        )
        .select_related("assessor")
        .order_by("id")[:2]
    )


def consensus_of(*, tool: RobTool, study: Study, outcome: Outcome | None) -> RobAssessment | None:
    """The consensus of this study (and result), if the arbiter has started it."""
    found = (
        RobAssessment.objects.filter(
            tool=tool, study=study, outcome=outcome, kind=RobAssessment.Kind.CONSENSUS
        )
        .select_related("updated_by")
        .first()
    )
    if found is not None:
        found.tool = tool  # the caller's copy: no second query for it
    return found


@dataclass(frozen=True)
class QuestionDiff:
    id: str
    text: str
    left: str
    right: str
    consensus: str

    @property
    def differs(self) -> bool:
        return self.left != self.right


@dataclass(frozen=True)
class DomainDiff:
    key: str
    name: str
    questions: list[QuestionDiff]
    left: dict[str, str]
    right: dict[str, str]
    consensus: dict[str, str]

    @property
    def differs(self) -> bool:
        return any(q.differs for q in self.questions) or self.left.get("final") != self.right.get(
            "final"
        )


def comparison(
    *, tool: RobTool, left: RobAssessment, right: RobAssessment, consensus: RobAssessment | None
) -> list[DomainDiff]:
    """Domain by domain, question by question. Questions are those of the consensus's variant
    (or the first assessor's before a consensus exists), plus any the other variant asks."""
    spec = (consensus or left).spec
    others = [a.spec for a in (left, right) if a.spec.variant != spec.variant]
    domains = list(spec.domains)
    for other in others:
        domains += [d for d in other.domains if d.key not in {x.key for x in domains}]
    order = [d.key for d in tool.spec.every_domain]
    domains.sort(key=lambda d: order.index(d.key) if d.key in order else len(order))
    result = []
    for domain in domains:
        result.append(
            DomainDiff(
                key=domain.key,
                name=domain.name,
                questions=[
                    QuestionDiff(
                        q.id,
                        q.text,
                        left.answers.get(q.id, ""),
                        right.answers.get(q.id, ""),
                        consensus.answers.get(q.id, "") if consensus else "",
                    )
                    for q in domain.questions
                ],
                left=left.domains.get(domain.key) or {},
                right=right.domains.get(domain.key) or {},
                consensus=(consensus.domains.get(domain.key) or {}) if consensus else {},
            )
        )
    return result


@dataclass(frozen=True)
class PreliminaryDiff:
    id: str
    label: str
    left: str
    right: str
    consensus: str

    @property
    def differs(self) -> bool:
        return self.left != self.right


def _shown(value: Any, choices: dict[str, str]) -> str:
    if isinstance(value, list):
        return "; ".join(choices.get(str(v), str(v)) for v in value)
    return choices.get(str(value), str(value or ""))


def preliminary_comparison(
    *, tool: RobTool, left: RobAssessment, right: RobAssessment, consensus: RobAssessment | None
) -> list[PreliminaryDiff]:
    base = tool.spec
    sides = [base.preliminary_with_defaults(a.preliminary) for a in (left, right)]
    agreed = base.preliminary_with_defaults(consensus.preliminary) if consensus else {}
    rows = []
    for f in base.preliminary:
        choices = dict(f.choices)
        rows.append(
            PreliminaryDiff(
                f.id,
                f.label,
                _shown(sides[0].get(f.id), choices),
                _shown(sides[1].get(f.id), choices),
                _shown(agreed.get(f.id), choices) if consensus else "",
            )
        )
    return rows


def _feeding(tool: RobTool, outcome: Outcome | None) -> QuerySet[RobAssessment]:
    qs = RobAssessment.objects.feeding().filter(tool=tool).select_related("study")
    if tool.per_result:
        qs = qs.filter(outcome=outcome) if outcome is not None else qs
    return qs.order_by("study__label", "study_id", "outcome_id")


def plot_rows(
    *, tool: RobTool, outcome: Outcome | None = None, weights: dict[int, float] | None = None
) -> list[StudyJudgements]:
    """One row per completed consensus/single assessment (per result for per-result tools
    when no outcome is chosen, labelled 'Study · outcome')."""
    rows = []
    for a in _feeding(tool, outcome).select_related("outcome"):
        label = a.study.label
        if tool.per_result and outcome is None and a.outcome_id:
            label = f"{label} · {a.outcome}"
        variant = a.spec
        keys = {d.key for d in variant.domains}
        rows.append(
            StudyJudgements(
                label=label,
                domains={k: str(v.get("final") or "") for k, v in a.domains.items() if k in keys},
                overall=a.overall,
                weight=(weights or {}).get(a.study_id, 1.0),
                design=str(variant.preliminary_with_defaults(a.preliminary).get("design", "")),
            )
        )
    return rows


def plot_spec(*, tool: RobTool, rows: list[StudyJudgements] | None = None) -> PlotSpec:
    """Columns for every domain some row was judged on (all of the tool's when no rows)."""
    spec = tool.spec
    used = {k for r in rows or [] for k, v in r.domains.items() if v}
    domains = [d for d in spec.every_domain if rows is None or d.key in used]
    if rows is not None and not domains:
        domains = list(spec.domains)
    return PlotSpec(
        domains=[(d.key, d.name) for d in domains],
        judgements=list(spec.judgements),
        title=f"{tool.name}",
        colours=dict(spec.colours),
    )


@dataclass(frozen=True)
class RobvisExport:
    csv: str
    template: str  # robvis's `tool =` for this file
    note: str = ""  # why the template is "Generic", when it is


def robvis_export(
    *, tool: RobTool, outcome: Outcome | None = None, design: str = ""
) -> RobvisExport:
    """robvis's input format: Study, the domain columns, Overall, Weight.

    RoB 2: one design per file when robvis has a template for it ("ROB2": D1-D5; "ROB2-Cluster":
    D1, D1b, D2-D5); crossover trials, or several designs in one file, use "Generic" with the
    columns D1, D1b, DS, D2-D5 as present. ROBINS-I V2 has no robvis template: "Generic"."""
    spec = tool.spec
    rows = plot_rows(tool=tool, outcome=outcome)
    if design:
        rows = [r for r in rows if r.design == design]
    designs = {r.design for r in rows}
    template, note = spec.robvis_template, ""
    if tool.kind == RobTool.Kind.ROB2:
        chosen = design or (next(iter(designs)) if len(designs) == 1 else "")
        template = rob2.ROBVIS.get(chosen, "Generic") if chosen else (
            "ROB2" if not rows else "Generic"
        )  # fmt: skip
        if template == "Generic" and rows:
            note = "robvis has no template for this design or mix of designs"
    columns = [key for key, _ in plot_spec(tool=tool, rows=rows).domains] if rows else [
        d.key for d in spec.domains
    ]  # fmt: skip
    if template == "ROB2":
        columns = ["D1", "D2", "D3", "D4", "D5"]
    elif template == "ROB2-Cluster":
        columns = ["D1", "D1b", "D2", "D3", "D4", "D5"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Study", *columns, "Overall", "Weight"])
    for row in rows:
        writer.writerow(
            [row.label, *[row.domains.get(k, "") for k in columns], row.overall, f"{row.weight:g}"]
        )
    return RobvisExport(out.getvalue(), template, note)


def robvis_csv(*, tool: RobTool, outcome: Outcome | None = None, design: str = "") -> str:
    return robvis_export(tool=tool, outcome=outcome, design=design).csv


def answers_csv(*, tool: RobTool, outcome: Outcome | None = None) -> str:
    """One row per answered signalling question of every completed (single or consensus)
    assessment, with the question's text, led by the tool's licence notice."""
    spec = tool.spec
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if spec.licence:
        writer.writerow([f"# {spec.licence}"])
    writer.writerow(
        ["Study", "Outcome", "Variant", "Domain", "Question", "Text", "Answer", "Judgement"]
    )
    for a in _feeding(tool, outcome).select_related("outcome"):
        variant = a.spec
        for domain in variant.domains:
            for q in domain.questions:
                if q.id in a.answers:
                    writer.writerow(
                        [
                            a.study.label,
                            str(a.outcome or ""),
                            variant.variant,
                            domain.key,
                            q.id,
                            q.text,
                            a.answers[q.id],
                            a.final(domain.key),
                        ]
                    )
    return out.getvalue()


def _worst(values: Iterable[str]) -> str | None:
    known = [v for v in values if v]
    return max(known, key=lambda v: SEVERITY.get(v, 1)) if known else None


def rob_overall_by_study(*, review: Review, outcome: Outcome | None = None) -> dict[int, str]:
    """The overall risk-of-bias judgement of each assessed study: {study_id: judgement}.

    Only completed single or consensus assessments count. For per-result tools (RoB 2) the
    assessment of `outcome` is used; without an outcome, the worst over the study's results.
    A study assessed with several tools gets the worst of them. Studies without a completed
    assessment are absent. `HIGH_RISK` lists the judgements "exclude high risk" drops.
    """
    qs = RobAssessment.objects.feeding().filter(review=review).exclude(overall="")
    judgements: dict[int, list[str]] = {}
    for study_id, outcome_id, overall in qs.values_list("study_id", "outcome_id", "overall"):
        if outcome is not None and outcome_id is not None and outcome_id != outcome.pk:
            continue
        judgements.setdefault(study_id, []).append(overall)
    return {sid: w for sid, values in judgements.items() if (w := _worst(values))}


@dataclass(frozen=True)
class StudyRob:
    """One study's risk of bias for display beside a forest plot (robvis's rob_forest)."""

    tool: str
    domains: dict[str, str]  # domain key -> final judgement
    domain_names: dict[str, str]
    overall: str


def rob_judgements_by_study(
    *, review: Review, outcome: Outcome | None = None
) -> dict[int, StudyRob]:
    """Domain and overall judgements of each assessed study, from one tool per study: the
    per-result tool's assessment of `outcome` when there is one, else the first tool (in the
    order the lead added them) with a completed assessment. Same sources as
    `rob_overall_by_study`."""
    qs = (
        RobAssessment.objects.feeding()
        .filter(review=review)
        .select_related("tool")
        .order_by("tool__created_at", "tool_id", "outcome_id")
    )
    chosen: dict[int, RobAssessment] = {}
    for a in qs:
        if a.outcome_id is not None and (outcome is None or a.outcome_id != outcome.pk):
            continue
        existing = chosen.get(a.study_id)
        # The assessment of this very result beats a per-study one; otherwise the first tool.
        if existing is None or (a.outcome_id is not None and existing.outcome_id is None):
            chosen[a.study_id] = a
    result: dict[int, StudyRob] = {}
    for study_id, a in chosen.items():
        spec = a.spec
        result[study_id] = StudyRob(
            tool=a.tool.name,
            domains={d.key: a.final(d.key) for d in spec.domains},
            domain_names={d.key: d.name for d in spec.domains},
            overall=a.overall,
        )
    return result
