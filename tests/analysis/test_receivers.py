"""Each stage's services announce their changes (reviewapp/events.py) and analysis queues the
recomputation of exactly the analyses that read them: one test per event and write path, the
bulk outcome writes of an extraction save included. Everything goes through the real services;
only the outbox's hand-off to Celery (`apply_async`) is recorded instead of sent."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from analysis import services
from analysis.models import Analysis
from analysis.tasks import recompute_analysis_task
from extraction import services as extraction
from extraction.models import ExtractionForm
from extraction.rob import services as rob
from extraction.rob.models import RobTool
from screening import services_screening as screening
from screening.models import FullTextReport, Record, ScreeningItem, Stage, Study, Verdict
from tests.analysis.conftest import ARMS, include_study, save_continuous
from tests.extraction.conftest import ORG_SUPPORT_RULE, build_use_case_form
from tests.extraction.rob.conftest import ROB2_ANSWERS
from tests.factories import PDF, RecordFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """The analysis ids handed to Celery once the change commits."""
    sent: list[int] = []
    monkeypatch.setattr(
        recompute_analysis_task, "apply_async", lambda args, **_: sent.append(args[0])
    )
    return sent


@pytest.fixture
def settle(django_capture_on_commit_callbacks, queued):
    """An analysis created and recomputed, with nothing pending: what a change does next is
    what the test sees."""

    def make(review, outcome, lead, **settings):
        with django_capture_on_commit_callbacks(execute=True):
            analysis = services.analysis_create(
                review=review, outcome=outcome, created_by=lead, **settings
            )
        services.analysis_recompute(analysis_id=analysis.pk)
        queued.clear()
        return Analysis.objects.get(pk=analysis.pk)

    return make


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _behind(analysis):
    return Analysis.objects.get(pk=analysis.pk).change_seq > analysis.change_seq


def test_new_outcome_rows_queue_their_outcomes_analyses_only(
    review, lead, sheet, outcome, symptoms, settle, commit, queued
):
    # Included first (screening it in changes inclusion, which every analysis hears about).
    study = include_study(review, "Chinman 2015", 2015)
    mine = settle(review, outcome, lead)
    other = settle(review, symptoms, lead)
    with commit():
        save_continuous(sheet, study, lead, outcome, (10.2, 3.1, 40), (9.1, 3.3, 42))
    assert queued == [mine.pk]
    assert _behind(mine) and not _behind(other)


def test_changed_outcome_rows_queue_the_recompute(
    review, lead, sheet, outcome, settle, commit, queued
):
    study = include_study(review, "Chinman 2015", 2015)
    save_continuous(sheet, study, lead, outcome, (10.2, 3.1, 40), (9.1, 3.3, 42))
    analysis = settle(review, outcome, lead)
    with commit():  # the bulk update path: same cells, new values
        save_continuous(sheet, study, lead, outcome, (11.0, 3.1, 40), (9.1, 3.3, 42), version=1)
    assert queued == [analysis.pk] and _behind(analysis)


def test_deleted_outcome_rows_queue_the_recompute(
    review, lead, sheet, outcome, settle, commit, queued
):
    study = include_study(review, "Chinman 2015", 2015)
    save_continuous(sheet, study, lead, outcome, (10.2, 3.1, 40), (9.1, 3.3, 42))
    analysis = settle(review, outcome, lead)
    with commit():
        extraction.extraction_save(
            form=sheet, study=study, user=lead, expected_version=1,
            data=extraction.ExtractionInput(answers={}, arms=ARMS, outcomes=[], complete=True),
        )  # fmt: skip
    assert queued == [analysis.pk] and _behind(analysis)


def test_an_unchanged_save_leaves_analyses_of_outcome_data_alone(
    review, lead, sheet, outcome, settle, commit, queued
):
    study = include_study(review, "Chinman 2015", 2015)
    save_continuous(sheet, study, lead, outcome, (10.2, 3.1, 40), (9.1, 3.3, 42))
    analysis = settle(review, outcome, lead)
    with commit():
        save_continuous(sheet, study, lead, outcome, (10.2, 3.1, 40), (9.1, 3.3, 42), version=1)
    assert queued == [] and not _behind(analysis)


def test_study_level_answers_queue_the_analyses_that_group_by_them(
    review, lead, sheet, outcome, symptoms, settle, commit, queued
):
    study = include_study(review, "Chinman 2015", 2015)
    save_continuous(sheet, study, lead, outcome, (10.2, 3.1, 40), (9.1, 3.3, 42))
    grouped = settle(review, symptoms, lead, subgroup_field="org_support")
    plain = settle(review, outcome, lead)
    with commit():  # only the answer changes
        save_continuous(sheet, study, lead, outcome, (10.2, 3.1, 40), (9.1, 3.3, 42),
                        org="lower", version=1)  # fmt: skip
    assert queued == [grouped.pk]
    assert _behind(grouped) and not _behind(plain)


def test_recomputed_derived_answers_queue_the_analyses_that_group_by_them(
    review, lead, outcome, settle, commit, queued
):
    form = build_use_case_form(review, lead)
    study = include_study(review, "Chinman 2015", 2015)
    extraction.extraction_save(
        form=form, study=study, user=lead, expected_version=0,
        data=extraction.ExtractionInput(answers={
            "peer_training": "yes", "peer_supervision": "no", "peer_integrated": "no"}),
    )  # fmt: skip
    grouped = settle(review, outcome, lead, subgroup_field="org_support")
    field = form.fields.get(key="org_support")
    with commit():  # the rule changes: derived_recompute saves each record's answers
        extraction.field_update(
            field=field,
            data=extraction.FieldInput(
                label="Organisational support", field_type=field.field_type,
                choices=["higher", "lower"], rule=ORG_SUPPORT_RULE.replace(">= 2", ">= 1"),
            ),
            user=lead,
        )  # fmt: skip
    assert queued == [grouped.pk] and _behind(grouped)


def test_a_blind_independent_extraction_queues_nothing(
    review, lead, screener_a, outcome, settle, commit, queued
):
    dual = extraction.form_create(
        review=review, name="Dual", user=lead, mode=ExtractionForm.Mode.DUAL
    )
    study = include_study(review, "Chinman 2015", 2015)
    analysis = settle(review, outcome, lead)
    rows = [
        {"outcome": outcome.pk, "timepoint": "12 months", "arm": arm, "mean": 1, "sd": 1, "n": 9}
        for arm in ("Peer support", "Usual care")
    ]
    with commit():
        extraction.extraction_save(
            form=dual, study=study, user=screener_a, expected_version=0,
            data=extraction.ExtractionInput(answers={}, arms=ARMS, outcomes=rows),
        )  # fmt: skip
    assert queued == [] and not _behind(analysis)


def test_editing_an_outcome_queues_its_analyses(review, lead, outcome, settle, commit, queued):
    analysis = settle(review, outcome, lead)
    with commit():
        extraction.outcome_save(
            review=review, outcome=outcome, name=outcome.name, outcome_type="continuous",
            timepoint_rule="named", timepoint_name="12 months",
        )  # fmt: skip
    assert queued == [analysis.pk] and _behind(analysis)


def test_a_rob_judgement_queues_the_analyses_that_use_rob(
    review, lead, screener_a, outcome, symptoms, settle, commit, queued
):
    tool = rob.tool_create(review=review, user=lead, kind=RobTool.Kind.ROB2)
    study = include_study(review, "Chinman 2015", 2015)
    shown = settle(review, outcome, lead, show_rob=True)
    plain = settle(review, symptoms, lead)
    assessment = rob.assessment_open(tool=tool, study=study, outcome=outcome, user=screener_a)
    with commit():
        rob.assessment_save(assessment=assessment, user=screener_a, version=assessment.version,
                            answers=ROB2_ANSWERS, complete=True)  # fmt: skip
    assert queued == [shown.pk]
    assert _behind(shown) and not _behind(plain)


def test_a_blind_independent_rob_assessment_queues_nothing(
    review, lead, screener_a, outcome, settle, commit, queued
):
    tool = rob.tool_create(review=review, user=lead, kind=RobTool.Kind.ROB2, mode="dual")
    study = include_study(review, "Chinman 2015", 2015)
    shown = settle(review, outcome, lead, show_rob=True)
    assessment = rob.assessment_open(tool=tool, study=study, outcome=outcome, user=screener_a)
    with commit():
        rob.assessment_save(assessment=assessment, user=screener_a, version=assessment.version,
                            answers=ROB2_ANSWERS, complete=True)  # fmt: skip
    assert queued == [] and not _behind(shown)


def _full_text_candidate(review, study):
    """A report linked to `study`, through title/abstract and waiting for full-text votes."""
    record = RecordFactory(review=review, title="A randomised trial", year=2019)
    Record.objects.filter(pk=record.pk).update(study=study)
    ScreeningItem.objects.create(
        review=review, record=record, stage=Stage.TITLE_ABSTRACT,
        status=ScreeningItem.Status.DECIDED, votes=2, final_verdict=Verdict.INCLUDE,
    )  # fmt: skip
    # Full-text votes need the report's PDF by default (StageSettings.votes_need_pdf).
    FullTextReport.objects.create(
        review=review,
        record=record,
        pdf=SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf"),
    )
    return Record.objects.get(pk=record.pk)


def test_a_full_text_inclusion_queues_every_analysis_of_the_review(
    review, lead, screener_a, screener_b, outcome, symptoms, settle, commit, queued
):
    study = Study.objects.create(review=review, label="Simpson 2019")
    record = _full_text_candidate(review, study)
    analyses = [settle(review, outcome, lead), settle(review, symptoms, lead)]
    screening.decision_record(record=record, stage=Stage.FULL_TEXT, reviewer=screener_a,
                              verdict=Verdict.INCLUDE)  # fmt: skip
    assert queued == []  # one vote of two: nothing is decided yet
    with commit():
        screening.decision_record(record=record, stage=Stage.FULL_TEXT, reviewer=screener_b,
                                  verdict=Verdict.INCLUDE)  # fmt: skip
    assert sorted(queued) == sorted(a.pk for a in analyses)
    assert all(_behind(a) for a in analyses)


def test_resolving_a_full_text_conflict_to_include_queues_the_analyses(
    review, lead, screener_a, screener_b, arbiter, outcome, settle, commit, queued
):
    study = Study.objects.create(review=review, label="Simpson 2019")
    record = _full_text_candidate(review, study)
    screening.decision_record(record=record, stage=Stage.FULL_TEXT, reviewer=screener_a,
                              verdict=Verdict.INCLUDE)  # fmt: skip
    screening.decision_record(record=record, stage=Stage.FULL_TEXT, reviewer=screener_b,
                              verdict=Verdict.EXCLUDE, reason="Wrong population")  # fmt: skip
    analysis = settle(review, outcome, lead)
    item = ScreeningItem.objects.get(record=record, stage=Stage.FULL_TEXT)
    assert item.status == ScreeningItem.Status.CONFLICT
    with commit():
        screening.conflict_resolve(item=item, arbiter=arbiter, verdict=Verdict.INCLUDE)
    assert queued == [analysis.pk] and _behind(analysis)


def test_linking_a_report_to_a_study_queues_the_analyses(
    review, lead, outcome, settle, commit, queued
):
    include_study(review, "Chinman 2015", 2015)
    analysis = settle(review, outcome, lead)
    record = RecordFactory(review=review, title="A second report of the trial", year=2014)
    with commit():
        screening.study_link_report(record=record, new_label="Chinman 2015")
    assert queued == [analysis.pk] and _behind(analysis)
