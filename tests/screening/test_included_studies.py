"""One definition of 'included study': a kept report included at title/abstract and at full
text makes its study included; a report not linked to another study is a study of its own, and
it reaches PRISMA, the dashboard, extraction, risk of bias and the analysis inputs alike."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from analysis import services as analysis_services
from analysis.inputs import load_inputs, review_progress
from extraction import selectors as extraction_selectors
from extraction import services as extraction_services
from extraction.rob import selectors as rob_selectors
from extraction.rob import services as rob_services
from reviewapp.errors import DomainError
from screening import selectors
from screening import services_screening as screening
from screening.models import Record, Stage, Study
from tests.factories import RecordFactory, include_study

pytestmark = pytest.mark.django_db


def counts_everywhere(review, lead):
    form = extraction_services.form_create(review=review, name="Sheet", user=lead)
    outcome = extraction_services.outcome_save(
        review=review, name="Relapse", outcome_type="dichotomous", desirable_direction="lower"
    )
    tool = rob_services.tool_create(review=review, user=lead, kind="rob1")
    analysis = analysis_services.analysis_create(review=review, outcome=outcome, created_by=lead)
    inputs = load_inputs(analysis)
    return {
        "prisma": selectors.prisma_counts(review=review).studies_included,
        "dashboard": review_progress(review, lead)["extraction"]["included studies"],
        "extraction": len(extraction_selectors.extraction_overview(form=form, user=lead)),
        "risk of bias": len(rob_selectors.assessment_grid(tool=tool, user=lead)),
        "analysis inputs": len(inputs.rows) + len(inputs.missing),
    }


def test_an_included_report_without_a_study_link_reaches_extraction_and_risk_of_bias(
    review, lead, screener_a, screener_b
):
    record = RecordFactory(review=review, authors=["Chinman, M", "Oberman, R"], year=2015)
    for stage in (Stage.TITLE_ABSTRACT, Stage.FULL_TEXT):
        if stage == Stage.FULL_TEXT:  # full-text votes need the report's PDF (the default)
            pdf = SimpleUploadedFile("chinman.pdf", b"%PDF-1.4\n%%EOF\n")
            screening.fulltext_attach(record=record, pdf=pdf, user=screener_a)
        for user in (screener_a, screener_b):
            screening.decision_record(record=record, stage=stage, reviewer=user, verdict="include")
    record.refresh_from_db()
    assert record.study is not None and record.study.label == "Chinman 2015"
    assert counts_everywhere(review, lead) == dict.fromkeys(
        ["prisma", "dashboard", "extraction", "risk of bias", "analysis inputs"], 1
    )


def test_a_study_counts_once_however_many_reports_it_has(review, lead):
    study = include_study(review, "Chinman 2015")
    include_study(review, "Chinman 2015")  # a second report of the same trial
    include_study(review)  # a report of its own
    assert Record.objects.filter(study=study).count() == 2
    assert counts_everywhere(review, lead) == dict.fromkeys(
        ["prisma", "dashboard", "extraction", "risk of bias", "analysis inputs"], 2
    )
    assert selectors.prisma_counts(review=review).reports_of_included_studies == 3


def test_a_study_of_its_own_takes_a_free_label(review):
    first = include_study(review, record=RecordFactory(review=review, authors=["Smith, J"]))
    second = include_study(review, record=RecordFactory(review=review, authors=["Smith, J"]))
    assert first.label == "Smith 2019"
    assert second.label.startswith("Smith 2019 (record ")


def test_linking_the_report_to_another_study_drops_its_empty_study_of_its_own(review):
    own = include_study(review)
    record = own.reports.get()
    screening.study_link_report(record=record, new_label="Chinman 2015")
    assert not Study.objects.filter(pk=own.pk).exists()
    assert [s.label for s in selectors.included_studies(review=review)] == ["Chinman 2015"]


def test_unlinking_an_included_report_makes_it_a_study_of_its_own(review):
    study = include_study(review, "Chinman 2015")
    include_study(review, "Chinman 2015")
    record = study.reports.order_by("pk").first()
    screening.study_unlink_report(record=record)
    record.refresh_from_db()
    assert record.study is not None and record.study != study
    assert selectors.included_studies(review=review).count() == 2


def test_a_study_holding_extraction_work_is_not_emptied_by_a_relink(review, lead):
    study = include_study(review, "Chinman 2015")
    form = extraction_services.form_create(review=review, name="Sheet", user=lead)
    extraction_services.extraction_save(
        form=form, study=study, user=lead, expected_version=0,
        data=extraction_services.ExtractionInput(answers={}),
    )  # fmt: skip
    with pytest.raises(DomainError, match="holds extraction or risk-of-bias work"):
        screening.study_link_report(record=study.reports.get(), new_label="Other 2016")
