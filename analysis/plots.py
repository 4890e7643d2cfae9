"""Plotly figures built by pure functions from a stored result payload (no database).

`forest_plot` draws the forest plot as RevMan users know it: per study the arm data, weight
and effect with its CI as text columns, squares sized by weight, diamonds for subtotals and
the total, the heterogeneity and overall-effect tests under each pooled row, the test for
subgroup differences, a prediction-interval bar and "favours ..." labels on the correct side
for the outcome's desirable direction. Ratios are drawn on a log axis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis import scales
from analysis.models import (
    CONTINUOUS_MEASURES,
    CORRELATION_MEASURES,
    MEAN_MEASURES,
    PAIRED_MEASURES,
    PROPORTION_MEASURES,
    RATE_MEASURES,
    SINGLE_RATE_MEASURES,
)

ROW_PX = 22
INK = "#1f2933"
SQUARE = "#1f4e8c"
DIAMOND = "#111111"
SUBTOTAL = "#3d3d3d"
PI_COLOUR = "#c0392b"
FILLED = "#d35400"
ROB_COLOURS = {"low": "#2e9e44", "some": "#f2c12e", "some concerns": "#f2c12e",
               "unclear": "#f2c12e", "high": "#d62728"}  # fmt: skip
SORTS = ("study", "year", "weight", "effect")


def _fmt(x: Any, digits: int = 2) -> str:
    if x is None:
        return ""
    if isinstance(x, float) and not math.isfinite(x):
        return ""
    if isinstance(x, float) and x.is_integer() and digits == 0:
        return str(int(x))
    return f"{x:.{digits}f}"


def _p(p: float | None) -> str:
    if p is None:
        return "P = n/a"
    if p < 0.00001:
        return "P < 0.00001"
    # As RevMan: two decimals, or enough to show the first significant digit of a small P
    # (0.0007, 0.00007), never "P = 0.000".
    for places in (2, 3, 4, 5):
        if p >= 10**-places or places == 5:
            return f"P = {p:.{places}f}"
    raise AssertionError("unreachable")


def favours_labels(payload: Mapping[str, Any]) -> tuple[str, str]:
    """(left, right) labels. Lower-is-better outcomes put the intervention on the left, unless
    the lead harmonised signs (then the data were flipped and the labels stay put)."""
    if payload.get("single_group"):
        return "", ""  # one group per study: nothing is favoured
    if payload.get("measure") in ("VR", "CVR"):
        # Variability, not benefit: above 1 the intervention arm varies more.
        arm = payload.get("intervention_label") or "intervention"
        return f"Less variable with {arm}", f"More variable with {arm}"
    intervention = f"Favours {payload.get('intervention_label') or 'intervention'}"
    control = f"Favours {payload.get('control_label') or 'control'}"
    lower_better = payload.get("direction") == "lower" and not payload.get("harmonised")
    return (intervention, control) if lower_better else (control, intervention)


def _scale(payload: Mapping[str, Any], x: float | None, n: float | None = None) -> float | None:
    """The natural scale (see analysis.scales); `n` is a study's own size where PFT needs it."""
    return scales.natural(payload, x, n)


def method_label(payload: Mapping[str, Any]) -> str:
    measure = payload.get("measure_label") or payload.get("measure")
    if payload.get("natural_label"):
        measure = f"{payload['natural_label']}, {measure}"
    if payload.get("overall") and payload["overall"].get("method") in ("MH", "PETO"):
        how = "M-H" if payload["overall"]["method"] == "MH" else "Peto"
    else:
        how = "IV"
    model = "Fixed" if payload.get("model") == "fixed" else "Random"
    level = payload.get("level") or 95
    return f"{measure} {how}, {model}, {_fmt(level, 0)}% CI"


def heterogeneity_text(pool: Mapping[str, Any], fixed: bool) -> str:
    if "sigma2_between" in pool:
        return _multilevel_heterogeneity_text(pool)
    parts = []
    if not fixed and pool.get("tau2") is not None:
        parts.append(f"Tau² = {_fmt(pool['tau2'])}")
    if pool.get("q") is not None:
        parts.append(f"Chi² = {_fmt(pool['q'])}, df = {pool['q_df']} ({_p(pool.get('q_pval'))})")
    if pool.get("i2") is not None:
        parts.append(f"I² = {pool['i2']:.0f}%")
    return "Heterogeneity: " + ("; ".join(parts) if parts else "not applicable")


