import math

import pytest

from analysis import stats
from extraction import selectors, services
from extraction.models import Extraction, FieldType, FormField, OutcomeData
from reviewapp.errors import DomainError
from tests.extraction.conftest import F, arms, build_use_case_form, continuous

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


def test_it_rejects_impossible_numbers_with_field_level_messages_and_saves_nothing(
    sheet, outcomes, studies, lead
):
    qol, hospitalised = outcomes[0], outcomes[10]
    with pytest.raises(services.ValidationFailed) as caught:
        save(
            sheet,
            studies[0],
            lead,
            answers={
                "design": "Individually randomised",
                "recruitment_start": "2019-02-30",
                "n_randomised": "1",
            },
            arms=arms(),
            outcomes=[
                continuous(qol, "12 months", 52, "Peer support", 5, 0, 40),
                continuous(qol, "12 months", 52, "Usual care", 5, 1.2, 1),
                {
                    "outcome": hospitalised.pk,
                    "timepoint": "12 months",
                    "arm": "Peer support",
                    "events": 12,
                    "total": 10,
                },
            ],
        )
    errors = caught.value.errors
    assert "not a real date" in errors["recruitment_start"][0]
    assert "below the minimum 2" in errors["n_randomised"][0]
    assert errors["outcomes.0.sd"] == [
        "Quality of life, 12 months, Peer support: SD must be greater than 0 (got 0)."
    ]
    assert "n must be at least 2" in errors["outcomes.1.n"][0]
    assert "12 events exceed the total of 10" in errors["outcomes.2.events"][0]
    assert not Extraction.objects.exists() and not OutcomeData.objects.exists()


def test_a_generic_estimate_must_lie_inside_its_ci(review, lead, sheet, studies):
    hr = services.outcome_save(
        review=review,
        name="Time to readmission",
        outcome_type="generic",
        effect_measure="HR",
        desirable_direction="higher",
    )
    with pytest.raises(services.ValidationFailed) as caught:
        save(
            sheet,
            studies[0],
            lead,
            outcomes=[
                {
                    "outcome": hr.pk,
                    "timepoint": "1 year",
                    "estimate": 2.5,
                    "ci_lower": 0.8,
                    "ci_upper": 1.9,
                }
            ],
        )
    assert "does not contain the estimate 2.5" in caught.value.errors["outcomes.0.estimate"][0]


def test_a_failed_save_leaves_the_stored_record_as_it_was(sheet, outcomes, studies, lead):
    qol = outcomes[0]
    first = save(
        sheet,
        studies[0],
        lead,
        answers={"design": "Cluster randomised"},
        arms=arms(),
        outcomes=[continuous(qol, "6 months", 26, "Peer support", 5, 1, 30)],
    )
    with pytest.raises(services.ValidationFailed):
        save(
            sheet,
            studies[0],
            lead,
            version=1,
            answers={"design": "Individually randomised"},
            arms=arms(),
            outcomes=[continuous(qol, "6 months", 26, "Peer support", 5, -1, 30)],
        )
    first.refresh_from_db()
    assert first.version == 1 and first.answers["design"] == "Cluster randomised"
    assert OutcomeData.objects.get().sd == 1


@pytest.mark.parametrize(
    ("method", "inputs", "expected"),
    [
        ("sd_from_se", {"se_mean": 0.5}, lambda n: stats.sd_from_se([0.5], [n])[0]),
        (
            "sd_from_ci",
            {"ci_mean_lower": 4.0, "ci_mean_upper": 6.0},
            lambda n: stats.sd_from_ci([4.0], [6.0], [n])[0],
        ),
        (
            "sd_from_t",
            {"md": 1.2, "t": 2.1, "n_other": 38},
            lambda n: stats.sd_from_t([1.2], [2.1], [n], [38])[0],
        ),
        (
            "sd_from_p",
            {"md": 1.2, "p": 0.04, "n_other": 38},
            lambda n: stats.sd_from_p([1.2], [0.04], [n], [38])[0],
        ),
    ],
)
def test_conversions_use_the_stats_engine_and_are_recorded(
    sheet, outcomes, studies, lead, method, inputs, expected
):
    row = continuous(
        outcomes[0],
        "12 months",
        52,
        "Peer support",
        5.0,
        None,
        40,
        conversion={"method": method, "inputs": inputs},
    )
    save(sheet, studies[0], lead, arms=arms(), outcomes=[row])
    stored = OutcomeData.objects.get()
    assert math.isclose(stored.sd, float(expected(40)), rel_tol=1e-12)
    assert stored.conversion == method and stored.conversion_inputs == inputs


