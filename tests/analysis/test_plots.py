"""Figure builders are pure: tested on payloads from the engine, without a database."""

import math

import pytest

from analysis import plots
from tests.analysis.payloads import continuous_payload, dichotomous_payload


def _trace(fig, name):
    return next(t for t in fig.data if t.name == name)


def _annotation(fig, name):
    return next(a for a in fig.layout.annotations if a.name == name)


def _texts(fig):
    return [str(t) for trace in fig.data if trace.mode == "text" for t in trace.text]


def _plot_axis(fig):
    axes = [
        fig.layout[k]
        for k in fig.layout
        if k.startswith("xaxis") and fig.layout[k].visible is not False
    ]
    assert len(axes) == 1
    return axes[0]


def test_the_forest_plot_has_revman_columns_for_continuous_data():
    fig = plots.forest_plot(continuous_payload())
    texts = _texts(fig)
    assert "Chinman 2015" in texts
    assert "10.20" in texts and "3.10" in texts and "40" in texts  # mean, SD, total
    headers = [a.text for a in fig.layout.annotations]
    assert "<b>Mean</b>" in headers and "<b>Weight</b>" in headers
    assert "<b>SMD IV, Random, 95% CI</b>" in headers
    assert any(t.startswith("<b>Total</b>") for t in texts)
    assert any(t.startswith("Heterogeneity: Tau² = ") and "I² = " in t for t in texts)
    assert any(t.startswith("Test for overall effect: Z = ") for t in texts)


def test_squares_are_sized_by_weight():
    payload = continuous_payload()
    fig = plots.forest_plot(payload, sort="study")
    squares = _trace(fig, "Studies")
    studies = sorted(payload["studies"], key=lambda s: s["label"].lower())
    heaviest = max(range(len(studies)), key=lambda i: studies[i]["weight"])
    assert squares.marker.size[heaviest] == max(squares.marker.size)
    assert squares.marker.symbol == "square"
    assert list(squares.x) == pytest.approx([s["yi"] for s in studies])


def test_the_total_is_a_diamond_spanning_its_ci():
    payload = continuous_payload()
    diamond = _trace(plots.forest_plot(payload), "Total")
    o = payload["overall"]
    assert diamond.fill == "toself"
    xs = [x for x in diamond.x if x is not None]
    assert min(xs) == pytest.approx(o["ci_lb"]) and max(xs) == pytest.approx(o["ci_ub"])


def test_the_prediction_interval_is_a_bar_only_when_computed():
    payload = continuous_payload()
    bar = _trace(plots.forest_plot(payload), "Prediction interval")
    assert [x for x in bar.x if x is not None] == pytest.approx(
        [payload["overall"]["pi_lb"], payload["overall"]["pi_ub"]]
    )
    without = plots.forest_plot(continuous_payload(prediction_interval=False))
    assert "Prediction interval" not in [t.name for t in without.data]


def test_higher_is_better_puts_the_intervention_on_the_right():
    fig = plots.forest_plot(continuous_payload(direction="higher"))
    assert _annotation(fig, "favours-left").text == "Favours control"
    assert _annotation(fig, "favours-right").text == "Favours peer support"


def test_lower_is_better_flips_the_labels_not_the_data():
    payload = continuous_payload(direction="lower")
    fig = plots.forest_plot(payload)
    assert _annotation(fig, "favours-left").text == "Favours peer support"
    assert _annotation(fig, "favours-right").text == "Favours control"
    assert payload["overall"]["estimate"] == pytest.approx(
        continuous_payload()["overall"]["estimate"]
    )


def test_harmonised_signs_keep_the_intervention_on_the_right():
    fig = plots.forest_plot(continuous_payload(direction="lower", harmonise_signs=True))
    assert _annotation(fig, "favours-right").text == "Favours peer support"


def test_ratios_are_drawn_on_a_log_axis_around_one():
    payload = dichotomous_payload(model="fixed", mantel_haenszel=True)
    fig = plots.forest_plot(payload)
    assert _plot_axis(fig).type == "log"
    squares = _trace(fig, "Studies")
    assert all(x > 0 for x in squares.x)
    headers = [a.text for a in fig.layout.annotations]
    assert "<b>RR M-H, Fixed, 95% CI</b>" in headers
    assert "<b>Events</b>" in headers
    null_line = fig.layout.shapes[0]
    assert null_line.x0 == 1.0
    assert plots.forest_plot(continuous_payload()).layout.shapes[0].x0 == 0.0