def _multilevel_heterogeneity_text(pool: Mapping[str, Any]) -> str:
    """Variance components and the I² split of the three-level model."""
    return (
        f"Heterogeneity: σ² between studies = {_fmt(pool.get('sigma2_between'), 3)}, "
        f"within studies = {_fmt(pool.get('sigma2_within'), 3)}; "
        f"Q = {_fmt(pool.get('q'))}, df = {pool.get('q_df')} ({_p(pool.get('q_pval'))}); "
        f"I² between = {_fmt(pool.get('i2_between'), 0)}%, "
        f"within = {_fmt(pool.get('i2_within'), 0)}%"
    )


def overall_test_text(pool: Mapping[str, Any]) -> str:
    if pool.get("tval") is not None:
        stat = f"t = {abs(pool['tval']):.2f}, df = {_fmt(pool.get('df'), 0)}"
    else:
        stat = f"Z = {abs(pool.get('zval') or 0):.2f}"
    return f"Test for overall effect: {stat} ({_p(pool.get('pval'))})"


def subgroup_test_text(test: Mapping[str, Any]) -> str:
    i2 = test.get("i2")
    return (
        f"Test for subgroup differences: Chi² = {_fmt(test.get('q'))}, df = {test.get('df')} "
        f"({_p(test.get('pval'))}), I² = {_fmt(i2, 1) if i2 is not None else 'n/a'}%"
    )


@dataclass
class _Row:
    kind: str  # header, study, subtotal, total, het, test, pi, blank
    cells: dict[str, str] = field(default_factory=dict)
    study: Mapping[str, Any] | None = None
    pool: Mapping[str, Any] | None = None
    bold: bool = False


