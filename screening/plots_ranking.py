"""Plotly figures of the lead's ranking dashboard (pure builders: no database)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

_LAYOUT = {
    "height": 260,
    "margin": {"l": 50, "r": 10, "t": 30, "b": 40},
    "template": "plotly_white",
    "showlegend": False,
}


def inclusion_curve(points: Sequence[tuple[int, int]]) -> go.Figure:
    """Includes found against records screened: it flattens as the ranked list runs dry."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    figure = go.Figure(
        go.Scatter(x=xs, y=ys, mode="lines", name="Prioritised", line={"color": "#1f6f43"})
    )
    figure.update_layout(
        **_LAYOUT,
        title={"text": "Includes found", "font": {"size": 14}},
        xaxis={"title": "records screened", "rangemode": "tozero"},
        yaxis={"title": "includes", "rangemode": "tozero"},
    )
    return figure


def score_histogram(counts: Sequence[int]) -> go.Figure:
    bins = len(counts) or 1
    labels = [f"{i / bins:.1f}–{(i + 1) / bins:.1f}" for i in range(len(counts))]
    figure = go.Figure(go.Bar(x=labels, y=list(counts), marker={"color": "#3a6ea5"}))
    figure.update_layout(
        **_LAYOUT,
        title={"text": "Scores of the records ranked", "font": {"size": 14}},
        xaxis={"title": "relevance score (rank percentile)"},
        yaxis={"title": "records"},
    )
    return figure
