import pytest

from extraction import services
from extraction.models import ExtractionForm, FieldType, Outcome
from tests.factories import include_study

# The review in docs/use-case.md (White et al. 2020): eleven outcomes and their directions.
USE_CASE_OUTCOMES = [
    ("Quality of life", "continuous", "higher"),
    ("Social network support", "continuous", "higher"),
    ("Empowerment", "continuous", "higher"),
    ("Recovery", "continuous", "higher"),
    ("Service satisfaction", "continuous", "higher"),
    ("Working alliance (client-rated)", "continuous", "higher"),
    ("Working alliance (staff-rated)", "continuous", "higher"),
    ("General psychiatric symptoms", "continuous", "lower"),
    ("Depression and anxiety", "continuous", "lower"),
    ("Days in hospital", "continuous", "lower"),
    ("Hospitalised during follow-up", "dichotomous", "lower"),
]

ORG_SUPPORT_RULE = (
    'if count_yes(peer_training, peer_supervision, peer_integrated) >= 2 then "higher" else "lower"'
)


def F(label, field_type, **kwargs):
    return services.FieldInput(label=label, field_type=field_type, **kwargs)


def build_use_case_form(review, user, mode=ExtractionForm.Mode.SINGLE, name="Extraction sheet"):
    """The review's bespoke extraction sheet, built through the services the builder page uses."""
    form = services.form_create(review=review, name=name, user=user, mode=mode)
    design = services.section_add(form=form, title="Study design", user=user)
    services.field_add(
        section=design,
        data=F(
            "Design",
            FieldType.SINGLE_CHOICE,
            key="design",
            required=True,
            choices=["Individually randomised", "Cluster randomised"],
        ),
        user=user,
    )
    services.field_add(
        section=design,
        data=F(
            "Setting",
            FieldType.MULTIPLE_CHOICE,
            key="setting",
            choices=[
                "Inpatient",
                "Outpatient",
                "Community services",
                "Recruitment at discharge",
                "Crisis teams",
                "Court-ordered treatment",
            ],
        ),
        user=user,
    )
    services.field_add(
        section=design,
        data=F(
            "Participants randomised",
            FieldType.INTEGER,
            key="n_randomised",
            min_value=2,
            unit="people",
        ),
        user=user,
    )
    services.field_add(
        section=design,
        data=F("Start of recruitment", FieldType.DATE, key="recruitment_start"),
        user=user,
    )
    services.field_add(
        section=design,
        data=F(
            "Follow-up points",
            FieldType.TABLE,
            key="followups",
            columns="timepoint | Timepoint | short_text | | required\nweeks | Weeks | decimal",
        ),
        user=user,
    )
    peer = services.section_add(form=form, title="Peer worker", user=user)
    services.field_add(
        section=peer,
        data=F(
            "Role of the peer worker",
            FieldType.SINGLE_CHOICE,
            key="peer_role",
            choices=["Substitute for another worker", "In addition to care as usual"],
        ),
        user=user,
    )
    for key, label in (
        ("peer_training", "Training provided"),
        ("peer_supervision", "Supervision provided"),
        ("peer_integrated", "Peer workers integrated in the service"),
    ):
        services.field_add(
            section=peer, data=F(label, FieldType.YES_NO_UNCLEAR, key=key), user=user
        )
    services.field_add(
        section=peer,
        data=F(
            "Organisational support",
            FieldType.DERIVED,
            key="org_support",
            choices=["higher", "lower"],
            rule=ORG_SUPPORT_RULE,
        ),
        user=user,
    )
    services.field_add(
        section=peer,
        data=F("Description of the training", FieldType.LONG_TEXT, key="training_notes"),
        user=user,
    )
    services.field_add(
        section=peer,
        data=F(
            "Hours of training",
            FieldType.DECIMAL,
            key="training_hours",
            min_value=0,
            max_value=1000,
            unit="hours",
        ),
        user=user,
    )
    return form


@pytest.fixture
def outcomes(review):
    return [
        services.outcome_save(
            review=review, name=name, outcome_type=kind, desirable_direction=direction
        )
        for name, kind, direction in USE_CASE_OUTCOMES
    ]


@pytest.fixture
def studies(review):
    """The three trials, included by screening their reports."""
    return [
        include_study(review, label) for label in ("Chinman 2015", "Johnson 2018", "Sledge 2011")
    ]


@pytest.fixture
def sheet(review, lead):
    return build_use_case_form(review, lead)


@pytest.fixture
def dual_sheet(review, lead):
    return build_use_case_form(review, lead, mode=ExtractionForm.Mode.DUAL, name="Dual sheet")


def arms():
    return [
        {"label": "Peer support", "role": "intervention"},
        {"label": "Usual care", "role": "control"},
    ]


def continuous(outcome, timepoint, weeks, arm, mean, sd, n, **extra):
    return {
        "outcome": outcome.pk,
        "timepoint": timepoint,
        "timepoint_weeks": weeks,
        "arm": arm,
        "mean": mean,
        "sd": sd,
        "n": n,
        **extra,
    }


__all__ = ["Outcome"]
