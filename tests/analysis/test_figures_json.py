"""The pages' figure JSON is built once per result and served from the cache, under a key over
the result's input hash: a change of data gives a new key, never the old figure."""

import json

import pytest
from django.core.cache import cache
from django.urls import reverse

from analysis import figures, plots, services
from analysis.models import Analysis
from tests.analysis.conftest import include_study, save_continuous

pytestmark = pytest.mark.django_db

DATA = {
    "Chinman 2015": ((10.2, 3.1, 40), (9.1, 3.3, 42)),
    "Gillard 2015": ((8.2, 2.9, 30), (8.9, 3.0, 31)),
}
NEW = ("Rogers 2016", ((11.0, 4.0, 100), (10.0, 4.1, 98)))


@pytest.fixture
def analysis(review, lead, sheet, symptoms, eager, django_capture_on_commit_callbacks):
    for label, (i, c) in DATA.items():
        save_continuous(sheet, include_study(review, label, int(label[-4:])), lead, symptoms, i, c)
    with django_capture_on_commit_callbacks(execute=True):
        a = services.analysis_create(review=review, outcome=symptoms, created_by=lead)
    a.refresh_from_db()
    return a


@pytest.fixture
def planted():
    """Cache keys a test writes by hand; removed afterwards (the cache outlives the test's
    database, and another test's result with the same inputs has the same key)."""
    keys: list[str] = []
    yield keys
    cache.delete_many(keys)


def _page(client, analysis, **query):
    url = reverse("analysis_detail", args=[analysis.review_id, analysis.pk])
    return client.get(url, query)


def _forest_key(analysis, sort="study"):
    return figures.figure_json_key(analysis.current_result, "forest", sort, analysis.show_rob)


def test_the_page_draws_the_figures_the_plot_builders_make(client_for, viewer, analysis):
    computed = analysis.current_result.computed
    response = _page(client_for(viewer), analysis)
    shown = response.context["figures"]
    assert list(shown) == figures.figure_names(computed) == ["forest", "funnel", "leave-one-out"]
    assert shown["forest"] == plots.forest_plot(computed, sort="study").to_json()
    assert shown["funnel"] == plots.funnel_plot(computed).to_json()
    assert cache.get(_forest_key(analysis)) == shown["forest"]


def test_the_page_serves_the_figure_cached_under_the_results_input_hash(
    client_for, viewer, analysis, planted
):
    _page(client_for(viewer), analysis)
    key = _forest_key(analysis)
    assert analysis.current_result.input_hash in key
    planted.append(key)
    cache.set(key, json.dumps({"data": [], "layout": {"meta": {"kind": "cached"}}}))
    html = _page(client_for(viewer), analysis).content.decode()
    assert '"kind": "cached"' in html


def test_a_data_change_gives_a_new_key_so_the_old_figure_is_not_served(
    client_for, viewer, lead, review, sheet, symptoms, analysis, planted,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    planted.append(_forest_key(analysis))
    cache.set(_forest_key(analysis), json.dumps({"data": [], "layout": {"meta": {"kind": "old"}}}))
    label, (i, c) = NEW
    with django_capture_on_commit_callbacks(execute=True):
        save_continuous(sheet, include_study(review, label, 2016), lead, symptoms, i, c)
    analysis = Analysis.objects.select_related("current_result").get(pk=analysis.pk)
    assert analysis.current_result.k == 3
    response = _page(client_for(viewer), analysis)
    forest = json.loads(response.context["figures"]["forest"])
    assert forest["layout"]["meta"]["kind"] == "forest"
    assert len(next(t for t in forest["data"] if t["name"] == "Studies")["x"]) == 3
    assert '"kind": "old"' not in response.content.decode()


def test_each_sort_order_has_its_own_forest_plot(client_for, viewer, analysis):
    client = client_for(viewer)
    by_effect = json.loads(_page(client, analysis, sort="effect").context["figures"]["forest"])
    by_study = json.loads(_page(client, analysis).context["figures"]["forest"])
    assert by_effect["layout"]["meta"]["sort"] == "effect"
    assert by_study["layout"]["meta"]["sort"] == "study"
    assert _forest_key(analysis, "effect") != _forest_key(analysis)


def test_the_worker_builds_the_page_and_dashboard_figures_with_the_result(analysis):
    analysis.show_rob = True
    result = analysis.current_result
    keys = [
        figures.figure_json_key(result, "forest", analysis.sort_by, True),
        figures.figure_json_key(result, "forest", analysis.sort_by, False),
        figures.figure_json_key(result, "funnel", analysis.sort_by, True),
    ]
    cache.delete_many(keys)
    figures.figures_json_warm(analysis=analysis, result=result)
    assert all(cache.get(key) for key in keys)


def test_a_result_the_engine_refused_has_no_figures(analysis):
    result = analysis.current_result
    result.error = "Events above the total"
    assert figures.figures_json(result=result, sort="study", show_rob=False) == {}