def _arm_columns(payload: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(key, header, group) per arm-data column, as RevMan lays them out."""
    i, c = (
        payload.get("intervention_label") or "Intervention",
        payload.get("control_label") or "Control",
    )
    measure = payload.get("measure")
    if measure in CONTINUOUS_MEASURES:
        return [("m1", "Mean", i), ("sd1", "SD", i), ("n1", "Total", i),
                ("m2", "Mean", c), ("sd2", "SD", c), ("n2", "Total", c)]  # fmt: skip
    if measure in ("RR", "OR", "RD", "PETO"):
        return [("events1", "Events", i), ("total1", "Total", i),
                ("events2", "Events", c), ("total2", "Total", c)]  # fmt: skip
    if measure in PAIRED_MEASURES:
        return [("mean_pre", "Mean", "Baseline"), ("sd_pre", "SD", "Baseline"),
                ("mean", "Mean", "Follow-up"), ("sd", "SD", "Follow-up"),
                ("n", "n", ""), ("r", "r", "")]  # fmt: skip
    if measure in RATE_MEASURES:
        return [("events1", "Events", i), ("pt1", "Person-time", i),
                ("events2", "Events", c), ("pt2", "Person-time", c)]  # fmt: skip
    if measure in SINGLE_RATE_MEASURES:
        return [("events", "Events", ""), ("person_time", "Person-time", "")]
    if measure in PROPORTION_MEASURES:
        return [("events", "Events", ""), ("total", "Total", "")]
    if measure in CORRELATION_MEASURES:
        return [("r", "r", ""), ("n", "n", "")]
    if measure in MEAN_MEASURES:
        return [("mean", "Mean", ""), ("sd", "SD", ""), ("n", "n", "")]
    return [("estimate", "Estimate", ""), ("se", "SE", "")]


def _study_cells(payload: Mapping[str, Any], s: Mapping[str, Any]) -> dict[str, str]:
    cells = {
        "label": f"{s['label']}"
        + (f" {s['year']}" if s.get("year") and str(s["year"]) not in s["label"] else "")
    }
    for key, _h, _g in _arm_columns(payload):
        v = s.get(key)
        cells[key] = _fmt(v, 0) if key in _COUNT_KEYS else _fmt(v)
    cells["weight"] = f"{s['weight']:.1f}%" if s.get("weight") is not None else ""
    cells["effect"] = _effect_text(
        payload, s.get("yi"), s.get("ci_lb"), s.get("ci_ub"), scales.study_size(payload, s)
    )
    cells["rob"] = (s.get("rob") or "").lower()
    return cells


_COUNT_KEYS = ("n1", "n2", "events1", "events2", "total1", "total2", "events", "total", "n")


def _effect_text(
    payload: Mapping[str, Any], est: Any, lb: Any, ub: Any, n: float | None = None
) -> str:
    if est is None:
        return "Not estimable"
    e, lo, hi = (_scale(payload, v, n) for v in (est, lb, ub))
    if e is None or lo is None or hi is None:
        return "Not estimable"
    d = scales.digits(payload)
    return f"{e:.{d}f} [{lo:.{d}f}, {hi:.{d}f}]"


def _sort_studies(studies: Sequence[Mapping[str, Any]], sort: str) -> list[Mapping[str, Any]]:
    if sort == "year":
        return sorted(studies, key=lambda s: (s.get("year") or 9999, s["label"].lower()))
    if sort == "weight":
        return sorted(studies, key=lambda s: -(s.get("weight") or 0))
    if sort == "effect":
        return sorted(studies, key=lambda s: s.get("yi") or 0)
    return sorted(studies, key=lambda s: s["label"].lower())


def _pooled_rows(
    payload: Mapping[str, Any], pool: Mapping[str, Any], title: str, kind: str, n1: int, n2: int
) -> list[_Row]:
    fixed = payload.get("model") == "fixed"
    measure = payload.get("measure")
    cells = {
        "label": title,
        "weight": "100.0%" if kind == "total" else "",
        "effect": _effect_text(payload, pool.get("estimate"), pool.get("ci_lb"), pool.get("ci_ub")),
    }
    if measure in CONTINUOUS_MEASURES:
        cells.update({"n1": str(n1), "n2": str(n2)})
    elif measure in ("RR", "OR", "RD", "PETO"):
        cells.update({"total1": str(n1), "total2": str(n2)})
    elif measure in PROPORTION_MEASURES:
        cells["total"] = str(n1)
    elif measure in CORRELATION_MEASURES or measure in MEAN_MEASURES:
        cells["n"] = str(n1)
    rows = [_Row(kind, cells, pool=pool, bold=True)]
    if pool.get("pi_lb") is not None and pool.get("pi_ub") is not None:
        rows.append(
            _Row(
                "pi",
                {
                    "label": "Prediction interval",
                    "effect": _effect_text(
                        payload, pool.get("estimate"), pool["pi_lb"], pool["pi_ub"]
                    ).split(" ", 1)[1],
                },  # fmt: skip
                pool=pool,
            )
        )
    if (pool.get("k") or 0) > 1:
        rows.append(_Row("het", {"label": heterogeneity_text(pool, fixed)}))
    rows.append(_Row("test", {"label": overall_test_text(pool)}))
    return rows


def _arm_totals(
    payload: Mapping[str, Any], studies: Sequence[Mapping[str, Any]]
) -> tuple[int, int]:
    if payload.get("measure") in SINGLE_RATE_MEASURES + RATE_MEASURES:
        return 0, 0  # person-time, not people: no participant totals
    if payload.get("single_group"):
        key = "total" if payload.get("measure") in PROPORTION_MEASURES else "n"
        return int(sum(s.get(key) or 0 for s in studies)), 0
    if payload.get("measure") in ("RR", "OR", "RD", "PETO"):
        return (int(sum(s.get("total1") or 0 for s in studies)),
                int(sum(s.get("total2") or 0 for s in studies)))  # fmt: skip
    return int(sum(s.get("n1") or 0 for s in studies)), int(sum(s.get("n2") or 0 for s in studies))


def forest_rows(payload: Mapping[str, Any], sort: str = "study") -> list[_Row]:
    """The table the forest plot draws, top to bottom."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}")
    studies = list(payload.get("studies") or [])
    rows: list[_Row] = []
    sub = payload.get("subgroups")
    if payload.get("multilevel"):
        rows += _multilevel_rows(payload, studies, sort)
    elif sub:
        by_id = {s["study_id"]: s for s in studies}
        variable = payload.get("subgroup_label") or payload.get("subgroup_field") or ""
        for n, group in enumerate(sub["groups"], start=1):
            members = [by_id[i] for i in group["studies"] if i in by_id]
            heading = f"{variable}: {group['name']}" if variable else str(group["name"])
            rows.append(_Row("header", {"label": f"1.{n} {heading}"}, bold=True))
            rows += [
                _Row("study", _study_cells(payload, s), study=s)
                for s in _sort_studies(members, sort)
            ]
            n1, n2 = _arm_totals(payload, members)
            rows += _pooled_rows(payload, group["pool"], "Subtotal", "subtotal", n1, n2)
            rows.append(_Row("blank"))
    else:
        rows += [
            _Row("study", _study_cells(payload, s), study=s) for s in _sort_studies(studies, sort)
        ]
        rows.append(_Row("blank"))
    overall = payload.get("overall")
    if overall:
        n1, n2 = _arm_totals(payload, studies)
        rows += _pooled_rows(payload, overall, "Total", "total", n1, n2)
    if sub:
        rows.append(_Row("test", {"label": subgroup_test_text(sub["test"])}))
    return rows


