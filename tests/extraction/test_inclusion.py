"""Extraction reads screening's decision: only studies with a report included at full text
(the real `screening.selectors.included_studies`: no test patches it)."""

import pytest

from extraction import selectors, services
from reviewapp.errors import DomainError
from screening import services_screening as screening
from screening.models import Study, Verdict
from tests.factories import RecordFactory

pytestmark = pytest.mark.django_db


def _study(review, label, verdict, screener_a, screener_b):
    """A report screened by two reviewers, included at title/abstract, then `verdict` at full
    text, linked to the study `label`."""
    record = RecordFactory(review=review, title=f"{label}: a randomised trial")
    for user in (screener_a, screener_b):
        screening.decision_record(record=record, stage="ta", reviewer=user, verdict="include")
    screening.study_link_report(record=record, new_label=label)
    for user in (screener_a, screener_b):
        screening.decision_record(
            record=record, stage="ft", reviewer=user, verdict=verdict,
            reason="Not an RCT" if verdict == Verdict.EXCLUDE else "",
        )  # fmt: skip
    return Study.objects.get(review=review, label=label)


def test_only_studies_included_at_full_text_reach_extraction(
    client_for, review, lead, sheet, outcomes, screener_a, screener_b
):
    screening.stage_settings_update(
        review=review, stage="ft", reviewers_required=2, blind=True,
        exclusion_reasons=["Not an RCT"], votes_need_pdf=False,
    )  # fmt: skip
    included = _study(review, "Chinman 2015", Verdict.INCLUDE, screener_a, screener_b)
    excluded = _study(review, "Smith 2010", Verdict.EXCLUDE, screener_a, screener_b)
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
