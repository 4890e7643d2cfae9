import pytest
from django.db import OperationalError

from analysis import services, stats
from analysis.inputs import AnalysisInputs, StudyRow, load_inputs
from analysis.models import Analysis, AnalysisResult, GradeRating
from analysis.tasks import recompute_analysis_task
from reviewapp.celery import app as celery_app
from reviewapp.errors import DomainError
from tests.analysis.conftest import include_study, save_continuous, save_events

pytestmark = pytest.mark.django_db

DATA = {  # (mean, sd, n) intervention, control
    "Chinman 2015": ((10.2, 3.1, 40), (9.1, 3.3, 42)),
    "Gillard 2015": ((8.2, 2.9, 30), (8.9, 3.0, 31)),
    "Rogers 2016": ((11.0, 4.0, 100), (10.0, 4.1, 98)),
}


@pytest.fixture
def three_studies(review, lead, sheet, outcome):
    studies = []
    for label, (i, c) in DATA.items():
        study = include_study(review, label, int(label[-4:]))
        save_continuous(
            sheet, study, lead, outcome, i, c, org="lower" if label == "Rogers 2016" else "higher"
        )
        studies.append(study)
    return studies


def _engine_smd(labels):
    rows = [DATA[k] for k in labels]
    es = stats.escalc(
        "SMD",
        m1i=[r[0][0] for r in rows],
        sd1i=[r[0][1] for r in rows],
        n1i=[r[0][2] for r in rows],
        m2i=[r[1][0] for r in rows],
        sd2i=[r[1][1] for r in rows],
        n2i=[r[1][2] for r in rows],
    )
    return stats.pool(es, method="REML")


def _create(review, outcome, lead, capture, **settings):
    with capture(execute=True):
        return services.analysis_create(review=review, outcome=outcome, created_by=lead, **settings)


def test_a_new_analysis_is_computed_from_consensus_data(
    review, lead, outcome, three_studies, eager, django_capture_on_commit_callbacks
):
    analysis = _create(review, outcome, lead, django_capture_on_commit_callbacks)
    analysis.refresh_from_db()
    assert analysis.status == "current"
    result = analysis.current_result
    expected = _engine_smd(["Chinman 2015", "Gillard 2015", "Rogers 2016"])
    assert result.k == 3
    assert result.estimate == pytest.approx(expected.estimate, rel=1e-12)
    assert result.ci_ub == pytest.approx(expected.ci_ub, rel=1e-12)
    assert result.participants == 40 + 42 + 30 + 31 + 100 + 98
    assert [s["year"] for s in result.payload["studies"]] == [2015, 2015, 2016]


def test_a_study_missing_its_sd_is_listed_with_the_reason(
    review, lead, sheet, outcome, three_studies, eager, django_capture_on_commit_callbacks
):
    kelly = include_study(review, "Kelly 2017", 2017)
    save_continuous(sheet, kelly, lead, outcome, (9.0, None, 25), (9.3, 3.6, 24))
    include_study(review, "Mahlke 2017", 2017)  # nothing extracted yet
    analysis = _create(review, outcome, lead, django_capture_on_commit_callbacks)
    analysis.refresh_from_db()
    missing = {m["label"]: m["reason"] for m in analysis.current_result.missing}
    assert missing["Mahlke 2017"] == "not extracted yet"
    assert "SD" in missing["Kelly 2017"]
    assert analysis.current_result.k == 3


def test_saving_consensus_data_recomputes_exactly_the_affected_analyses(
    review, lead, sheet, outcome, symptoms, three_studies, eager, django_capture_on_commit_callbacks
):
    a = _create(review, outcome, lead, django_capture_on_commit_callbacks)
    b = _create(review, symptoms, lead, django_capture_on_commit_callbacks)
    a.refresh_from_db()
    b.refresh_from_db()
    b_seq, b_result = b.change_seq, b.current_result_id
    new = include_study(review, "Simpson 2014", 2014)
    with django_capture_on_commit_callbacks(execute=True):
        save_continuous(sheet, new, lead, outcome, (12.0, 3.0, 50), (9.0, 3.0, 50))
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == "current" and a.current_result.k == 4
    assert a.current_result.estimate == pytest.approx(
        _engine_smd(["Chinman 2015", "Gillard 2015", "Rogers 2016"]).estimate, abs=10
    )
    assert AnalysisResult.objects.filter(analysis=a).count() == 2
    assert (b.change_seq, b.current_result_id) == (b_seq, b_result)


def _catch_sends(monkeypatch, sent: list) -> None:
    """Record what the outbox hands to Celery instead of handing it over."""
    monkeypatch.setattr(
        recompute_analysis_task, "apply_async", lambda args, **_: sent.append(args[0])
    )


def test_a_repeated_task_with_the_same_inputs_stores_nothing_new(
    review, lead, outcome, three_studies, eager, django_capture_on_commit_callbacks
):
    analysis = _create(review, outcome, lead, django_capture_on_commit_callbacks)
    first = Analysis.objects.get(pk=analysis.pk).current_result
    again = recompute_analysis_task.apply(args=[analysis.pk]).get()
    assert again == first.input_hash
    assert AnalysisResult.objects.filter(analysis=analysis).count() == 1


