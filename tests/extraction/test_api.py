import pytest

from extraction import selectors
from extraction.models import Extraction
from tests.extraction.conftest import arms, continuous

pytestmark = pytest.mark.django_db


def test_forms_fields_and_outcomes_through_the_api(api_for, review, lead, viewer):
    api = api_for(lead)
    base = f"/api/reviews/{review.pk}/"
    form = api.post(
        base + "extraction-forms/", {"name": "Sheet", "mode": "dual"}, format="json"
    ).json()
    section = api.post(
        base + "extraction-sections/", {"form": form["id"], "title": "Peer worker"}, format="json"
    ).json()
    for key in ("a", "b", "c"):
        response = api.post(
            base + "extraction-fields/",
            {
                "section": section["id"],
                "key": key,
                "label": key.upper(),
                "field_type": "yes_no_unclear",
            },
            format="json",
        )
        assert response.status_code == 201
    derived = api.post(
        base + "extraction-fields/",
        {
            "section": section["id"],
            "key": "support",
            "label": "Support",
            "field_type": "derived",
            "choices": ["higher", "lower"],
            "rule": 'if count_yes(a, b, c) >= 2 then "higher" else "lower"',
        },
        format="json",
    )
    assert derived.status_code == 201
    bad = api.post(
        base + "extraction-fields/",
        {
            "section": section["id"],
            "label": "X",
            "field_type": "single_choice",
            "choices": ["only"],
        },
        format="json",
    )
    assert bad.status_code == 400 and "at least two choices" in bad.json()["choices"][0]
    exported = api.get(base + f"extraction-forms/{form['id']}/export/").json()
    assert [f["key"] for f in exported["sections"][0]["fields"]] == ["a", "b", "c", "support"]
    copy = api.post(base + "extraction-forms/", {"name": "Copy", "schema": exported}, format="json")
    assert copy.status_code == 201 and copy.json()["schema"]["sections"] == exported["sections"]
    outcome = api.post(
        base + "outcomes/",
        {"name": "Days in hospital", "outcome_type": "continuous", "desirable_direction": "lower"},
        format="json",
    )
    assert outcome.status_code == 201 and outcome.json()["timepoint_rule"] == "longest"
    assert (
        api_for(viewer)
        .post(base + "outcomes/", {"name": "X", "outcome_type": "continuous"}, format="json")
        .status_code
        == 403
    )


def test_saving_through_the_api_conflicts_and_validates(
    api_for, review, lead, screener_a, sheet, studies, outcomes
):
    base = f"/api/reviews/{review.pk}/extractions/"
    payload = {
        "form": sheet.pk,
        "study": studies[0].pk,
        "version": 0,
        "answers": {"design": "Cluster randomised", "peer_training": "yes"},
        "arms": arms(),
        "outcomes": [continuous(outcomes[0], "12 months", 52, "Peer support", 5, 1, 30)],
    }
    first = api_for(lead).post(base, payload, format="json")
    assert first.status_code == 200 and first.json()["version"] == 1
    assert first.json()["outcomes"][0]["sd"] == 1.0
    stale = api_for(screener_a).post(
        base, {**payload, "answers": {"design": "Individually randomised"}}, format="json"
    )
    assert stale.status_code == 409
    assert stale.json()["current"]["answers"]["design"] == "Cluster randomised"
    assert stale.json()["yours"]["answers"]["design"] == "Individually randomised"
    bad = api_for(screener_a).post(
        base,
        {**payload, "version": 1, "outcomes": [{**payload["outcomes"][0], "n": 1}]},
        format="json",
    )
    assert bad.status_code == 400 and "n must be at least 2" in bad.json()["outcomes.0.n"][0]
    assert Extraction.objects.get().version == 1
    rows = (
        api_for(lead)
        .get(f"/api/reviews/{review.pk}/outcomes/{outcomes[0].pk}/analysis-rows/")
        .json()
    )
    assert rows[0]["missing"] == "no control arm with data"
    assert rows[0]["variables"]["design"] == "Cluster randomised"


def test_independent_extractions_stay_hidden_from_the_other_extractor(
    api_for, review, lead, dual_sheet, studies, screener_a, screener_b, outcomes
):
    base = f"/api/reviews/{review.pk}/extractions/"
    for user, sd in ((screener_a, 1.0), (screener_b, 2.0)):
        response = api_for(user).post(
            base,
            {
                "form": dual_sheet.pk,
                "study": studies[0].pk,
                "version": 0,
                "answers": {"design": "Cluster randomised"},
                "arms": arms(),
                "outcomes": [continuous(outcomes[0], "12 months", 52, "Peer support", 5, sd, 30)],
            },
            format="json",
        )
        assert response.status_code == 200
    seen_by_a = api_for(screener_a).get(base).json()
    items = seen_by_a["results"] if isinstance(seen_by_a, dict) else seen_by_a
    assert [e["extractor"] for e in items] == ["screener_a"]
    assert (
        api_for(screener_a)
        .get(base + f"compare/?form={dual_sheet.pk}&study={studies[0].pk}")
        .status_code
        == 400
    )
    comparison = (
        api_for(lead).get(base + f"compare/?form={dual_sheet.pk}&study={studies[0].pk}").json()
    )
    assert comparison["differences"] == 1
    key = comparison["outcome_rows"][0]["key"]
    made = api_for(lead).post(
        base + "consensus/",
        {"form": dual_sheet.pk, "study": studies[0].pk, "version": 0, "choices": {key: "second"}},
        format="json",
    )
    assert made.status_code == 200 and made.json()["kind"] == "consensus"
    assert selectors.analysis_rows(outcome=outcomes[0])[0].arms[0].sd == 2.0


def test_fields_change_move_and_leave_the_form_through_the_api(
    api_for, review, lead, sheet, studies
):
    from extraction import services

    services.extraction_save(
        form=sheet, study=studies[0], user=lead, expected_version=0,
        data=services.ExtractionInput(answers={"training_notes": "Two-day course"}),
    )  # fmt: skip
    api = api_for(lead)
    base = f"/api/reviews/{review.pk}/extraction-fields/"
    field = sheet.fields.get(key="training_notes")
    changed = api.patch(base + f"{field.pk}/", {"label": "Training described"}, format="json")
    assert changed.status_code == 200 and changed.json()["label"] == "Training described"
    retyped = api.patch(base + f"{field.pk}/", {"field_type": "integer"}, format="json")
    assert retyped.status_code == 400 and "cannot change" in retyped.json()["field_type"][0]
    moved = api.post(base + f"{field.pk}/move/", {"direction": "up"}, format="json")
    assert moved.status_code == 200
    assert api.delete(base + f"{field.pk}/").status_code == 204
    field.refresh_from_db()
    assert field.removed_in_version is not None
    page = api_for(lead).get(f"/api/reviews/{review.pk}/extractions/").json()
    items = page["results"] if isinstance(page, dict) else page
    assert items[0]["answers"]["training_notes"] == "Two-day course"


def test_the_entry_page_shows_answers_to_removed_fields(client_for, review, lead, sheet, studies):
    from extraction import services

    services.extraction_save(
        form=sheet, study=studies[0], user=lead, expected_version=0,
        data=services.ExtractionInput(answers={"training_notes": "Two-day course"}),
    )  # fmt: skip
    services.field_remove(field=sheet.fields.get(key="training_notes"), user=lead)
    url = f"/reviews/{review.pk}/extraction/forms/{sheet.pk}/studies/{studies[0].pk}/"
    page = client_for(lead).get(url).content.decode()
    assert "Answers to removed fields" in page and "Two-day course" in page
    assert 'name="a__training_notes"' not in page
