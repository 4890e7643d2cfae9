from extraction.rob.plots import (
    COLOURS,
    KEY_CHARS,
    LABEL_CHARS,
    LEGEND_ROW,
    STUDY_CHARS,
    TITLE_SPACE,
    PlotSpec,
    StudyJudgements,
    summary_bar,
    summary_percentages,
    text_width,
    traffic_light,
)

SPEC = PlotSpec(
    domains=[("D1", "Randomization"), ("D2", "Deviations")],
    judgements=["Low", "Some concerns", "High"],
)
ROWS = [
    StudyJudgements("A 2001", {"D1": "Low", "D2": "High"}, "High", weight=3),
    StudyJudgements("B 2002", {"D1": "Low", "D2": "Low"}, "Low", weight=1),
    StudyJudgements("C 2003", {"D1": "Some concerns", "D2": "Low"}, "Some concerns", weight=0),
]


def test_the_traffic_light_has_one_circle_per_study_and_column():
    fig = traffic_light(ROWS, SPEC)
    points = [(x, y, t.name) for t in fig.data for x, y in zip(t.x, t.y, strict=True)]
    assert len(points) == 3 * 3  # studies x (2 domains + overall)
    assert ("Overall", "A 2001", "High") in points and ("D2", "B 2002", "Low") in points
    high = next(t for t in fig.data if t.name == "High")
    assert high.marker.color == COLOURS["High"] and set(high.text) == {"X"}
    assert list(fig.layout.xaxis.categoryarray) == ["D1", "D2", "Overall"]
    assert list(fig.layout.yaxis.categoryarray) == ["C 2003", "B 2002", "A 2001"]


def test_summary_percentages_count_studies_or_weights():
    plain = summary_percentages(ROWS, SPEC)
    assert plain["D1"] == {"Low": 200 / 3, "Some concerns": 100 / 3, "High": 0.0}
    weighted = summary_percentages(ROWS, SPEC, weighted=True)
    assert weighted["D2"] == {"Low": 25.0, "Some concerns": 0.0, "High": 75.0}
    assert weighted["Overall"]["High"] == 75.0


def test_the_summary_bar_stacks_judgements_per_domain():
    fig = summary_bar(ROWS, SPEC, weighted=True)
    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == ["Low", "Some concerns", "High"]
    high = next(t for t in fig.data if t.name == "High")
    assert list(high.x) == [0.0, 75.0, 75.0]
    assert fig.layout.title.text.endswith("(weighted)")


def test_unjudged_domains_and_empty_reviews_draw_nothing_wrong():
    fig = traffic_light([StudyJudgements("D 2004", {"D1": "Low"})], SPEC)
    assert sum(len(t.x) for t in fig.data) == 1
    assert summary_percentages([], SPEC)["D1"] == {"Low": 0.0, "Some concerns": 0.0, "High": 0.0}


def test_custom_judgements_get_distinct_colours():
    spec = PlotSpec(domains=[("D1", "X")], judgements=["Good", "Fair", "Poor"])
    assert len({spec.colour(j) for j in spec.judgements}) == 3


# --- layouts readable from a phone to a desktop ------------------------------------------------

LONG = PlotSpec(
    domains=[
        ("D1", "Bias arising from the randomization process"),
        ("D1b", "Bias arising from the timing of identification and recruitment of participants"),
        ("D2", "Bias due to deviations from intended interventions"),
        ("D3", "Bias due to missing outcome data"),
        ("D4", "Bias in measurement of the outcome"),
        ("D5", "Bias in selection of the reported result"),
    ],
    judgements=["Low", "Some concerns", "High", "No information"],
)
PHONE_WIDTH = 340  # a 390 px phone less the page's and the card's padding


def _plot_height(fig):
    return fig.layout.height - fig.layout.margin.t - fig.layout.margin.b


def _studies(n, label="Study"):
    return [StudyJudgements(f"{label} {i}", {"D1": "Low", "D2": "High"}, "High") for i in range(n)]


