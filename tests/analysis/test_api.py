import pytest

from analysis import services
from analysis.models import Analysis
from tests.analysis.conftest import include_study, save_continuous

pytestmark = pytest.mark.django_db


def _base(review):
    return f"/api/reviews/{review.pk}/analyses/"


@pytest.fixture
def with_data(review, lead, sheet, outcome):
    for label, i, c in (("Chinman 2015", (10.2, 3.1, 40), (9.1, 3.3, 42)),
                        ("Rogers 2016", (11.0, 4.0, 100), (10.0, 4.1, 98))):  # fmt: skip
        save_continuous(sheet, include_study(review, label, int(label[-4:])), lead, outcome, i, c)


def test_the_lead_defines_an_analysis_and_reads_its_live_result(
    api_for, lead, review, outcome, with_data, eager, django_capture_on_commit_callbacks
):
    api = api_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            _base(review),
            {"outcome": outcome.pk, "name": "Main", "tau2_method": "DL"},
            format="json",
        )
    assert response.status_code == 201, response.data
    pk = response.data["id"]
    live = api.get(f"{_base(review)}{pk}/result/").data
    assert live["status"] == "current"
    assert live["result"]["k"] == 2
    assert live["result"]["payload"]["overall"]["method"] == "DL"
    fig = api.get(f"{_base(review)}{pk}/figure/", {"name": "forest", "sort": "weight"}).data
    assert fig["layout"]["meta"]["sort"] == "weight"
    assert any(t.get("name") == "Studies" for t in fig["data"])
    assert len(api.get(f"{_base(review)}{pk}/versions/").data) == 1
    assert api.get(f"{_base(review)}{pk}/figure/", {"name": "pie"}).status_code == 400


def test_bad_settings_get_a_400_naming_the_field(api_for, lead, review, outcome):
    api = api_for(lead)
    response = api.post(_base(review), {"outcome": outcome.pk, "measure": "OR"}, format="json")
    assert response.status_code == 400 and "measure" in response.data
    response = api.post(_base(review), {"outcome": 999999}, format="json")
    assert response.status_code == 400 and "outcome" in response.data
    assert not Analysis.objects.exists()


def test_a_stale_edit_gets_409_and_changes_nothing(api_for, lead, review, outcome):
    analysis = services.analysis_create(review=review, outcome=outcome, created_by=lead)
    api = api_for(lead)
    url = f"{_base(review)}{analysis.pk}/"
    assert api.patch(url, {"version": 1, "model": "fixed"}, format="json").status_code == 200
    response = api.patch(url, {"version": 1, "model": "random"}, format="json")
    assert response.status_code == 409
    assert Analysis.objects.get(pk=analysis.pk).model == "fixed"


def test_viewers_read_but_cannot_change_analyses(api_for, viewer, lead, review, outcome):
    analysis = services.analysis_create(review=review, outcome=outcome, created_by=lead)
    api = api_for(viewer)
    assert api.get(_base(review)).status_code == 200
    assert (
        api.patch(f"{_base(review)}{analysis.pk}/", {"model": "fixed"}, format="json").status_code
        == 403
    )
    assert api.post(f"{_base(review)}{analysis.pk}/recompute/").status_code == 403


def test_the_version_endpoint_changes_when_an_analysis_does(api_for, viewer, lead, review, outcome):
    api = api_for(viewer)
    url = f"/api/reviews/{review.pk}/analysis-version/"
    before = api.get(url).data["version"]
    services.analysis_create(review=review, outcome=outcome, created_by=lead)
    assert api.get(url).data["version"] != before


def test_grades_are_rated_through_the_api(api_for, lead, review, outcome):
    api = api_for(lead)
    url = f"/api/reviews/{review.pk}/grades/{outcome.pk}/"
    bad = api.put(url, {"imprecision": "serious", "reasons": {}}, format="json")
    assert bad.status_code == 400 and "imprecision" in bad.data
    ok = api.put(
        url, {"imprecision": "serious", "reasons": {"imprecision": "Few events"}}, format="json"
    )
    assert ok.status_code == 200 and ok.data["certainty"] == "Moderate"


def test_a_result_stored_before_the_schema_was_versioned_is_served_in_the_current_schema(
    api_for, lead, review, outcome, with_data, eager, django_capture_on_commit_callbacks
):
    from analysis.models import AnalysisResult
    from analysis.results import SCHEMA_VERSION

    with django_capture_on_commit_callbacks(execute=True):
        analysis = services.analysis_create(review=review, outcome=outcome, created_by=lead)
    result = Analysis.objects.get(pk=analysis.pk).current_result
    old = dict(result.payload)
    for key in ("schema_version", "transform", "percent", "single_group"):
        del old[key]
    AnalysisResult.objects.filter(pk=result.pk).update(payload=old)
    live = api_for(lead).get(f"{_base(review)}{analysis.pk}/result/").data
    payload = live["result"]["payload"]
    assert payload["schema_version"] == SCHEMA_VERSION
    assert payload["overall"]["estimate"] == old["overall"]["estimate"]
    assert (payload["transform"], payload["percent"], payload["single_group"]) == (
        None, False, False,
    )  # fmt: skip
