"""robvis-style risk-of-bias figures as pure plotly builders (no Django, no database).

`traffic_light` draws studies by domains plus overall, one coloured circle with a symbol per
judgement; `summary_bar` the percentage of studies (optionally weighted) at each judgement per
domain. Colours and symbols follow robvis (McGuinness & Higgins 2021, Res Synth Methods).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import plotly.graph_objects as go

# robvis "cochrane" palette and symbols.
COLOURS = {
    "Low": "#02C100",
    "Some concerns": "#E2DF07",
    "Moderate": "#E2DF07",
    "Unclear": "#E2DF07",
    "High": "#BF0000",
    "Serious": "#BF0000",
    "Critical": "#820000",
    "No information": "#4EA1F7",
    "Low (except for concerns about uncontrolled confounding)": "#02C100",
}
SYMBOLS = {
    "Low": "+",
    "Some concerns": "-",
    "Moderate": "-",
    "Unclear": "?",
    "High": "X",
    "Serious": "X",
    "Critical": "!",
    "No information": "?",
    "Low (except for concerns about uncontrolled confounding)": "+",
}
FALLBACK_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")


@dataclass(frozen=True)
class StudyJudgements:
    label: str
    domains: Mapping[str, str]  # domain key -> judgement ("" when not judged yet)
    overall: str = ""
    weight: float = 1.0
    design: str = ""  # the variant's design, where the tool has several (RoB 2)


@dataclass(frozen=True)
class PlotSpec:
    domains: Sequence[tuple[str, str]]  # (key, name)
    judgements: Sequence[str]  # best to worst
    title: str = "Risk of bias"
    colours: Mapping[str, str] = field(default_factory=dict)

    def colour(self, judgement: str) -> str:
        if judgement in self.colours:
            return self.colours[judgement]
        if judgement in COLOURS:
            return COLOURS[judgement]
        index = list(self.judgements).index(judgement) if judgement in self.judgements else 0
        return FALLBACK_COLOURS[index % len(FALLBACK_COLOURS)]


def traffic_light(studies: Sequence[StudyJudgements], spec: PlotSpec) -> go.Figure:
    """Studies down, domains (D1..Dn, then Overall) across; legend explains domains."""
    columns = [key for key, _ in spec.domains] + ["Overall"]
    labels = [s.label for s in studies]
    fig = go.Figure()
    for judgement in spec.judgements:
        xs: list[str] = []
        ys: list[str] = []
        for study in studies:
            for column in columns:
                value = study.overall if column == "Overall" else study.domains.get(column, "")
                if value == judgement:
                    xs.append(column)
                    ys.append(study.label)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers+text",
                name=judgement,
                text=[SYMBOLS.get(judgement, judgement[:1])] * len(xs),
                textfont={"color": "black", "size": 14},
                marker={
                    "size": 30,
                    "color": spec.colour(judgement),
                    "line": {"color": "#333", "width": 1},
                },
                hovertemplate="%{y}<br>%{x}: " + judgement + "<extra></extra>",
            )
        )
    key = "<br>".join(f"{k}: {name}" for k, name in spec.domains)
    fig.update_layout(
        title=spec.title,
        template="plotly_white",
        height=max(260, 44 * len(studies) + 200),
        margin={"l": 160, "r": 40, "t": 60, "b": 40 + 18 * len(spec.domains)},
        xaxis={"categoryorder": "array", "categoryarray": columns, "side": "top"},
        yaxis={
            "categoryorder": "array",
            "categoryarray": list(reversed(labels)),
            "type": "category",
        },
        legend={"title": {"text": "Judgement"}},
        annotations=[
            {
                "text": key,
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": 0,
                "yanchor": "top",
                "yshift": -10,
                "showarrow": False,
                "align": "left",
                "font": {"size": 11},
            }
        ],
    )
    fig.update_xaxes(type="category", showgrid=False)
    return fig


def summary_percentages(
    studies: Sequence[StudyJudgements], spec: PlotSpec, *, weighted: bool = False
) -> dict[str, dict[str, float]]:
    """Percent of studies (or of total weight) at each judgement, per domain and overall."""
    columns = [key for key, _ in spec.domains] + ["Overall"]
    result: dict[str, dict[str, float]] = {}
    for column in columns:
        totals = dict.fromkeys(spec.judgements, 0.0)
        for study in studies:
            value = study.overall if column == "Overall" else study.domains.get(column, "")
            if value in totals:
                totals[value] += study.weight if weighted else 1.0
        denominator = sum(totals.values())
        result[column] = {
            j: (100.0 * v / denominator if denominator else 0.0) for j, v in totals.items()
        }
    return result


def summary_bar(
    studies: Sequence[StudyJudgements], spec: PlotSpec, *, weighted: bool = False
) -> go.Figure:
    """Horizontal stacked bars, one per domain (top to bottom) and overall last."""
    percentages = summary_percentages(studies, spec, weighted=weighted)
    names = dict(spec.domains)
    columns = [key for key, _ in spec.domains] + ["Overall"]
    rows = [f"{names[c]} ({c})" if c in names else "Overall risk of bias" for c in columns]
    fig = go.Figure()
    for judgement in spec.judgements:
        values = [percentages[c][judgement] for c in columns]
        fig.add_trace(
            go.Bar(
                y=rows,
                x=values,
                name=judgement,
                orientation="h",
                marker={"color": spec.colour(judgement), "line": {"color": "#333", "width": 0.5}},
                hovertemplate="%{y}<br>" + judgement + ": %{x:.1f}%<extra></extra>",
            )
        )
    fig.update_layout(
        title=spec.title + (" (weighted)" if weighted else ""),
        barmode="stack",
        template="plotly_white",
        height=120 + 40 * len(columns),
        margin={"l": 360, "r": 40, "t": 60, "b": 60},
        xaxis={"range": [0, 100], "ticksuffix": "%", "title": {"text": "Studies"}},
        yaxis={"categoryorder": "array", "categoryarray": list(reversed(rows))},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig
