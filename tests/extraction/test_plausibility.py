"""Plausibility warnings: numbers that contradict each other or are implausible are flagged,
never refused (issue 11: N randomised = 99,999,999,999 saved while the arms added up to 115)."""

import math

import pytest

from extraction import plausibility, selectors, services
from extraction.models import FieldType
from tests.extraction.conftest import F, arms, continuous

pytestmark = pytest.mark.django_db


def save(form, study, user, version=0, **data):
    data.setdefault("answers", {})
    return services.extraction_save(
        form=form,
        study=study,
        user=user,
        expected_version=version,
        data=services.ExtractionInput(**data),
    )


def warnings_of(record):
    return plausibility.by_key(selectors.extraction_warnings(extraction=record))


def test_the_seen_case_is_saved_and_flagged(sheet, outcomes, studies, lead):
    qol = outcomes[0]
    record = save(
        sheet,
        studies[0],
        lead,
        answers={"n_randomised": "99999999999"},
        arms=arms(),
        outcomes=[
            continuous(qol, "12 months", 52, "Peer support", 5, 1, 60),
            continuous(qol, "12 months", 52, "Usual care", 5, 1, 55),
        ],
    )
    assert record.answers["n_randomised"] == 99999999999  # a warning, not a refusal
    messages = warnings_of(record)["n_randomised"]
    assert any("more people than any trial has randomised" in m for m in messages)
    assert any(
        "arms add up to only 115 at Quality of life, 12 months (less than half)" in m
        for m in messages
    )


def test_arms_adding_up_to_more_than_n_randomised_are_flagged(sheet, outcomes, studies, lead):
    hospitalised = outcomes[10]
    record = save(
        sheet,
        studies[0],
        lead,
        answers={"n_randomised": "100"},
        arms=arms(),
        outcomes=[
            {"outcome": hospitalised.pk, "timepoint": "6 months", "arm": a, "events": 5, "total": t}
            for a, t in (("Peer support", 60), ("Usual care", 55))
        ],
    )
    assert warnings_of(record)["n_randomised"] == [
        "Participants randomised is 100, but the arms add up to 115 at "
        "Hospitalised during follow-up, 6 months."
    ]


def test_consistent_numbers_give_no_warning(sheet, outcomes, studies, lead):
    qol = outcomes[0]
    record = save(
        sheet,
        studies[0],
        lead,
        answers={"n_randomised": "130"},
        arms=arms(),
        outcomes=[
            continuous(qol, "12 months", 52, "Peer support", 5, 1, 60),
            continuous(qol, "12 months", 52, "Usual care", 5, 1, 55),
            # One arm alone is not compared with N by its smallness.
            continuous(qol, "24 months", 104, "Usual care", 5, 1, 20),
        ],
    )
    assert warnings_of(record) == {}


def test_sd_larger_than_the_scale_allows_and_mean_outside_the_scale(
    review, sheet, outcomes, studies, lead
):
    qol = services.outcome_save(
        review=review,
        outcome=outcomes[0],
        name=outcomes[0].name,
        outcome_type="continuous",
        scale_min=0,
        scale_max=10,
    )
    record = save(
        sheet,
        studies[0],
        lead,
        arms=arms(),
        outcomes=[
            continuous(qol, "12 months", 52, "Peer support", 8, 6, 40),
            continuous(qol, "12 months", 52, "Usual care", 12, 1, 40),
        ],
    )
    found = warnings_of(record)
    bound = math.sqrt(8 * 2 * 40 / 39)
    assert found["outcomes.0.sd"] == [
        "Quality of life, 12 months, Peer support: SD 6 is larger than the scale runs from 0 "
        f"to 10 allows for a mean of 8 (at most {bound:.4g}); was an SE or a variance "
        "entered, or is the scale different?"
    ]
    assert "mean 12 is outside" in found["outcomes.1.mean"][0]