def _multilevel_rows(
    payload: Mapping[str, Any], studies: Sequence[Mapping[str, Any]], sort: str
) -> list[_Row]:
    """Effect sizes grouped under their study (the three-level model), each by timepoint."""
    order: dict[int, list[Mapping[str, Any]]] = {}
    for s in _sort_studies(studies, sort):
        order.setdefault(s["study_id"], []).append(s)
    rows: list[_Row] = []
    for members in order.values():
        rows.append(_Row("header", {"label": members[0]["label"]}, bold=True))
        for s in members:
            cells = _study_cells(payload, s)
            cells["label"] = f"  {s.get('timepoint') or 'effect size'}"
            rows.append(_Row("study", cells, study=s))
    rows.append(_Row("blank"))
    return rows


def _rob_column(
    fig: go.Figure,
    rows: list[Any],
    ys: list[int],
    col: int,
    key: str | None,
    header: str,
    name: str,
) -> None:
    """Coloured circles for one RoB domain (`key`) or, with key None, the overall judgement."""
    xs, yv, colours, texts = [], [], [], []
    for row, y in zip(rows, ys, strict=True):
        study = row.study or {}
        j = study.get("rob") if key is None else (study.get("rob_domains") or {}).get(key)
        if j:
            xs.append(0.5)
            yv.append(y)
            colours.append(ROB_COLOURS.get(str(j).lower(), "#999"))
            what = "risk of bias" if key is None else f"{key}"
            texts.append(f"{study['label']}: {j} ({what})")
    fig.add_trace(
        go.Scatter(
            x=xs, y=yv, mode="markers",
            marker={"size": 13, "color": colours, "line": {"width": 1, "color": "#333"}},
            text=texts, hoverinfo="text", showlegend=False, name=name,
        ),
        row=1, col=col,
    )  # fmt: skip
    fig.update_xaxes(visible=False, range=[0, 1], fixedrange=True, row=1, col=col)
    fig.add_annotation(x=0.5, y=0.25, xref=f"x{col}", yref="y", text=f"<b>{header}</b>",
                       showarrow=False, yanchor="bottom", font={"size": 11})  # fmt: skip


def forest_plot(
    payload: Mapping[str, Any],
    *,
    sort: str = "study",
    show_rob: bool = False,
    title: str | None = None,
) -> go.Figure:
    """RevMan-style forest plot of one stored result payload."""
    rows = forest_rows(payload, sort)
    arm_cols = _arm_columns(payload)
    columns: list[tuple[str, str, float]] = [("label", "Study or Subgroup", 0.2)]
    columns += [(key, header, 0.052) for key, header, _g in arm_cols]
    columns += [("weight", "Weight", 0.06), ("effect", method_label(payload), 0.15)]
    plot_col = len(columns) + 1
    widths = [w for _k, _h, w in columns] + [0.3]
    rob = show_rob and any(r.study and r.study.get("rob") for r in rows)
    # One traffic-light column per RoB domain (robvis's rob_forest), then the overall one.
    domain_keys: list[str] = []
    if rob:
        for r in rows:
            for key in (r.study or {}).get("rob_domains") or {}:
                if key not in domain_keys:
                    domain_keys.append(key)
        widths += [0.026] * len(domain_keys) + [0.04]
    fig = make_subplots(
        rows=1, cols=len(widths), shared_yaxes=True, column_widths=widths, horizontal_spacing=0.004
    )
    n = len(rows)
    ys = [-(i + 1) for i in range(n)]  # header row at y = 0
    for col, (key, header, _w) in enumerate(columns, start=1):
        texts, yv = [], []
        for row, y in zip(rows, ys, strict=True):
            t = row.cells.get(key, "")
            if t:
                texts.append(f"<b>{t}</b>" if row.bold else t)
                yv.append(y)
        fig.add_trace(
            go.Scatter(
                x=[0.02 if key == "label" else 0.95] * len(texts),
                y=yv,
                text=texts,
                mode="text",
                textposition="middle right" if key == "label" else "middle left",
                textfont={"size": 11, "color": INK},
                hoverinfo="skip",
                showlegend=False,
                cliponaxis=False,
                name=f"column: {header}",
            ),  # fmt: skip
            row=1,
            col=col,
        )
        fig.add_annotation(
            x=0.02 if key == "label" else 0.95, y=0.25, xref=f"x{col if col > 1 else ''}",
            yref="y", text=f"<b>{header}</b>", showarrow=False,
            xanchor="left" if key == "label" else "right", yanchor="bottom", font={"size": 11},
        )  # fmt: skip
        fig.update_xaxes(visible=False, range=[0, 1], fixedrange=True, row=1, col=col)
    # Arm group headers ("Peer support", "Control") centred over their columns.
    groups: dict[str, list[int]] = {}
    for col, (_k, _h, group) in enumerate(arm_cols, start=2):
        if group:
            groups.setdefault(group, []).append(col)
    for group, cols in groups.items():
        mid = cols[(len(cols) - 1) // 2]
        fig.add_annotation(
            x=0.5 if len(cols) % 2 else 1.0, y=1.0, xref=f"x{mid} domain", yref="y",
            text=f"<b>{group}</b>", showarrow=False, yanchor="bottom", font={"size": 11},
        )  # fmt: skip
    _draw_plot_column(fig, payload, rows, ys, plot_col)
    if rob:
        first_rob_col = len(widths) - len(domain_keys)
        for offset, key in enumerate(domain_keys):
            _rob_column(fig, rows, ys, first_rob_col + offset, key, key, f"Risk of bias {key}")
        _rob_column(fig, rows, ys, len(widths), None, "RoB" if not domain_keys else "All",
                    "Risk of bias")  # fmt: skip
    fig.update_yaxes(visible=False, range=[-(n + 0.6), 1.9], fixedrange=True)
    height = max(260, ROW_PX * (n + 3) + 110)
    fig.update_layout(
        height=height,
        width=(1250 + 32 * len(domain_keys)) if rob else 1200,
        margin={"l": 10, "r": 10, "t": 40 if title else 20, "b": 70},
        plot_bgcolor="white",
        paper_bgcolor="white",
        title={"text": title, "x": 0.01} if title else None,
        showlegend=False,
        hovermode="closest",
        font={"family": "Arial, Helvetica, sans-serif", "color": INK},
        meta={"kind": "forest", "sort": sort, "rows": [r.kind for r in rows]},
    )
    return fig


def _draw_plot_column(
    fig: go.Figure, payload: Mapping[str, Any], rows: list[_Row], ys: list[int], col: int
) -> None:
    ratio = bool(payload.get("ratio"))
    sx = lambda v: _scale(payload, v)  # noqa: E731 - a short local alias reads best here
    ci_x: list[float | None] = []
    ci_y: list[float | None] = []
    sq_x, sq_y, sq_size, sq_text = [], [], [], []
    weights = [r.study.get("weight") or 0 for r in rows if r.study]
    wmax = max(weights) if weights else 1.0
    xs_all: list[float | None] = []
    for row, y in zip(rows, ys, strict=True):
        s = row.study
        if s is None or s.get("yi") is None:
            continue
        own = scales.study_size(payload, s)
        lo, est, hi = (
            _scale(payload, s["ci_lb"], own),
            _scale(payload, s["yi"], own),
            _scale(payload, s["ci_ub"], own),
        )
        ci_x += [lo, hi, None]
        ci_y += [y, y, None]
        xs_all += [lo, hi]
        sq_x.append(est)
        sq_y.append(y)
        w = s.get("weight") or 0
        sq_size.append(5 + 13 * math.sqrt(w / wmax) if wmax > 0 else 6)
        sq_text.append(
            f"<b>{s['label']}</b><br>"
            f"{_effect_text(payload, s['yi'], s['ci_lb'], s['ci_ub'], own)}"
            f"<br>Weight {w:.1f}%"
            + (f"<br>{s.get('group')}" if s.get("group") else "")
            + (f"<br>Risk of bias: {s['rob']}" if s.get("rob") else "")
        )
    fig.add_trace(
        go.Scatter(
            x=ci_x,
            y=ci_y,
            mode="lines",
            line={"color": INK, "width": 1.2},
            hoverinfo="skip",
            showlegend=False,
            name="Study CI",
        ),  # fmt: skip
        row=1,
        col=col,
    )
    fig.add_trace(
        go.Scatter(
            x=sq_x,
            y=sq_y,
            mode="markers",
            name="Studies",
            marker={"symbol": "square", "size": sq_size, "color": SQUARE, "line": {"width": 0}},
            text=sq_text,
            hovertemplate="%{text}<extra></extra>",
            showlegend=False,
        ),  # fmt: skip
        row=1,
        col=col,
    )
    for kind, colour, name in (("subtotal", SUBTOTAL, "Subtotals"), ("total", DIAMOND, "Total")):
        dx: list[float | None] = []
        dy: list[float | None] = []
        texts = []
        for row, y in zip(rows, ys, strict=True):
            p = row.pool
            if row.kind != kind or not p or p.get("estimate") is None:
                continue
            lo, est, hi = sx(p["ci_lb"]), sx(p["estimate"]), sx(p["ci_ub"])
            dx += [lo, est, hi, est, lo, None]
            dy += [y, y + 0.4, y, y - 0.4, y, None]
            xs_all += [lo, hi]
            texts.append(_effect_text(payload, p["estimate"], p["ci_lb"], p["ci_ub"]))
        if dx:
            fig.add_trace(
                go.Scatter(
                    x=dx,
                    y=dy,
                    mode="lines",
                    fill="toself",
                    fillcolor=colour,
                    line={"color": colour, "width": 1},
                    name=name,
                    hoverinfo="name+x",
                    showlegend=False,
                ),  # fmt: skip
                row=1,
                col=col,
            )
    pi_x: list[float | None] = []
    pi_y: list[float | None] = []
    for row, y in zip(rows, ys, strict=True):
        if row.kind == "pi" and row.pool:
            lo, hi = sx(row.pool["pi_lb"]), sx(row.pool["pi_ub"])
            pi_x += [lo, hi, None]
            pi_y += [y, y, None]
            xs_all += [lo, hi]
    if pi_x:
        fig.add_trace(
            go.Scatter(
                x=pi_x,
                y=pi_y,
                mode="lines",
                line={"color": PI_COLOUR, "width": 5},
                name="Prediction interval",
                hoverinfo="name+x",
                showlegend=False,
            ),  # fmt: skip
            row=1,
            col=col,
        )
    null = scales.null_value(payload)
    if payload.get("transform"):
        lo_x, hi_x = scales.axis_range(payload, xs_all)
    else:
        lo_x, hi_x = _axis_range(xs_all, ratio)
    if null is not None:
        fig.add_shape(type="line", x0=null, x1=null, y0=-(len(rows) + 0.5), y1=0.5,
                      line={"color": "#555", "width": 1}, row=1, col=col)  # fmt: skip
    left, right = favours_labels(payload)
    axis: dict[str, Any] = {
        "type": "log" if ratio else "linear",
        "showgrid": False,
        "zeroline": False,
        "showline": True,
        "linecolor": "#555",
        "ticks": "outside",
        "fixedrange": True,
        "range": [math.log10(lo_x), math.log10(hi_x)] if ratio else [lo_x, hi_x],
        **(ratio_ticks(lo_x, hi_x) if ratio else {}),
    }
    fig.update_xaxes(row=1, col=col, **axis)
    xref = f"x{col} domain"
    fig.add_annotation(
        x=0.0,
        y=-0.09,
        xref=xref,
        yref="paper",
        text=left,
        showarrow=False,
        xanchor="left",
        yanchor="top",
        font={"size": 11},
        name="favours-left",
    )
    fig.add_annotation(
        x=1.0,
        y=-0.09,
        xref=xref,
        yref="paper",
        text=right,
        showarrow=False,
        xanchor="right",
        yanchor="top",
        font={"size": 11},
        name="favours-right",
    )
    fig.add_annotation(x=0.5, y=0.25, xref=xref, yref="y", showarrow=False, yanchor="bottom",
                       text=f"<b>{method_label(payload)}</b>", font={"size": 11})  # fmt: skip


def ratio_ticks(lo: float, hi: float) -> dict[str, Any]:
    """Ticks for a log axis from lo to hi at 1-2-5 steps ("0.5 1 2 5"), fewer (powers of ten)
    on a wide axis: plotly's own log ticks label minor steps "2 3 4 5 ... 1 2"."""
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        return {}
    lo_e, hi_e = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    values = [m * 10.0**e for e in range(lo_e, hi_e + 1) for m in (1, 2, 5)]
    inside = [v for v in values if lo * 0.999 <= v <= hi * 1.001]
    if len(inside) > 9:
        inside = [v for v in inside if math.isclose(math.log10(v), round(math.log10(v)))]
    if len(inside) < 2:
        inside = sorted({lo, 1.0, hi}) if lo < 1 < hi else [lo, hi]
    return {"tickvals": inside, "ticktext": [f"{v:.3g}" for v in inside]}


def _positive_x(fig: go.Figure) -> list[float]:
    xs: list[float] = []
    for trace in fig.data:
        for x in getattr(trace, "x", None) or ():
            if isinstance(x, (int, float)) and math.isfinite(x) and x > 0:
                xs.append(float(x))
    return xs


def _axis_range(xs: Sequence[float | None], ratio: bool) -> tuple[float, float]:
    """Symmetric about the null line, as RevMan draws it."""
    finite = [x for x in xs if x is not None and math.isfinite(x) and (x > 0 or not ratio)]
    if ratio:
        span = max([abs(math.log10(x)) for x in finite] + [math.log10(2)])
        span = min(span * 1.1, 3)
        return 10 ** (-span), 10**span
    span = max([abs(x) for x in finite] + [0.5]) * 1.1
    return -span, span


def funnel_plot(payload: Mapping[str, Any], *, title: str | None = None) -> go.Figure:
    """Funnel plot: effect against its standard error (inverted), pseudo 95% limits around
    the pooled estimate, trim-and-fill studies drawn open, Egger's test in the corner."""
    ratio = bool(payload.get("ratio"))
    studies = [s for s in payload.get("studies") or [] if s.get("yi") is not None]
    overall = payload.get("overall") or {}
    bias = payload.get("bias") or {}
    fig = go.Figure()
    est = overall.get("estimate")
    ses = [math.sqrt(s["vi"]) for s in studies]
    filled = (bias.get("trimfill") or {}).get("filled") or []
    se_max = max(ses + [math.sqrt(f["vi"]) for f in filled] + [0.1]) * 1.1
    if est is not None:
        z = 1.959963984540054
        se_grid = [se_max * i / 40 for i in range(41)]
        for sign in (-1, 1):
            fig.add_trace(
                go.Scatter(
                    x=[_scale(payload, est + sign * z * s) for s in se_grid],
                    y=se_grid,
                    mode="lines",
                    line={"color": "#888", "dash": "dash", "width": 1},
                    name="Pseudo 95% limits",
                    showlegend=sign == 1,
                    hoverinfo="skip",
                )  # fmt: skip
            )
        fig.add_trace(
            go.Scatter(
                x=[_scale(payload, est)] * 2,
                y=[0, se_max],
                mode="lines",
                line={"color": INK, "width": 1.5},
                name="Pooled estimate",
                hoverinfo="skip",
            )  # fmt: skip
        )
    fig.add_trace(
        go.Scatter(
            x=[_scale(payload, s["yi"], scales.study_size(payload, s)) for s in studies],
            y=ses,
            mode="markers",
            name="Studies",
            marker={"size": 9, "color": SQUARE},
            text=[s["label"] for s in studies],
            hovertemplate="%{text}<br>effect %{x:.2f}, SE %{y:.3f}<extra></extra>",
        )
    )
    if filled:
        fig.add_trace(
            go.Scatter(
                x=[_scale(payload, f["yi"]) for f in filled],
                y=[math.sqrt(f["vi"]) for f in filled],
                mode="markers",
                name="Filled (trim and fill)",
                marker={"size": 9, "color": "white", "line": {"color": FILLED, "width": 2}},
                text=[f"mirrors {f['mirrors']}" for f in filled],
                hovertemplate="Filled study, %{text}<br>effect %{x:.2f}<extra></extra>",
            )  # fmt: skip
        )
        adj = bias["trimfill"].get("adjusted") or {}
        if adj.get("estimate") is not None:
            fig.add_trace(
                go.Scatter(
                    x=[_scale(payload, adj["estimate"])] * 2,
                    y=[0, se_max],
                    mode="lines",
                    line={"color": FILLED, "dash": "dot", "width": 1.5},
                    name="Adjusted estimate (trim and fill)",
                    hoverinfo="skip",
                )  # fmt: skip
            )
    notes = []
    eg = bias.get("egger")
    if eg:
        stat = (
            f"t = {eg['tval']:.2f}, df = {_fmt(eg.get('df'), 0)}"
            if eg.get("tval") is not None
            else f"z = {eg.get('zval') or 0:.2f}"
        )
        notes.append(f"Egger's test: {stat}, {_p(eg.get('pval'))}")
    tf = bias.get("trimfill")
    if tf:
        notes.append(f"Trim and fill: {tf['k0']} missing on the {tf['side']}")
    if len(studies) < 3:
        notes.append("Too few studies for tests of asymmetry")
    for i, text in enumerate(notes):
        fig.add_annotation(x=0.99, y=0.02 + 0.06 * i, xref="paper", yref="paper", text=text,
                           showarrow=False, xanchor="right", yanchor="bottom",
                           bgcolor="rgba(255,255,255,0.8)", font={"size": 11})  # fmt: skip
    measure = payload.get("measure_label") or payload.get("measure") or "effect"
    if payload.get("natural_label"):
        measure = f"{payload['natural_label']}, {measure}"
    fig.update_xaxes(title=f"{measure}" + (" (log scale)" if ratio else ""),
                     type="log" if ratio else "linear", showgrid=False, zeroline=False)  # fmt: skip
    if ratio and (xs := _positive_x(fig)):
        fig.update_xaxes(**ratio_ticks(min(xs), max(xs)))
    fig.update_yaxes(title="Standard error", range=[se_max, 0], showgrid=False, zeroline=False)
    fig.update_layout(
        height=460, width=640, plot_bgcolor="white", paper_bgcolor="white",
        title={"text": title, "x": 0.01} if title else None,
        legend={"orientation": "h", "y": -0.2}, margin={"l": 60, "r": 20, "t": 40, "b": 90},
        meta={"kind": "funnel"},
    )  # fmt: skip
    return fig


def _sequence_plot(
    payload: Mapping[str, Any], seq: Mapping[str, Any], key: str, prefix: str, kind: str,
    title: str | None,
) -> go.Figure:  # fmt: skip
    rows = seq.get("rows") or []
    labels = []
    for r in rows:
        lab = f"{prefix}{r[key]}"
        if r.get("year"):
            lab += f" ({r['year']})"
        labels.append(lab)
    ys = list(range(len(rows), 0, -1))
    sx = lambda v: _scale(payload, v)  # noqa: E731 - a short local alias reads best here
    ci_x: list[float | None] = []
    ci_y: list[float | None] = []
    for r, y in zip(rows, ys, strict=True):
        ci_x += [sx(r["ci_lb"]), sx(r["ci_ub"]), None]
        ci_y += [y, y, None]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=ci_x, y=ci_y, mode="lines", line={"color": INK, "width": 1.2},
                             hoverinfo="skip", showlegend=False))  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=[sx(r["estimate"]) for r in rows],
            y=ys,
            mode="markers",
            name=kind,
            marker={"symbol": "diamond", "size": 10, "color": SQUARE},
            showlegend=False,
            customdata=[[r["k"], r.get("i2"), r.get("pval")] for r in rows],
            text=labels,
            hovertemplate="%{text}<br>estimate %{x:.2f}, k = %{customdata[0]}, "
            "I² = %{customdata[1]:.0f}%<extra></extra>",
        )  # fmt: skip
    )
    overall = payload.get("overall") or {}
    ratio = bool(payload.get("ratio"))
    if overall.get("estimate") is not None:
        fig.add_vline(x=sx(overall["estimate"]), line={"color": "#888", "dash": "dash", "width": 1})
    null = scales.null_value(payload)
    if null is not None:
        fig.add_vline(x=null, line={"color": "#555", "width": 1})
    left, right = favours_labels(payload)
    fig.add_annotation(x=0, y=-0.12, xref="paper", yref="paper", text=left, showarrow=False,
                       xanchor="left", font={"size": 11})  # fmt: skip
    fig.add_annotation(x=1, y=-0.12, xref="paper", yref="paper", text=right, showarrow=False,
                       xanchor="right", font={"size": 11})  # fmt: skip
    fig.update_yaxes(tickvals=ys, ticktext=labels, showgrid=False, zeroline=False,
                     range=[0.3, len(rows) + 0.7])  # fmt: skip
    fig.update_xaxes(type="log" if ratio else "linear", showgrid=False, zeroline=False,
                     showline=True, title=method_label(payload))  # fmt: skip
    if ratio and (xs := _positive_x(fig) + [1.0]):
        fig.update_xaxes(**ratio_ticks(min(xs), max(xs)))
    fig.update_layout(
        height=max(240, 24 * len(rows) + 140), width=760, plot_bgcolor="white",
        paper_bgcolor="white", title={"text": title, "x": 0.01} if title else None,
        margin={"l": 10, "r": 20, "t": 40, "b": 80}, meta={"kind": kind},
    )  # fmt: skip
    return fig


def leave_one_out_plot(payload: Mapping[str, Any], *, title: str | None = None) -> go.Figure:
    seq = (payload.get("sensitivity") or {}).get("leave_one_out") or {"rows": []}
    return _sequence_plot(payload, seq, "omitted", "Omitting ", "leave1out", title)


def cumulative_plot(payload: Mapping[str, Any], *, title: str | None = None) -> go.Figure:
    seq = (payload.get("sensitivity") or {}).get("cumulative") or {"rows": []}
    return _sequence_plot(payload, seq, "added", "+ ", "cumulative", title)


FIGURES = {
    "forest": forest_plot,
    "funnel": funnel_plot,
    "leave-one-out": leave_one_out_plot,
    "cumulative": cumulative_plot,
}