def test_subgroups_get_headers_subtotals_and_the_test_for_differences():
    payload = continuous_payload(subgroup_field="org_support")
    kinds = [r.kind for r in plots.forest_rows(payload)]
    assert kinds.count("header") == 2 and kinds.count("subtotal") == 2 and kinds.count("total") == 1
    texts = _texts(plots.forest_plot(payload))
    # Headings name the variable (issue 11); without a field label, by its key.
    assert "<b>1.1 org_support: higher</b>" in texts and "<b>1.2 org_support: lower</b>" in texts
    assert any(
        t.startswith("Test for subgroup differences: Chi² = ") and "df = 1" in t for t in texts
    )
    subtotals = _trace(plots.forest_plot(payload), "Subtotals")
    assert sum(x is None for x in subtotals.x) == 2  # two diamonds


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("weight", lambda s: -s["weight"]),
        ("effect", lambda s: s["yi"]),
        ("year", lambda s: (s["year"], s["label"])),
    ],
)
def test_studies_sort_by_weight_effect_or_year(sort, key):
    payload = continuous_payload()
    rows = [r.study["label"] for r in plots.forest_rows(payload, sort) if r.kind == "study"]
    assert rows == [s["label"] for s in sorted(payload["studies"], key=key)]


def test_an_unknown_sort_is_refused():
    with pytest.raises(ValueError, match="sort must be one of"):
        plots.forest_rows(continuous_payload(), "colour")


def test_rob_traffic_lights_are_an_optional_column():
    payload = continuous_payload()
    fig = plots.forest_plot(payload, show_rob=True)
    rob = _trace(fig, "Risk of bias")
    assert (
        plots.ROB_COLOURS["high"] in rob.marker.color
        and plots.ROB_COLOURS["low"] in rob.marker.color
    )
    assert "Risk of bias" not in [t.name for t in plots.forest_plot(payload).data]


def test_hover_shows_the_study_details():
    squares = _trace(plots.forest_plot(continuous_payload()), "Studies")
    assert "Chinman 2015" in squares.text[0] and "Weight" in squares.text[0]


def test_the_funnel_plot_has_pseudo_limits_egger_and_filled_studies():
    payload = continuous_payload()
    fig = plots.funnel_plot(payload)
    names = [t.name for t in fig.data]
    assert names.count("Pseudo 95% limits") == 2
    studies = _trace(fig, "Studies")
    assert list(studies.y) == pytest.approx([math.sqrt(s["vi"]) for s in payload["studies"]])
    assert fig.layout.yaxis.range[0] > fig.layout.yaxis.range[1]  # SE axis inverted
    notes = [a.text for a in fig.layout.annotations]
    assert any(n.startswith("Egger's test: t = ") for n in notes)
    k0 = payload["bias"]["trimfill"]["k0"]
    assert any(n.startswith(f"Trim and fill: {k0} missing") for n in notes)
    if k0:
        filled = _trace(fig, "Filled (trim and fill)")
        assert filled.marker.color == "white" and len(filled.x) == k0


def test_the_funnel_plot_of_ratios_uses_a_log_axis():
    assert plots.funnel_plot(dichotomous_payload()).layout.xaxis.type == "log"


def test_leave_one_out_and_cumulative_plots_have_a_row_per_refit():
    payload = continuous_payload(cumulative=True)
    loo = plots.leave_one_out_plot(payload)
    assert list(loo.layout.yaxis.ticktext) == [f"Omitting {s['label']}" for s in payload["studies"]]
    cum = plots.cumulative_plot(payload)
    assert cum.layout.yaxis.ticktext[0] == "+ Simpson 2014 (2014)"
    assert len(cum.layout.yaxis.ticktext) == 4


def test_a_result_without_studies_draws_an_empty_forest():
    payload = continuous_payload()
    payload = {**payload, "studies": [], "overall": None}
    fig = plots.forest_plot(payload)
    assert _trace(fig, "Studies").x == ()