def test_the_summary_bar_grows_with_its_rows_and_keeps_bars_readable():
    short, long = summary_bar(ROWS, SPEC), summary_bar(ROWS, LONG)
    for fig, rows in ((short, 3), (long, 7)):
        row = _plot_height(fig) / rows
        assert row * (1 - fig.layout.bargap) >= 20  # each bar at least 20 px high
    assert _plot_height(long) / 7 >= _plot_height(short) / 3  # wrapped labels get taller rows
    assert long.layout.height > short.layout.height


def test_the_summary_bar_margin_fits_its_longest_label_and_leaves_room_on_a_phone():
    fig = summary_bar(ROWS, LONG)
    lines = [line for label in fig.data[0].y for line in label.split("<br>")]
    assert max(len(line) for line in lines) <= LABEL_CHARS
    # Every domain name is there in full, only wrapped.
    assert "timing of identification and recruitment" in " ".join(lines)
    assert fig.layout.margin.l >= text_width(lines)
    assert fig.layout.margin.l <= PHONE_WIDTH * 0.5  # at least half a phone's width for bars
    assert fig.layout.yaxis.automargin is True


def test_the_summary_bar_legend_sits_in_the_figure_above_the_bars():
    fig = summary_bar(ROWS, LONG)
    legend = fig.layout.legend
    assert legend.orientation == "h" and legend.yanchor == "bottom" and legend.y >= 1
    assert legend.xanchor == "left" and legend.x == 0
    assert legend.traceorder == "normal"  # best judgement first, as the bars stack
    # The top margin holds the title and two legend rows (plotly widens it if more are needed).
    assert fig.layout.margin.t >= TITLE_SPACE + 2 * LEGEND_ROW


def test_a_long_title_wraps_to_a_phone_width_and_gets_the_room_it_needs():
    title = "RoB 2 (randomised trials: parallel, cluster, crossover)"
    spec = PlotSpec(LONG.domains, LONG.judgements, title=title)
    short, long = summary_bar(ROWS, LONG), summary_bar(ROWS, spec)
    lines = long.layout.title.text.split("<br>")
    assert " ".join(lines) == title
    assert len(lines) > 1 and text_width(lines, long.layout.title.font.size) <= PHONE_WIDTH
    assert long.layout.margin.t > short.layout.margin.t


def test_the_traffic_light_height_grows_with_the_studies():
    few, many = traffic_light(_studies(3), SPEC), traffic_light(_studies(30), SPEC)
    assert _plot_height(many) == 10 * _plot_height(few)
    assert _plot_height(few) / 3 >= few.data[0].marker.size  # circles never overlap


def test_the_traffic_light_margins_fit_study_labels_and_the_domain_key():
    studies = _studies(2, label="Cooperative Research Group on Long Study Names 2019")
    fig = traffic_light(studies, LONG)
    lines = [line for label in fig.layout.yaxis.categoryarray for line in label.split("<br>")]
    assert max(len(line) for line in lines) <= STUDY_CHARS
    assert fig.layout.margin.l >= text_width(lines)
    assert fig.layout.margin.l <= PHONE_WIDTH * 0.5  # half a phone's width for the circles
    key = fig.layout.annotations[0]
    key_lines = key.text.split("<br>")
    assert max(len(line) for line in key_lines) <= KEY_CHARS
    assert len(key_lines) > len(LONG.domains)  # long names wrapped rather than cut
    # The key starts at the figure's left edge and fits a phone's width, below the plot.
    assert key.xshift <= -(fig.layout.margin.l - 16) and key.yanchor == "top" and key.y == 0
    assert text_width(key_lines, key.font.size) <= PHONE_WIDTH
    assert fig.layout.margin.b >= len(key_lines) * key.font.size


def test_the_traffic_light_legend_sits_above_the_domain_names():
    fig = traffic_light(_studies(4), LONG)
    legend = fig.layout.legend
    assert legend.orientation == "h" and legend.yanchor == "bottom"
    above_plot = (legend.y - 1) * _plot_height(fig)
    # Clear of the D1..Overall tick labels, even when plotly turns them upright.
    assert above_plot >= text_width(["Overall"]) + 4
    assert fig.layout.margin.t >= above_plot + TITLE_SPACE + LEGEND_ROW
