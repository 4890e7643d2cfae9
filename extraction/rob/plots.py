"""robvis-style risk-of-bias figures as pure plotly builders (no Django, no database).

`traffic_light` draws studies by domains plus overall, one coloured circle with a symbol per
judgement; `summary_bar` the percentage of studies (optionally weighted) at each judgement per
domain. Colours and symbols follow robvis (McGuinness & Higgins 2021, Res Synth Methods).
"""

import math
import textwrap
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


# Layout sizes, in CSS pixels, derived from the data so that a figure stays readable from a
# phone (390 px wide) to a desktop: heights grow with the rows, margins fit the longest label
# (wrapped to a bounded width), legends sit inside the figure above the plot area.
FONT_SIZE = 13
GLYPH_WIDTH = 0.62  # a generous average glyph width of a sans-serif font, as a share of its size
LINE_HEIGHT = 1.35  # line height of wrapped tick labels, as a share of the font size
LABEL_CHARS = 18  # tick labels wrap after this many characters (bounds the left margin)
STUDY_CHARS = 16  # the traffic light's study labels wrap here
KEY_CHARS = 40  # the traffic light's domain key wraps here (fits a phone's width)
TITLE_SIZE = 15
TITLE_CHARS = 34  # the title wraps here (fits a phone's width)
TITLE_SPACE = 44  # space reserved for a one-line title, above everything else
LEGEND_ROW = 26  # one row of a horizontal legend
LEGEND_ROWS = 2  # rows reserved for the legend (plotly widens the margin if it needs more)
BAR_GAP = 0.25
MARKER = 26  # traffic-light circle diameter
COLUMN_GAP = 12  # the least space between two traffic-light columns' circles


def wrap_label(text: str, width: int = LABEL_CHARS) -> list[str]:
    """The label's lines when wrapped at word boundaries (a long word keeps its own line)."""
    return textwrap.wrap(text, width=width, break_long_words=False) or [""]


def text_width(lines: Sequence[str], size: float = FONT_SIZE) -> int:
    """Width in pixels of the longest line, over-estimated rather than under."""
    return math.ceil(max((len(line) for line in lines), default=0) * size * GLYPH_WIDTH)


def _title(text: str) -> tuple[dict[str, object], int]:
    """The figure's title, wrapped, at the top left, and the height it takes."""
    lines = wrap_label(text, TITLE_CHARS)
    extra = math.ceil((len(lines) - 1) * TITLE_SIZE * LINE_HEIGHT)
    title = {
        "text": "<br>".join(lines),
        "font": {"size": TITLE_SIZE},
        "x": 0,
        "xanchor": "left",
        "y": 1,
        "yref": "container",
        "yanchor": "top",
        # plotly anchors a wrapped title by its first line: pad by the lines below it.
        "pad": {"t": 10 + extra, "l": 8},
    }
    return title, TITLE_SPACE + 2 * extra


def _legend(plot_height: int, offset: int = 0) -> dict[str, object]:
    """A horizontal legend just above the plot area (and `offset` pixels higher, above axis tick
    labels drawn on top), at the plot's left edge, wrapping into further rows on narrow
    screens, in the judgements' order (best first)."""
    return {
        "orientation": "h",
        "x": 0,
        "xanchor": "left",
        "traceorder": "normal",
        "y": 1 + offset / max(plot_height, 1),
        "yanchor": "bottom",
        "font": {"size": FONT_SIZE},
        "title": {"text": ""},
    }