def test_rob_domains_get_a_traffic_light_column_each_before_the_overall_one():
    from dataclasses import replace

    from analysis.inputs import AnalysisInputs
    from analysis.services import compute_payload
    from tests.analysis.payloads import CONTINUOUS, spec

    domains = {1: {"D1": "Low", "D2": "High"}, 2: {"D1": "Some concerns", "D2": "Low"}}
    rows = tuple(replace(r, rob_domains=domains.get(r.study_id, {})) for r in CONTINUOUS)
    payload = compute_payload(spec(), AnalysisInputs(rows=rows))
    fig = plots.forest_plot(payload, show_rob=True)
    d1, d2 = _trace(fig, "Risk of bias D1"), _trace(fig, "Risk of bias D2")
    assert list(d1.marker.color) == [plots.ROB_COLOURS["low"], plots.ROB_COLOURS["some concerns"]]
    assert list(d2.marker.color) == [plots.ROB_COLOURS["high"], plots.ROB_COLOURS["low"]]
    assert "Chinman 2015: High (D2)" in d2.text
    assert len(_trace(fig, "Risk of bias").marker.color) == 4  # overall, every judged study
    names = [t.name for t in fig.data]
    assert (
        names.index("Risk of bias D1")
        < names.index("Risk of bias D2")
        < names.index("Risk of bias")
    )


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.5, "P = 0.50"),
        (0.0123, "P = 0.01"),
        (0.0072, "P = 0.007"),
        (0.00072, "P = 0.0007"),
        (7.05e-05, "P = 0.00007"),
        (2e-06, "P < 0.00001"),
    ],
)
def test_p_values_never_read_as_zero(p, text):
    assert plots._p(p) == text


@pytest.mark.parametrize(
    ("lo", "hi", "ticks"),
    [
        (0.3, 3.0, [0.5, 1, 2]),
        (0.08, 12.0, [0.1, 0.2, 0.5, 1, 2, 5, 10]),
        (0.001, 1000.0, [0.001, 0.01, 0.1, 1, 10, 100, 1000]),
    ],
)
def test_log_axes_are_labelled_at_1_2_5_steps(lo, hi, ticks):
    """Issue 11, figures: plotly's own log ticks read "2 3 4 5 ... 1 2"."""
    got = plots.ratio_ticks(lo, hi)
    assert got["tickvals"] == pytest.approx(ticks)
    assert got["ticktext"] == [f"{t:.3g}" for t in ticks]


def test_ratio_funnel_and_forest_plots_name_their_log_ticks():
    payload = dichotomous_payload()
    assert payload["ratio"]
    for fig in (plots.funnel_plot(payload), plots.forest_plot(payload)):
        axis = _plot_axis(fig) if fig.layout.xaxis.type != "log" else fig.layout.xaxis
        assert axis.type == "log" and list(axis.tickvals)
        assert all(t == f"{v:.3g}" for t, v in zip(axis.ticktext, axis.tickvals, strict=True))


def test_variability_ratios_are_shown_as_ratios_labelled_by_variability():
    from analysis import stats
    from analysis.plots import favours_labels, forest_rows
    from tests.analysis.payloads import CONTINUOUS, continuous_payload

    payload = continuous_payload(measure="VR")
    assert payload["ratio"] is True
    assert favours_labels(payload) == (
        "Less variable with peer support", "More variable with peer support",
    )  # fmt: skip
    rows = [r for r in CONTINUOUS if r.sd1 is not None]
    es = stats.escalc("VR", sd1i=[r.sd1 for r in rows], n1i=[r.n1 for r in rows],
                      sd2i=[r.sd2 for r in rows], n2i=[r.n2 for r in rows])  # fmt: skip
    pooled = stats.pool(es, method="REML")
    total = next(r for r in forest_rows(payload) if r.kind == "total")
    assert total.cells["effect"].startswith(f"{math.exp(pooled.estimate):.2f} [")
    chinman = next(r for r in forest_rows(payload) if r.cells.get("label") == "Chinman 2015")
    assert chinman.cells["sd1"] == "3.10"