def test_the_result_is_marked_updating_until_the_new_version_lands(
    review, lead, sheet, outcome, three_studies, eager, monkeypatch,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    analysis = _create(review, outcome, lead, django_capture_on_commit_callbacks)
    old = Analysis.objects.get(pk=analysis.pk).current_result
    queued = []
    _catch_sends(monkeypatch, queued)
    new = include_study(review, "Simpson 2014", 2014)
    with django_capture_on_commit_callbacks(execute=True):
        save_continuous(sheet, new, lead, outcome, (12.0, 3.0, 50), (9.0, 3.0, 50))
    analysis.refresh_from_db()
    assert queued == [analysis.pk]  # committed and queued; no worker has run it yet
    assert analysis.status == "updating" and analysis.current_result == old
    monkeypatch.undo()
    recompute_analysis_task.apply(args=[analysis.pk])
    analysis.refresh_from_db()
    assert analysis.status == "current" and analysis.current_result.k == 4


def test_a_change_to_data_already_in_the_analysis_is_marked_in_its_own_transaction(
    review, lead, sheet, outcome, three_studies, eager, django_capture_on_commit_callbacks
):
    analysis = _create(review, outcome, lead, django_capture_on_commit_callbacks)
    before = Analysis.objects.get(pk=analysis.pk).change_seq
    with django_capture_on_commit_callbacks(execute=False):
        save_continuous(sheet, three_studies[0], lead, outcome, (20.0, 3.1, 40), (9.1, 3.3, 42),
                        version=1)  # fmt: skip
        assert Analysis.objects.get(pk=analysis.pk).change_seq > before


def test_a_result_for_an_older_change_never_replaces_a_newer_one(review, lead, outcome):
    analysis = services.analysis_create(review=review, outcome=outcome, created_by=lead)
    Analysis.objects.filter(pk=analysis.pk).update(change_seq=5)
    rows = (StudyRow(1, "A 2001", n1=10, m1=1, sd1=1, n2=10, m2=0, sd2=1),
            StudyRow(2, "B 2002", n1=10, m1=2, sd1=1, n2=10, m2=0, sd2=1))  # fmt: skip
    analysis.refresh_from_db()
    newer = services.analysis_store_result(
        analysis=analysis, inputs=AnalysisInputs(rows=rows), seq=5
    )
    older = services.analysis_store_result(
        analysis=analysis, inputs=AnalysisInputs(rows=rows[:1]), seq=3
    )
    analysis.refresh_from_db()
    assert analysis.current_result == newer != older
    assert analysis.computed_seq == 5


def test_a_burst_of_saves_queues_one_task(
    review, lead, sheet, outcome, three_studies, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    _catch_sends(monkeypatch, sent)
    with django_capture_on_commit_callbacks(execute=True):
        analysis = services.analysis_create(review=review, outcome=outcome, created_by=lead)
        for _ in range(5):
            services.analyses_outcome_data_changed(outcome_id=outcome.pk)
    assert sent == [analysis.pk]
    with django_capture_on_commit_callbacks(execute=True):
        services.analyses_outcome_data_changed(outcome_id=outcome.pk)
    assert sent == [analysis.pk]  # still pending: the queued task will read this change
    services.analysis_recompute(analysis_id=analysis.pk)  # the task starts and clears the flag
    with django_capture_on_commit_callbacks(execute=True):
        services.analyses_outcome_data_changed(outcome_id=outcome.pk)
    assert sent == [analysis.pk, analysis.pk]


def test_impossible_data_is_shown_as_an_error_not_retried(review, lead, outcome):
    analysis = services.analysis_create(review=review, outcome=outcome, created_by=lead)
    bad = (StudyRow(1, "Odd 2020", n1=10, m1=1, sd1=-2, n2=10, m2=1, sd2=1),)
    result = services.analysis_recompute(
        analysis_id=analysis.pk, loader=lambda a: AnalysisInputs(rows=bad)
    )
    assert "Odd 2020" in result.error
    analysis.refresh_from_db()
    assert analysis.status == "current" and analysis.current_result == result


def test_a_failing_recomputation_is_shown_and_retried_with_backoff(
    review, lead, outcome, three_studies, monkeypatch
):
    analysis = services.analysis_create(review=review, outcome=outcome, created_by=lead)
    calls = []

    def broken(**kwargs):
        calls.append(1)
        raise OperationalError("the database went away")

    monkeypatch.setattr(services, "analysis_store_result", broken)
    # Eager retries run at once, one inside the other; as on a worker, none propagates.
    propagates = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    try:
        outcome_ = recompute_analysis_task.apply(args=[analysis.pk])
    finally:
        celery_app.conf.task_eager_propagates = propagates
    assert outcome_.state == "FAILURE"
    assert len(calls) == 1 + recompute_analysis_task.max_retries
    analysis.refresh_from_db()
    assert analysis.status == "failed"
    assert "the database went away" in analysis.error
    assert analysis.attempts == len(calls)
    monkeypatch.undo()
    recompute_analysis_task.apply(args=[analysis.pk])
    analysis.refresh_from_db()
    assert analysis.status == "current" and analysis.error == ""


def test_a_worker_start_requeues_what_a_dead_worker_left(
    review, lead, outcome, monkeypatch, django_capture_on_commit_callbacks
):
    analysis = services.analysis_create(review=review, outcome=outcome, created_by=lead)
    sent = []
    _catch_sends(monkeypatch, sent)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.analyses_requeue_stale() == [analysis.pk]
    assert sent == [analysis.pk]


def test_rob_changes_mark_only_analyses_that_use_rob(review, lead, outcome, symptoms):
    plain = services.analysis_create(review=review, outcome=outcome, created_by=lead)
    rob = services.analysis_create(
        review=review, outcome=symptoms, created_by=lead, exclude_high_rob=True
    )
    assert services.analyses_rob_changed(review_id=review.pk) == [rob.pk]
    assert plain.pk not in services.analyses_rob_changed(review_id=review.pk)


@pytest.mark.parametrize(
    ("choice", "field"),
    [
        ({"measure": "RR"}, "measure"),
        ({"mantel_haenszel": True}, "mantel_haenszel"),
        ({"model": "fixed", "test": "knha"}, "test"),
        ({"level": 100}, "level"),
    ],
)
def test_impossible_settings_are_refused_and_nothing_is_stored(
    review, lead, outcome, choice, field
):
    with pytest.raises(DomainError) as err:
        services.analysis_create(review=review, outcome=outcome, created_by=lead, **choice)
    assert err.value.field == field
    assert not Analysis.objects.exists()


def test_a_second_analysis_with_the_same_name_is_refused(review, lead, outcome):
    services.analysis_create(review=review, outcome=outcome, created_by=lead, name="Main")
    with pytest.raises(DomainError, match="already has an analysis named 'Main'"):
        services.analysis_create(review=review, outcome=outcome, created_by=lead, name="Main")


def test_the_revman_preset_sets_revman_defaults(review, lead, hospitalised):
    analysis = services.analysis_create(
        review=review, outcome=hospitalised, created_by=lead, preset="revman5"
    )
    assert (analysis.measure, analysis.tau2_method, analysis.mantel_haenszel) == ("RR", "DL", True)
    assert analysis.prediction_interval is False
    assert "RevMan 5 defaults" in services.PRESET_NOTES[analysis.preset]
    changed = services.analysis_update(analysis=analysis, tau2_method="REML")
    assert changed.preset == "custom"


def test_an_edit_from_a_stale_version_is_refused(review, lead, outcome):
    analysis = services.analysis_create(review=review, outcome=outcome, created_by=lead)
    services.analysis_update(analysis=analysis, version=1, tau2_method="DL")
    with pytest.raises(DomainError, match="Someone changed this analysis"):
        services.analysis_update(analysis=analysis, version=1, tau2_method="PM")
    analysis.refresh_from_db()
    assert (analysis.tau2_method, analysis.version) == ("DL", 2)


def test_a_settings_change_marks_the_analysis_stale(review, lead, outcome):
    analysis = services.analysis_create(review=review, outcome=outcome, created_by=lead)
    before = Analysis.objects.get(pk=analysis.pk).change_seq
    services.analysis_update(analysis=analysis, model="fixed")
    assert Analysis.objects.get(pk=analysis.pk).change_seq == before + 1


def test_mantel_haenszel_on_real_dichotomous_consensus_data(
    review, lead, sheet, hospitalised, eager, django_capture_on_commit_callbacks
):
    for label, i, c in (("Sledge 2011", (10, 38), (19, 36)), ("Lawn 2008", (8, 49), (15, 50))):
        save_events(sheet, include_study(review, label, int(label[-4:])), lead, hospitalised, i, c)
    analysis = _create(review, hospitalised, lead, django_capture_on_commit_callbacks,
                       model="fixed", mantel_haenszel=True)  # fmt: skip
    analysis.refresh_from_db()
    from analysis.stats.binary import pool_mh

    expected = pool_mh([8, 10], n1i=[49, 38], ci=[15, 19], n2i=[50, 36], measure="RR")
    assert analysis.current_result.payload["overall"]["method"] == "MH"
    assert analysis.current_result.estimate == pytest.approx(expected.estimate)
    assert [r.label for r in load_inputs(analysis).rows] == ["Lawn 2008", "Sledge 2011"]


def test_grade_needs_a_reason_for_each_downgrade(review, lead, outcome):
    with pytest.raises(DomainError, match="Say why imprecision is downgraded"):
        services.grade_save(
            outcome=outcome, updated_by=lead, ratings={"imprecision": "serious"}, reasons={}
        )
    assert not GradeRating.objects.exists()
    grade = services.grade_save(
        outcome=outcome, updated_by=lead,
        ratings={"imprecision": "serious", "risk_of_bias": "very_serious"},
        reasons={"imprecision": "Wide CI", "risk_of_bias": "Unblinded"},
    )  # fmt: skip
    assert grade.certainty == "Very low"