def traffic_light(studies: Sequence[StudyJudgements], spec: PlotSpec) -> go.Figure:
    """Studies down, domains (D1..Dn, then Overall) across; legend explains judgements, a key
    below the plot names the domains."""
    columns = [key for key, _ in spec.domains] + ["Overall"]
    labels = [s.label for s in studies]
    # Study labels wrap narrower than domain names: the columns need the phone's width.
    wrapped = {label: wrap_label(label, STUDY_CHARS) for label in labels}
    fig = go.Figure()
    for judgement in spec.judgements:
        xs: list[str] = []
        ys: list[str] = []
        for study in studies:
            for column in columns:
                value = study.overall if column == "Overall" else study.domains.get(column, "")
                if value == judgement:
                    xs.append(column)
                    ys.append("<br>".join(wrapped[study.label]))
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers+text",
                name=judgement,
                text=[SYMBOLS.get(judgement, judgement[:1])] * len(xs),
                textfont={"color": "black", "size": FONT_SIZE},
                marker={
                    "size": MARKER,
                    "color": spec.colour(judgement),
                    "line": {"color": "#333", "width": 1},
                },
                hovertemplate="%{y}<br>%{x}: " + judgement + "<extra></extra>",
            )
        )
    key_lines = [line for k, name in spec.domains for line in wrap_label(f"{k}: {name}", KEY_CHARS)]
    lines_per_row = max((len(w) for w in wrapped.values()), default=1)
    row = max(MARKER + 14, math.ceil(lines_per_row * FONT_SIZE * LINE_HEIGHT) + 10)
    plot_height = row * max(len(studies), 1)
    # The column names above the plot, upright or (on a narrow screen) turned by plotly.
    tick_space = text_width(columns) + 10
    title, title_space = _title(spec.title)
    top = title_space + LEGEND_ROWS * LEGEND_ROW + tick_space
    bottom = 16 + math.ceil(len(key_lines) * (FONT_SIZE - 1) * LINE_HEIGHT)
    left = text_width([line for w in wrapped.values() for line in w]) + 16
    fig.update_layout(
        title=title,
        template="plotly_white",
        font={"size": FONT_SIZE},
        height=top + plot_height + bottom,
        margin={"l": left, "r": 16, "t": top, "b": bottom},
        xaxis={"categoryorder": "array", "categoryarray": columns, "side": "top"},
        yaxis={
            "categoryorder": "array",
            "categoryarray": ["<br>".join(wrapped[label]) for label in reversed(labels)],
            "type": "category",
            "automargin": True,
        },
        legend=_legend(plot_height, offset=tick_space),
        # Narrower than this, neighbouring circles touch: the page scrolls the plot in its box.
        meta={"min_width": left + 16 + len(columns) * (MARKER + COLUMN_GAP)},
        annotations=[
            {
                "text": "<br>".join(key_lines),
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "xanchor": "left",
                "xshift": -(left - 8),
                "y": 0,
                "yanchor": "top",
                "yshift": -8,
                "showarrow": False,
                "align": "left",
                "font": {"size": FONT_SIZE - 1},
            }
        ],
    )
    fig.update_xaxes(type="category", showgrid=False, automargin=True)
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
    wrapped = [
        wrap_label(f"{names[c]} ({c})" if c in names else "Overall risk of bias") for c in columns
    ]
    rows = ["<br>".join(lines) for lines in wrapped]
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
    lines_per_row = max(len(lines) for lines in wrapped)
    # A row holds its wrapped label; its bar takes (1 - BAR_GAP) of it, never under 24 px.
    row = max(32, math.ceil(lines_per_row * FONT_SIZE * LINE_HEIGHT) + 12)
    plot_height = row * len(columns)
    title, title_space = _title(spec.title + (" (weighted)" if weighted else ""))
    top = title_space + LEGEND_ROWS * LEGEND_ROW
    bottom = 3 * FONT_SIZE + 16  # tick labels and the axis title
    fig.update_layout(
        title=title,
        barmode="stack",
        bargap=BAR_GAP,
        template="plotly_white",
        font={"size": FONT_SIZE},
        height=top + plot_height + bottom,
        margin={
            "l": text_width([line for lines in wrapped for line in lines]) + 16,
            "r": 24,
            "t": top,
            "b": bottom,
        },
        xaxis={"range": [0, 100], "ticksuffix": "%", "title": {"text": "Studies"}, "dtick": 25},
        yaxis={"categoryorder": "array", "categoryarray": list(reversed(rows)), "automargin": True},
        legend=_legend(plot_height),
    )
    return fig