def test_the_largest_sd_is_reached_by_a_two_point_sample():
    # Half the sample at each end of [0, 10]: mean 5, sample SD sqrt(25 n / (n - 1)).
    n = 10
    values = [0.0] * 5 + [10.0] * 5
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    assert plausibility.max_sd(mean, 0, 10, n) == pytest.approx(sd)


def test_percentages_outside_0_to_100_are_flagged(sheet, studies, lead):
    section = sheet.sections.first()
    services.field_add(
        section=section,
        data=F("Women", FieldType.DECIMAL, key="women", unit="%"),
        user=lead,
    )
    services.field_add(
        section=section,
        data=F("Percent employed", FieldType.DECIMAL, key="employed"),
        user=lead,
    )
    record = save(sheet, studies[0], lead, answers={"women": "140", "employed": "-3"})
    found = warnings_of(record)
    assert found["women"] == ["Women: 140% is not a percentage (0 to 100)."]
    assert found["employed"] == ["Percent employed: -3% is not a percentage (0 to 100)."]


def test_the_sample_size_field_is_found_by_its_key_or_label(lead, sheet):
    fields = selectors.form_fields(form=sheet)
    assert plausibility.sample_size_field(fields).key == "n_randomised"
    section = sheet.sections.first()
    services.field_add(
        section=section,
        data=F("Participants lost to follow-up", FieldType.INTEGER, key="lost"),
        user=lead,
    )
    services.field_add(
        section=section, data=F("Sample size", FieldType.INTEGER, key="ss"), user=lead
    )
    fields = selectors.form_fields(form=sheet)
    assert plausibility.sample_size_field(fields).key == "n_randomised"


def test_the_api_returns_warnings_with_the_saved_extraction(
    api_for, review, sheet, outcomes, studies, lead
):
    response = api_for(lead).post(
        f"/api/reviews/{review.pk}/extractions/",
        {
            "form": sheet.pk,
            "study": studies[0].pk,
            "version": 0,
            "answers": {"n_randomised": 100},
            "arms": arms(),
            "outcomes": [
                continuous(outcomes[0], "12 months", 52, "Peer support", 5, 1, 60),
                continuous(outcomes[0], "12 months", 52, "Usual care", 5, 1, 55),
            ],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["warnings"] == [
        {
            "key": "n_randomised",
            "message": "Participants randomised is 100, but the arms add up to 115 at "
            "Quality of life, 12 months.",
        }
    ]


def test_the_comparison_page_lists_each_extractors_warnings(
    client_for, review, lead, dual_sheet, studies, screener_a, screener_b, outcomes
):
    qol, study = outcomes[0], studies[0]
    for user, n in ((screener_a, "100"), (screener_b, "115")):
        save(
            dual_sheet,
            study,
            user,
            answers={"n_randomised": n},
            arms=arms(),
            outcomes=[
                continuous(qol, "12 months", 52, "Peer support", 5, 1, 60),
                continuous(qol, "12 months", 52, "Usual care", 5, 1, 55),
            ],
        )
    url = f"/reviews/{review.pk}/extraction/forms/{dual_sheet.pk}/studies/{study.pk}/compare/"
    body = client_for(lead).get(url).content.decode()
    section = body.split('id="plausibility"')[1].split("</div>")[0]
    assert f"A · {screener_a.username}" in section
    assert "Participants randomised is 100, but the arms add up to 115" in section
    assert f"B · {screener_b.username}" not in section  # B's numbers agree with each other


def test_the_lead_gives_an_outcomes_scale_on_the_outcomes_page(client_for, review, lead):
    client = client_for(lead)
    url = f"/reviews/{review.pk}/extraction/outcomes/"
    base = {
        "name": "Quality of life",
        "outcome_type": "continuous",
        "desirable_direction": "higher",
        "timepoint_rule": "longest",
    }
    client.post(url + "new/", {**base, "scale_min": "10", "scale_max": "0"})
    assert "must be below its maximum" in client.get(url).content.decode()
    client.post(url + "new/", {**base, "scale_min": "0", "scale_max": "10"})
    outcome = review.outcomes_defined.get()
    assert (outcome.scale_min, outcome.scale_max) == (0, 10)
