"""The review of docs/use-case.md, built and extracted end to end through the services."""

import pytest

from extraction import selectors, services
from extraction.models import Extraction, FieldType, Outcome
from tests.extraction.conftest import ORG_SUPPORT_RULE, USE_CASE_OUTCOMES, arms, continuous

pytestmark = pytest.mark.django_db


def test_the_use_case_sheet_outcomes_and_subgroup_are_expressible(
    review, lead, sheet, outcomes, studies
):
    sections, removed = selectors.form_layout(form=sheet)
    assert [s.section.title for s in sections] == ["Study design", "Peer worker"]
    types = {f.field_type for s in sections for f in s.fields}
    assert {
        FieldType.TABLE,
        FieldType.DERIVED,
        FieldType.YES_NO_UNCLEAR,
        FieldType.MULTIPLE_CHOICE,
    } <= types
    assert removed == []
    assert [(o.name, o.outcome_type, o.desirable_direction) for o in outcomes] == USE_CASE_OUTCOMES
    assert all(o.timepoint_rule == Outcome.TimepointRule.LONGEST for o in outcomes)

    qol, hospitalised = outcomes[0], outcomes[10]
    indicators = {
        "Chinman 2015": ("yes", "yes", "no"),  # 2 of 3: higher
        "Johnson 2018": ("yes", "no", "unclear"),  # 1 of 3: lower
        "Sledge 2011": ("yes", "yes", "yes"),
    }
    for study in studies:
        training, supervision, integrated = indicators[study.label]
        services.extraction_save(
            form=sheet,
            study=study,
            user=lead,
            expected_version=0,
            data=services.ExtractionInput(
                answers={
                    "design": "Individually randomised",
                    "peer_role": "In addition to care as usual",
                    "peer_training": training,
                    "peer_supervision": supervision,
                    "peer_integrated": integrated,
                    "followups": [
                        {"timepoint": "6 months", "weeks": "26"},
                        {"timepoint": "18 months", "weeks": "78"},
                    ],
                },
                arms=arms(),
                outcomes=[
                    continuous(qol, "6 months", 26, "Peer support", 5.0, 1.0, 40),
                    continuous(qol, "6 months", 26, "Usual care", 4.0, 1.0, 41),
                    continuous(qol, "18 months", 78, "Peer support", 6.0, 1.5, 35),
                    # SD not reported at the longest follow-up for the control arm in one study
                    continuous(
                        qol,
                        "18 months",
                        78,
                        "Usual care",
                        4.5,
                        None if study.label == "Johnson 2018" else 1.4,
                        36,
                    ),
                    {
                        "outcome": hospitalised.pk,
                        "timepoint": "18 months",
                        "timepoint_weeks": 78,
                        "arm": "Peer support",
                        "events": 10,
                        "total": 35,
                    },
                    {
                        "outcome": hospitalised.pk,
                        "timepoint": "18 months",
                        "timepoint_weeks": 78,
                        "arm": "Usual care",
                        "events": 15,
                        "total": 36,
                    },
                ],
                complete=True,
            ),
        )
    stored = {
        e.study.label: e.answers["org_support"] for e in Extraction.objects.select_related("study")
    }
    assert stored == {"Chinman 2015": "higher", "Johnson 2018": "lower", "Sledge 2011": "higher"}

    rows = {r.study_label: r for r in selectors.analysis_rows(outcome=qol)}
    chinman = rows["Chinman 2015"]
    assert chinman.usable and chinman.timepoint == "18 months"  # the longest follow-up
    assert (chinman.intervention.mean, chinman.control.mean) == (6.0, 4.5)
    assert chinman.variables["org_support"] == "higher"
    assert rows["Johnson 2018"].missing == "no SD reported (Usual care)"
    assert rows["Johnson 2018"].variables["org_support"] == "lower"
    binary = {r.study_label: r for r in selectors.analysis_rows(outcome=hospitalised)}
    assert (
        binary["Sledge 2011"].intervention.events == 10
        and binary["Sledge 2011"].control.total == 36
    )
    empty = selectors.analysis_rows(outcome=outcomes[1])
    assert {r.missing for r in empty} == {"outcome not reported"}


def test_changing_the_rule_recomputes_every_study(review, lead, sheet, studies):
    services.extraction_save(
        form=sheet,
        study=studies[0],
        user=lead,
        expected_version=0,
        data=services.ExtractionInput(
            answers={"peer_training": "yes", "peer_supervision": "no", "peer_integrated": "no"}
        ),
    )
    assert Extraction.objects.get().answers["org_support"] == "lower"
    field = sheet.fields.get(key="org_support")
    services.field_update(
        field=field,
        data=services.FieldInput(
            label="Organisational support",
            field_type=FieldType.DERIVED,
            choices=["higher", "lower"],
            rule=ORG_SUPPORT_RULE.replace(">= 2", ">= 1"),
        ),
        user=lead,
    )
    assert Extraction.objects.get().answers["org_support"] == "higher"
