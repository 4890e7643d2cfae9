"""Extraction reads screening's decision: only studies with a report included at full text
(the real `screening.selectors.included_studies`, not patched here)."""

import pytest

from extraction import selectors, services
from reviewapp.errors import DomainError
from screening.models import Record, ScreeningItem, Stage, Study, Verdict
from tests.factories import RecordFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _every_study_included():
    """Overrides the package-wide patch: this module uses screening's real decision."""


def _study(review, label, verdict):
    study = Study.objects.create(review=review, label=label)
    record = RecordFactory(review=review, title=f"{label}: a randomised trial")
    Record.objects.filter(pk=record.pk).update(study=study)
    ScreeningItem.objects.create(
        review=review, record=record, stage=Stage.FULL_TEXT,
        status=ScreeningItem.Status.DECIDED, votes=2, final_verdict=verdict,
    )  # fmt: skip
    return study


def test_only_studies_included_at_full_text_reach_extraction(
    client_for, review, lead, sheet, outcomes
):
    included = _study(review, "Chinman 2015", Verdict.INCLUDE)
    excluded = _study(review, "Smith 2010", Verdict.EXCLUDE)
    services.extraction_save(
        form=sheet, study=included, user=lead, expected_version=0,
        data=services.ExtractionInput(answers={"design": "Cluster randomised"}),
    )  # fmt: skip
    with pytest.raises(DomainError, match="not among the studies included"):
        services.extraction_save(
            form=sheet, study=excluded, user=lead, expected_version=0,
            data=services.ExtractionInput(answers={}),
        )  # fmt: skip
    client = client_for(lead)
    base = f"/reviews/{review.pk}/extraction/forms/{sheet.pk}/studies/"
    assert client.get(f"{base}{included.pk}/").status_code == 200
    assert client.get(f"{base}{excluded.pk}/").status_code == 404
    rows = selectors.analysis_rows(outcome=outcomes[0])
    assert [(r.study_label, r.missing) for r in rows] == [("Chinman 2015", "outcome not reported")]
