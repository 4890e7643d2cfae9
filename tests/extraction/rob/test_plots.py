from extraction.rob.plots import (
    COLOURS,
    PlotSpec,
    StudyJudgements,
    summary_bar,
    summary_percentages,
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