def test_median_and_iqr_become_mean_and_sd_by_wan_2014(sheet, outcomes, studies, lead):
    row = {
        "outcome": outcomes[9].pk,
        "timepoint": "18 months",
        "timepoint_weeks": 78,
        "arm": "Usual care",
        "n": 50,
        "conversion": {
            "method": "mean_sd_from_median_iqr",
            "inputs": {"median": 12, "q1": 4, "q3": 30},
        },
    }
    save(sheet, studies[0], lead, arms=arms(), outcomes=[row])
    mean, sd = stats.mean_sd_from_median_iqr([4], [12], [30], [50])
    stored = OutcomeData.objects.get()
    assert (stored.mean, stored.sd) == (float(mean[0]), float(sd[0]))
    assert (
        selectors.analysis_rows(outcome=outcomes[9])[0].missing == "no intervention arm with data"
    )


def test_a_conversion_that_cannot_run_says_why(sheet, outcomes, studies, lead):
    row = continuous(
        outcomes[0],
        "12 months",
        52,
        "Peer support",
        None,
        None,
        40,
        conversion={
            "method": "mean_sd_from_median_range",
            "inputs": {"median": 5, "minimum": 7, "maximum": 9},
        },
    )
    with pytest.raises(services.ValidationFailed) as caught:
        save(sheet, studies[0], lead, arms=arms(), outcomes=[row])
    assert "minimum <= median <= maximum" in caught.value.errors["outcomes.0.conversion"][0]


def test_the_second_saver_gets_a_conflict_with_both_versions(sheet, studies, lead, screener_a):
    save(sheet, studies[0], lead, answers={"design": "Cluster randomised"})
    save(sheet, studies[0], screener_a, version=1, answers={"design": "Individually randomised"})
    with pytest.raises(services.ConflictError) as caught:
        save(
            sheet,
            studies[0],
            lead,
            version=1,
            answers={"design": "Cluster randomised", "peer_training": "yes"},
        )
    conflict = caught.value
    assert (
        conflict.current.version == 2
        and conflict.current.answers["design"] == "Individually randomised"
    )
    assert conflict.yours["answers"]["peer_training"] == "yes"
    assert "screener_a saved this record" in conflict.message
    assert Extraction.objects.get().answers["design"] == "Individually randomised"


def test_two_people_creating_the_same_record_conflict(sheet, studies, lead, screener_a):
    save(sheet, studies[0], lead, answers={"design": "Cluster randomised"})
    with pytest.raises(services.ConflictError):
        save(
            sheet, studies[0], screener_a, version=0, answers={"design": "Individually randomised"}
        )


def test_required_fields_are_enforced_when_marking_complete(sheet, studies, lead):
    save(sheet, studies[0], lead, answers={})
    with pytest.raises(services.ValidationFailed) as caught:
        save(sheet, studies[0], lead, version=1, answers={}, complete=True)
    assert "Design is required" in caught.value.errors["design"][0]


def test_every_change_is_in_history(sheet, studies, lead, screener_a, outcomes):
    save(
        sheet,
        studies[0],
        lead,
        answers={"design": "Cluster randomised"},
        arms=arms(),
        outcomes=[continuous(outcomes[0], "6 months", 26, "Peer support", 5, 1, 30)],
    )
    save(
        sheet,
        studies[0],
        screener_a,
        version=1,
        answers={"design": "Individually randomised"},
        arms=arms(),
        outcomes=[continuous(outcomes[0], "6 months", 26, "Peer support", 5, 1.5, 30)],
    )
    record = Extraction.objects.get()
    entries = selectors.extraction_history(records=[record])
    answer_changes = [c for e in entries for c in e.changes if c[0] == "Design"]
    assert ("Design", "Cluster randomised", "Individually randomised") in answer_changes
    assert any(
        "Outcome data changed" in c[0] and "sd=1.5" in c[2] for e in entries for c in e.changes
    )
    assert {e.who for e in entries} == {"lead", "screener_a"}


def test_removing_a_field_keeps_its_answers_readable(sheet, studies, lead):
    save(
        sheet,
        studies[0],
        lead,
        answers={"training_notes": "Two-day course", "design": "Cluster randomised"},
    )
    field = sheet.fields.get(key="training_notes")
    sheet.refresh_from_db()
    version = sheet.version
    services.field_remove(field=field, user=lead)
    sheet.refresh_from_db()
    assert sheet.version == version + 1
    _, removed = selectors.form_layout(form=sheet)
    assert [f.key for f in removed] == ["training_notes"]
    record = save(sheet, studies[0], lead, version=1, answers={"design": "Individually randomised"})
    assert record.answers["training_notes"] == "Two-day course"
    assert sheet.versions.count() == sheet.version
    with pytest.raises(DomainError, match="is taken"):
        services.field_add(
            section=field.section,
            data=F("Notes again", FieldType.SHORT_TEXT, key="training_notes"),
            user=lead,
        )


