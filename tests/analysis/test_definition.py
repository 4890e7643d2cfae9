"""Issue 11, analysis definition: subgroups are chosen from the review's study-level fields
(a typo cannot be saved), options have plain labels and help, the outcome comes first,
subgroup headings name the variable, and ratio results show on their natural scale."""

import json
import math

import pytest
from django.urls import reverse

from analysis import services
from reviewapp.errors import DomainError
from tests.analysis.conftest import include_study, save_continuous, save_events

pytestmark = pytest.mark.django_db

CONTINUOUS = {
    "Chinman 2015": ((10.2, 3.1, 40), (9.1, 3.3, 42), "higher"),
    "Gillard 2015": ((8.2, 2.9, 30), (8.9, 3.0, 31), "lower"),
    "Rogers 2016": ((11.0, 4.0, 100), (10.0, 4.1, 98), "higher"),
}


@pytest.fixture
def subgrouped(review, lead, sheet, symptoms, eager, django_capture_on_commit_callbacks):
    for label, (i, c, org) in CONTINUOUS.items():
        study = include_study(review, label, int(label[-4:]))
        save_continuous(sheet, study, lead, symptoms, i, c, org=org)
    with django_capture_on_commit_callbacks(execute=True):
        analysis = services.analysis_create(
            review=review, outcome=symptoms, created_by=lead, subgroup_field="org_support"
        )
    analysis.refresh_from_db()
    return analysis


def test_a_subgroup_variable_that_is_no_field_is_refused_by_the_service(
    review, lead, sheet, symptoms
):
    with pytest.raises(DomainError, match="org_suport") as caught:
        services.analysis_create(
            review=review, outcome=symptoms, created_by=lead, subgroup_field="org_suport"
        )
    assert caught.value.field == "subgroup_field"
    assert "Organisational support" in caught.value.message  # names what can be chosen


def test_the_api_refuses_a_misspelt_subgroup_variable(api_for, review, lead, sheet, symptoms):
    response = api_for(lead).post(
        f"/api/reviews/{review.pk}/analyses/",
        {"outcome": symptoms.pk, "name": "Typo", "subgroup_field": "org_suport"},
        format="json",
    )
    assert response.status_code == 400
    assert "org_suport" in json.dumps(response.json())


def test_the_form_offers_the_study_level_fields_and_puts_the_outcome_first(
    client_for, review, lead, sheet, symptoms
):
    response = client_for(lead).get(reverse("analysis_list", args=[review.pk]))
    form = response.context["form"]
    assert list(form.fields)[0] == "outcome"
    choices = dict(form.fields["subgroup_field"].choices)
    assert choices[""] == "No subgroups"
    assert "Organisational support" in choices["org_support"]
    for name, field in form.fields.items():
        if name != "version":
            assert field.label and "_" not in str(field.label), name
    assert form.fields["tau2_method"].help_text
    assert "Mantel haenszel" not in response.content.decode()


def test_subgroup_headings_name_the_variable(client_for, lead, subgrouped):
    response = client_for(lead).get(
        reverse("analysis_detail", args=[subgrouped.review_id, subgrouped.pk])
    )
    forest = json.loads(response.context["figures"]["forest"])
    text = json.dumps(forest)
    assert "Organisational support: higher" in text and "Organisational support: lower" in text


def test_the_analyses_list_shows_a_ratio_on_its_natural_scale(
    client_for, review, lead, sheet, hospitalised, eager, django_capture_on_commit_callbacks
):
    for label, (i, c) in {
        "Chinman 2015": ((4, 40), (9, 42)),
        "Rogers 2016": ((10, 100), (18, 98)),
    }.items():
        save_events(sheet, include_study(review, label, int(label[-4:])), lead, hospitalised, i, c)
    with django_capture_on_commit_callbacks(execute=True):
        analysis = services.analysis_create(
            review=review, outcome=hospitalised, created_by=lead, measure="RR"
        )
    analysis.refresh_from_db()
    html = client_for(lead).get(reverse("analysis_list", args=[review.pk])).content.decode()
    natural = math.exp(analysis.current_result.estimate)
    assert f"RR {natural:.2f}" in html and "(log)" not in html
