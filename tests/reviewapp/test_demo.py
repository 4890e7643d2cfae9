from io import StringIO

import pytest
from django.core.management import call_command

from analysis.models import Analysis
from reviewapp.demo import BCG_TITLE, DEMO_PASSWORD, DEMO_TITLE
from reviewapp.models import Membership, Review

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_loads_real_data_once_and_its_meta_analysis_matches_metafor():
    call_command("load_demo")
    call_command("load_demo")  # make run runs it every time: nothing is duplicated
    library = Review.objects.get(title=DEMO_TITLE)
    assert library.records.count() == 365  # Nelson_2002 from the SYNERGY dataset
    roles = {m.user.username: m.roles for m in Membership.objects.filter(review=library)}
    assert roles == {
        "lead": ["lead"],
        "reviewer1": ["reviewer"],
        "reviewer2": ["reviewer"],
        "arbiter": ["arbiter"],
    }
    bcg = Review.objects.get(title=BCG_TITLE)
    assert bcg.studies.count() == 13
    result = Analysis.objects.get(review=bcg).current_result
    overall = result.payload["overall"]
    # metafor: rma(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg), REML; the
    # values published in ../shared/docs/meta-analysis-spec.md.
    assert result.k == 13 and result.missing == []
    assert overall["estimate"] == pytest.approx(-0.7145, abs=5e-5)
    assert overall["tau2"] == pytest.approx(0.3132, abs=5e-5)
    assert overall["i2"] == pytest.approx(92.22, abs=5e-3)


def test_prepare_demo_migrates_loads_the_demo_and_prints_the_logins(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    out = StringIO()
    call_command("prepare_demo", url="http://127.0.0.1:8001/", stdout=out)

    printed = out.getvalue()
    assert "Reviewapp is starting at http://127.0.0.1:8001/" in printed
    assert f"password '{DEMO_PASSWORD}'" in printed and "reviewer2" in printed
    assert Review.objects.filter(title=DEMO_TITLE).exists()
    assert (tmp_path / "static" / "admin").is_dir()


def test_a_second_prepare_demo_skips_the_migrations_and_the_demo_already_there(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    first, second = StringIO(), StringIO()
    call_command("prepare_demo", url="http://127.0.0.1:8001/", stdout=first)
    call_command("prepare_demo", url="http://127.0.0.1:8001/", stdout=second)

    assert "Demo review #" in first.getvalue()
    assert "Demo review #" not in second.getvalue()  # load_demo did not run
    assert "Operations to perform" not in second.getvalue()  # nor did migrate
    assert "reviewer2" in second.getvalue()  # the logins are printed every time
    assert Review.objects.filter(title__in=[DEMO_TITLE, BCG_TITLE]).count() == 2


def test_prepare_demo_counts_the_migrations_not_yet_applied():
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    from reviewapp.management.commands.prepare_demo import unapplied_migrations

    assert unapplied_migrations() == 0
    recorder = MigrationRecorder(connection)
    last = recorder.migration_qs.filter(app="screening").latest("id")
    recorder.record_unapplied(last.app, last.name)
    try:
        assert unapplied_migrations() == 1
    finally:
        recorder.record_applied(last.app, last.name)
    assert unapplied_migrations() == 0


def test_make_run_never_adds_the_demo_users_to_a_database_with_other_reviews(settings, tmp_path):
    from django.contrib.auth import get_user_model
    from django.core.management.base import CommandError

    from tests.factories import ReviewFactory

    settings.STATIC_ROOT = tmp_path / "static"
    ReviewFactory(title="Our real review")
    out = StringIO()
    call_command("prepare_demo", url="http://127.0.0.1:8001/", stdout=out)
    printed = out.getvalue()
    assert "holds other reviews" in printed and DEMO_PASSWORD not in printed
    users = get_user_model().objects
    assert not users.filter(username__in=["lead", "reviewer1", "reviewer2", "arbiter"]).exists()
    assert not Review.objects.filter(title=DEMO_TITLE).exists()
    with pytest.raises(CommandError, match="--force"):
        call_command("load_demo")
    assert not users.filter(username="lead").exists()


def test_the_bcg_demo_trials_are_not_offered_as_possible_duplicates():
    # "Frimodt-Moller et al 1973" and "Vandiviere et al 1973" are two trials: their study
    # labels once shared the first author "al" and the year, and were offered as a pair.
    from django.db import transaction

    from screening import services
    from screening.models import PossibleDuplicate, Record

    call_command("load_demo")
    review = Review.objects.get(title=BCG_TITLE)
    ids = set(Record.objects.filter(review=review).values_list("id", flat=True))
    with transaction.atomic():  # as the import runs it
        assert services.dedup_new_records(review_id=review.pk, new_ids=ids) == 0
    assert not PossibleDuplicate.objects.filter(review=review).exists()