def test_a_field_used_by_a_rule_cannot_be_removed(sheet, lead):
    with pytest.raises(DomainError, match="used by the rule of: Organisational support"):
        services.field_remove(field=sheet.fields.get(key="peer_training"), user=lead)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ('if count_yes(nope) >= 2 then "higher" else "lower"', "no field 'nope'"),
        (
            'if count_yes(peer_training) >= 1 then "high" else "lower"',
            "'high', not among the categories",
        ),
        ("org_support2 + 1", "cannot use itself"),
        ("followups", "is a table"),
        ("if peer_training then", "Unexpected .the end of the rule."),
    ],
)
def test_the_builder_rejects_bad_rules(sheet, lead, rule, message):
    section = sheet.sections.first()
    with pytest.raises(DomainError, match=message):
        services.field_add(
            section=section,
            data=F(
                "Support 2",
                FieldType.DERIVED,
                key="org_support2",
                choices=["higher", "lower"],
                rule=rule,
            ),
            user=lead,
        )


def test_a_form_exports_and_imports_as_json(review, lead, sheet):
    schema = selectors.form_schema(form=sheet)
    copy = services.form_import(review=review, data=schema, user=lead, name="Copy")
    copied = selectors.form_schema(form=copy)
    assert copied["sections"] == schema["sections"]
    assert copy.fields.get(key="org_support").rule == sheet.fields.get(key="org_support").rule


def test_a_broken_import_leaves_nothing_behind(review, lead, sheet):
    schema = selectors.form_schema(form=sheet)
    schema["sections"][1]["fields"][-1]["type"] = "nonsense"
    with pytest.raises(DomainError, match="not a field type"):
        services.form_import(review=review, data=schema, user=lead, name="Broken")
    assert not review.extraction_forms.filter(name="Broken").exists()


def test_fields_can_be_reordered(sheet, lead):
    section = sheet.sections.get(title="Peer worker")
    keys = lambda: list(section.fields.values_list("key", flat=True))  # noqa: E731 -- a one-line alias reads better than a nested def
    before = keys()
    services.field_move(field=section.fields.get(key="peer_supervision"), direction="up", user=lead)
    after = keys()
    assert after.index("peer_supervision") == before.index("peer_supervision") - 1
    with pytest.raises(DomainError, match="already first"):
        services.field_move(field=section.fields.get(key=after[0]), direction="up", user=lead)


def test_mode_cannot_change_after_extraction_started(sheet, studies, lead):
    save(sheet, studies[0], lead, answers={})
    with pytest.raises(DomainError, match="can no longer change"):
        services.form_update(form=sheet, user=lead, mode="dual")


# --- dual extraction -----------------------------------------------------------------------


def test_dual_extraction_is_blind_and_only_consensus_feeds_analyses(
    review, lead, dual_sheet, studies, screener_a, screener_b, outcomes
):
    from reviewapp.models import Membership

    qol = outcomes[0]
    study = studies[0]
    a = save(
        dual_sheet,
        study,
        screener_a,
        answers={"design": "Cluster randomised", "peer_training": "yes"},
        arms=arms(),
        outcomes=[
            continuous(qol, "12 months", 52, "Peer support", 5, 1, 30),
            continuous(qol, "12 months", 52, "Usual care", 4, 1, 30),
        ],
        complete=True,
    )
    member_a = Membership.objects.get(review=review, user=screener_a)
    with pytest.raises(DomainError, match="1 of 2 extractions"):
        services.consensus_allowed(form=dual_sheet, study=study, membership=member_a)
    b = save(
        dual_sheet,
        study,
        screener_b,
        answers={"design": "Individually randomised", "peer_training": "yes"},
        arms=arms(),
        outcomes=[
            continuous(qol, "12 months", 52, "Peer support", 5, 1.1, 30),
            continuous(qol, "12 months", 52, "Usual care", 4, 1, 30),
        ],
    )
    assert a.pk != b.pk and b.kind == Extraction.Kind.INDEPENDENT
    # B has not marked complete: A may not look yet; the lead may.
    with pytest.raises(DomainError, match="blind"):
        services.consensus_allowed(form=dual_sheet, study=study, membership=member_a)
    assert selectors.analysis_rows(outcome=qol)[0].missing == "consensus not built yet"

    comparison = selectors.extraction_comparison(form=dual_sheet, study=study)
    differing = [i.field.key for i in comparison.items if not i.agree]
    assert differing == ["design"]
    assert [r.differing for r in comparison.rows if not r.agree] == [["sd"]]
    assert comparison.differences == 2

    lead_member = Membership.objects.get(review=review, user=lead)
    with pytest.raises(services.ValidationFailed) as caught:
        services.consensus_build(
            form=dual_sheet,
            study=study,
            user=lead,
            membership=lead_member,
            choices={},
            expected_version=0,
        )
    assert set(caught.value.errors) == {"design", comparison.rows[0].key}
    assert not Extraction.objects.filter(kind=Extraction.Kind.CONSENSUS).exists()

    row_key = next(r.key for r in comparison.rows if not r.agree)
    final = services.consensus_build(
        form=dual_sheet,
        study=study,
        user=lead,
        membership=lead_member,
        choices={"design": "second", row_key: "first"},
        expected_version=0,
    )
    assert final.kind == Extraction.Kind.CONSENSUS
    assert final.answers["design"] == "Individually randomised"
    assert final.answers["org_support"] == "lower"  # derived again from the consensus answers
    row = selectors.analysis_rows(outcome=qol)[0]
    assert row.usable and row.intervention.sd == 1.0

    # The consensus record obeys the same optimistic concurrency.
    with pytest.raises(services.ConflictError):
        services.consensus_build(
            form=dual_sheet,
            study=study,
            user=lead,
            membership=lead_member,
            choices={"design": "first", row_key: "first"},
            expected_version=0,
        )


