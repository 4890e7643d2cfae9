"""Analysis fixtures: included studies and consensus data written through extraction's own
services, so analyses read them through the real `extraction.selectors.analysis_rows`."""

import pytest

from extraction import services as extraction
from extraction.models import ExtractionForm, FieldType
from reviewapp.celery import app as celery_app
from screening.models import Study
from tests import factories
from tests.factories import RecordFactory


@pytest.fixture
def eager():
    """Run queued tasks in-process (the worker tests in tests/integration use a real one)."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


def include_study(review, label: str, year: int) -> Study:
    """A study included by screening its report (tests.factories.include_study)."""
    record = RecordFactory(review=review, title=f"{label}: a randomised trial", year=year)
    return factories.include_study(review, label, record=record)


@pytest.fixture
def outcome(review):
    return extraction.outcome_save(
        review=review, name="Social network support", outcome_type="continuous"
    )


@pytest.fixture
def symptoms(review):
    return extraction.outcome_save(
        review=review, name="General psychiatric symptoms", outcome_type="continuous",
        desirable_direction="lower",
    )  # fmt: skip


@pytest.fixture
def hospitalised(review):
    return extraction.outcome_save(
        review=review, name="Hospitalised during follow-up", outcome_type="dichotomous",
        desirable_direction="lower",
    )  # fmt: skip


@pytest.fixture
def sheet(review, lead):
    form = extraction.form_create(
        review=review, name="Sheet", user=lead, mode=ExtractionForm.Mode.SINGLE
    )
    section = extraction.section_add(form=form, title="Peer worker", user=lead)
    extraction.field_add(
        section=section,
        data=extraction.FieldInput(
            label="Organisational support",
            field_type=FieldType.SINGLE_CHOICE,
            key="org_support",
            choices=["higher", "lower"],
        ),
        user=lead,
    )
    return form


ARMS = [
    {"label": "Peer support", "role": "intervention"},
    {"label": "Usual care", "role": "control"},
]


def save_continuous(sheet, study, user, outcome, i, c, *, org="higher", version=0):
    """i and c: (mean, sd, n) of the intervention and control arms at 12 months."""
    rows = [
        {"outcome": outcome.pk, "timepoint": "12 months", "timepoint_weeks": 52, "arm": arm,
         "mean": m, "sd": sd, "n": n}
        for arm, (m, sd, n) in (("Peer support", i), ("Usual care", c))
    ]  # fmt: skip
    return extraction.extraction_save(
        form=sheet, study=study, user=user, expected_version=version,
        data=extraction.ExtractionInput(answers={"org_support": org}, arms=ARMS, outcomes=rows,
                                        complete=True),
    )  # fmt: skip


def save_events(sheet, study, user, outcome, i, c, *, version=0):
    rows = [
        {"outcome": outcome.pk, "timepoint": "12 months", "timepoint_weeks": 52, "arm": arm,
         "events": e, "total": t}
        for arm, (e, t) in (("Peer support", i), ("Usual care", c))
    ]  # fmt: skip
    return extraction.extraction_save(
        form=sheet, study=study, user=user, expected_version=version,
        data=extraction.ExtractionInput(answers={}, arms=ARMS, outcomes=rows, complete=True),
    )  # fmt: skip