def test_the_named_timepoint_rule_picks_that_timepoint(review, lead, sheet, studies, outcomes):
    qol = services.outcome_save(
        review=review,
        name="Quality of life",
        outcome_type="continuous",
        timepoint_rule="named",
        timepoint_name="6 months",
        outcome=outcomes[0],
    )
    save(
        sheet,
        studies[0],
        lead,
        arms=arms(),
        outcomes=[
            continuous(qol, "6 months", 26, "Peer support", 5, 1, 30),
            continuous(qol, "6 Months", 26, "Usual care", 4, 1, 30),
            continuous(qol, "18 months", 78, "Peer support", 7, 1, 30),
            continuous(qol, "18 months", 78, "Usual care", 4, 1, 30),
        ],
    )
    row = selectors.analysis_rows(outcome=qol)[0]
    assert row.timepoint.lower() == "6 months" and row.intervention.mean == 5


def test_longest_follow_up_needs_weeks_when_several_timepoints(sheet, studies, lead, outcomes):
    qol = outcomes[0]
    save(
        sheet,
        studies[0],
        lead,
        arms=arms(),
        outcomes=[
            continuous(qol, "6 months", None, "Peer support", 5, 1, 30),
            continuous(qol, "end of treatment", None, "Peer support", 6, 1, 30),
        ],
    )
    assert "give the follow-up in weeks" in selectors.analysis_rows(outcome=qol)[0].missing


def test_outcome_type_is_fixed_once_data_exist(review, sheet, studies, lead, outcomes):
    save(
        sheet,
        studies[0],
        lead,
        arms=arms(),
        outcomes=[continuous(outcomes[0], "6 months", 26, "Peer support", 5, 1, 30)],
    )
    with pytest.raises(DomainError, match="can no longer change"):
        services.outcome_save(
            review=review, outcome=outcomes[0], name="Quality of life", outcome_type="dichotomous"
        )


def test_a_study_not_included_cannot_be_extracted(review, lead):
    from screening.models import Study

    form = build_use_case_form(review, lead, name="Other")
    not_screened = Study.objects.create(review=review, label="Named but never included")
    with pytest.raises(DomainError, match="not among the studies included"):
        save(form, not_screened, lead)


def test_unknown_fields_are_refused(sheet, studies, lead):
    with pytest.raises(services.ValidationFailed) as caught:
        save(sheet, studies[0], lead, answers={"nonsense": 1})
    assert "not a field of this form" in caught.value.errors["nonsense"][0]
    assert FormField.objects.filter(key="nonsense").count() == 0


def test_progress_counts_each_form_and_study(
    review, lead, sheet, dual_sheet, studies, screener_a, screener_b
):
    save(sheet, studies[0], lead, answers={"design": "Cluster randomised"}, complete=True)
    save(sheet, studies[1], lead, answers={})
    for user in (screener_a, screener_b):
        save(dual_sheet, studies[0], user, answers={})
    save(dual_sheet, studies[1], screener_a, answers={})
    assert selectors.extraction_progress(review=review) == {
        "included studies": 3,
        "complete": 1,
        "in progress": 2,
        "awaiting consensus": 1,
        "not started": 2,
    }
