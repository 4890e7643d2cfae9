"""Imports that can be taken back: the same file is not counted twice, and an import can be
deleted without losing screening work or leaving duplicate groups pointing at nothing."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reviewapp import selectors as review_selectors
from reviewapp.errors import DomainError
from screening import selectors, services, services_imports, services_ranking
from screening import services_screening as votes
from screening.models import (
    DedupAction,
    ImportBatch,
    Record,
    ScreeningItem,
    Stage,
    StopSample,
)
from screening.selectors_imports import import_deletion_preview
from tests.conftest import FIXTURES

pytestmark = pytest.mark.django_db

SAMPLE = (FIXTURES / "donners_sample.ris").read_bytes()  # 21 records, one pair of duplicates
TA = Stage.TITLE_ABSTRACT


@pytest.fixture
def upload(lead, review, django_capture_on_commit_callbacks):
    def run(data=SAMPLE, name="medline.ris", source="MEDLINE", new_search=False):
        with django_capture_on_commit_callbacks(execute=True):
            batch = services.import_create(
                review=review,
                created_by=lead,
                upload=SimpleUploadedFile(name, data),
                source_database=source,
                new_search=new_search,
            )
        batch.refresh_from_db()
        assert batch.status == ImportBatch.Status.DONE, batch.error
        return batch

    return run


def _groups(review):
    return dict(Record.objects.filter(review=review).values_list("id", "duplicate_of_id"))


# --- the same file twice ------------------------------------------------------------------


def test_an_import_keeps_the_sha256_of_its_bytes(upload):
    batch = upload()
    assert batch.content_sha256 == hashlib.sha256(SAMPLE).hexdigest()
    assert batch.same_file_as is None


def test_the_same_file_again_is_refused_naming_the_earlier_import(upload, review, lead):
    first = upload()
    with pytest.raises(DomainError) as refused:
        upload(name="embase-export.ris", source="Embase")
    message = refused.value.message
    assert refused.value.field == "file"
    assert "medline.ris" in message and "MEDLINE" in message and "lead" in message
    assert first.created_at.strftime("%d %b %Y") in message
    assert "new search" in message
    # PRISMA's records identified for MEDLINE are not doubled, and nothing was stored.
    assert selectors.prisma_counts(review=review).identified_per_source == {"MEDLINE": 21}
    assert ImportBatch.objects.filter(review=review).count() == 1


def test_the_lead_can_import_the_same_file_again_as_a_new_search(upload, review):
    first = upload()
    again = upload(name="medline-rerun.ris", new_search=True)
    assert again.same_file_as == first
    assert selectors.prisma_counts(review=review).identified_per_source == {"MEDLINE": 42}


def test_a_file_whose_import_failed_can_be_uploaded_again(review, lead):
    broken = b"this is not a reference file\n"
    failed = services.import_create(
        review=review,
        created_by=lead,
        upload=SimpleUploadedFile("x.ris", broken),
        source_database="MEDLINE",
        queue=False,
    )
    services.import_run(batch_id=failed.pk)
    retried = services.import_create(
        review=review,
        created_by=lead,
        upload=SimpleUploadedFile("x.ris", broken),
        source_database="MEDLINE",
        queue=False,
    )
    assert retried.same_file_as is None


def test_a_deleted_imports_file_can_be_imported_again(upload, lead):
    first = upload()
    services_imports.import_delete(batch=first, user=lead)
    again = upload()
    assert again.same_file_as is None
    assert again.records_imported == 21


# --- deleting an import without work -----------------------------------------------------


def test_deleting_an_import_removes_its_records_and_prisma_follows(upload, review, lead):
    upload()
    rerun = upload(name="rerun.ris", source="Embase", new_search=True)
    before = selectors.prisma_counts(review=review)
    assert before.identified_per_source == {"Embase": 21, "MEDLINE": 21}
    assert (before.duplicates_removed, before.records_screened) == (22, 20)

    done = services_imports.import_delete(batch=rerun, user=lead)

    assert (done.records_deleted, done.records_kept, done.regrouped) == (21, 0, 0)
    after = selectors.prisma_counts(review=review)
    assert after.identified_per_source == {"MEDLINE": 21}
    assert (after.duplicates_removed, after.records_screened) == (1, 20)
    rerun.refresh_from_db()
    assert rerun.deleted_at is not None and rerun.deleted_by == lead
    assert rerun.records_deleted == 21


def test_deleting_the_first_import_gives_the_other_imports_groups_new_kept_records(
    upload, review, lead
):
    first = upload()
    rerun = upload(name="rerun.ris", source="Embase", new_search=True)
    # Every record of the rerun is a duplicate of a record of the first import.
    assert not Record.objects.filter(import_batch=rerun, duplicate_of__isnull=True).exists()

    done = services_imports.import_delete(batch=first, user=lead)

    assert done.regrouped == 21
    left = Record.objects.filter(review=review)
    assert set(left.values_list("import_batch_id", flat=True)) == {rerun.pk}
    # The rerun's own pair of duplicates stays a pair; every other record is unique again.
    kept = left.filter(duplicate_of__isnull=False)
    assert kept.count() == 1
    pair = kept.get()
    assert pair.duplicate_of.import_batch_id == rerun.pk
    assert pair.duplicate_of_id < pair.pk
    counts = selectors.prisma_counts(review=review)
    assert counts.identified_per_source == {"Embase": 21}
    assert (counts.duplicates_removed, counts.records_screened) == (1, 20)


def test_a_group_spanning_three_imports_keeps_its_earliest_remaining_record(upload, review, lead):
    first = upload()
    second = upload(name="b.ris", source="Embase", new_search=True)
    third = upload(name="c.ris", source="PsycINFO", new_search=True)
    keeper = Record.objects.filter(import_batch=first, duplicate_of__isnull=True).first()
    members = list(Record.objects.filter(duplicate_of=keeper).order_by("id"))
    assert {m.import_batch_id for m in members} == {second.pk, third.pk}

    services_imports.import_delete(batch=first, user=lead)

    groups = _groups(review)
    new_keeper = min(m.pk for m in members)
    assert groups[new_keeper] is None
    assert all(groups[m.pk] == new_keeper for m in members if m.pk != new_keeper)


def test_an_import_still_running_cannot_be_deleted(review, lead):
    batch = services.import_create(
        review=review,
        created_by=lead,
        upload=SimpleUploadedFile("a.ris", SAMPLE),
        source_database="MEDLINE",
        queue=False,
    )
    with pytest.raises(DomainError, match="still being imported"):
        services_imports.import_delete(batch=batch, user=lead)


def test_an_import_cannot_be_deleted_twice(upload, lead):
    batch = upload()
    services_imports.import_delete(batch=batch, user=lead)
    with pytest.raises(DomainError, match="already deleted"):
        services_imports.import_delete(batch=batch, user=lead)


def test_the_deletion_is_in_the_reviews_history(upload, review, lead):
    batch = upload()
    services_imports.import_delete(batch=batch, user=lead)
    entries = [
        e for e in review_selectors.review_history(review=review, user=lead) if e.what == "Import"
    ]
    assert entries[0].action == "changed"
    assert entries[0].who == "lead"
    assert "records_deleted: 0 → 21" in entries[0].changes


# --- deleting an import with work --------------------------------------------------------


@pytest.fixture
def worked(upload, review, lead, screener_a):
    """The first import with a vote on one record and a study link on another, and a rerun
    of the same file whose records are duplicates of the first's."""
    first = upload()
    rerun = upload(name="rerun.ris", source="Embase", new_search=True)
    voted, linked = Record.objects.filter(import_batch=first, duplicate_of__isnull=True)[:2]
    votes.decision_record(record=voted, stage=TA, reviewer=screener_a, verdict="include")
    votes.study_link_report(record=linked, new_label="Smith 2019")
    return first, rerun, voted, linked


def test_an_import_with_work_is_refused_saying_what_would_be_lost(worked, review, lead):
    first, _rerun, _voted, _linked = worked
    before = _groups(review)
    with pytest.raises(DomainError) as refused:
        services_imports.import_delete(batch=first, user=lead)
    assert "1 vote" in refused.value.message and "1 study link" in refused.value.message
    assert "keeping the screened copies" in refused.value.message
    assert _groups(review) == before


def test_the_preview_counts_what_would_be_lost(worked):
    first, _rerun, _voted, _linked = worked
    preview = import_deletion_preview(batch=first)
    assert (preview.records, preview.records_with_work, preview.records_to_delete) == (21, 2, 19)
    assert (preview.votes, preview.fulltexts, preview.study_links) == (1, 0, 1)
    assert preview.loss == "1 vote, 1 study link"
    assert preview.keep_screened and not preview.refusal
    # The rerun's copies of the 19 records that go get new kept records.
    assert preview.regrouped == 19


def test_keeping_the_screened_copies_deletes_only_the_records_without_work(worked, review, lead):
    first, rerun, voted, linked = worked
    done = services_imports.import_delete(batch=first, user=lead, keep_screened=True)
    assert (done.records_deleted, done.records_kept, done.regrouped) == (19, 2, 19)
    assert set(Record.objects.filter(import_batch=first)) == {voted, linked}
    # The screened copies are still the kept records of their groups, with their work.
    groups = _groups(review)
    assert groups[voted.pk] is None and groups[linked.pk] is None
    assert Record.objects.filter(duplicate_of=voted, import_batch=rerun).count() == 1
    assert ScreeningItem.objects.get(record=voted, stage=TA).votes == 1
    linked.refresh_from_db()
    assert linked.study is not None
    first.refresh_from_db()
    assert first.deleted_at is None and first.records_deleted == 19
    counts = selectors.prisma_counts(review=review)
    assert counts.identified_per_source == {"Embase": 21, "MEDLINE": 2}
    assert counts.duplicates_removed == 3  # the two screened copies' twins and the rerun's pair
    assert counts.records_screened == 20


# --- what else names the records -----------------------------------------------------------


def test_a_teams_duplicate_decision_naming_a_deleted_record_can_still_be_undone(
    upload, review, lead
):
    first = upload()
    rerun = upload(name="rerun.ris", source="Embase", new_search=True)
    twin = Record.objects.filter(import_batch=rerun, duplicate_of__import_batch=first).first()
    action = services.dedup_split(record=twin, user=lead)
    assert str(twin.duplicate_of_id) in action.before

    services_imports.import_delete(batch=first, user=lead)

    action.refresh_from_db()
    left = set(Record.objects.filter(review=review).values_list("id", flat=True))
    assert {int(k) for k in action.before} <= left
    assert all(a in left and b in left for a, b in action.cannot_link)
    services.dedup_undo(action=action, user=lead)  # no pointer to a deleted record
    assert DedupAction.objects.get(pk=action.pk).undone_at is not None


def _distinct_ris(n: int, seed: int) -> bytes:
    """n records that match nothing in the sample file nor each other."""
    import random

    words = [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "kappa",
        "sigma",
        "omega",
        "lumen",
        "vector",
        "prism",
        "quartz",
        "ember",
    ]
    rng = random.Random(seed)
    out = []
    for i in range(n):
        title = " ".join(rng.sample(words, 7)) + f" {seed}-{i}"
        out.append(f"TY  - JOUR\nTI  - {title}\nAU  - Author{i}, A\nPY  - {1990 + i}\nER  - \n")
    return "\n".join(out).encode()


def test_an_open_stopping_sample_drops_the_deleted_records(upload, review, lead):
    first = upload()
    extra = upload(data=_distinct_ris(10, seed=7), name="extra.ris", source="CINAHL")
    assert not Record.objects.filter(import_batch=extra, duplicate_of__isnull=False).exists()
    services_ranking.stop_sample_start(review=review, stage=TA, user=lead, recall_target=0.9)
    sample = StopSample.objects.get(review=review)
    extra_ids = set(Record.objects.filter(import_batch=extra).values_list("id", flat=True))
    assert extra_ids <= set(sample.record_ids)
    size = len(sample.record_ids)

    services_imports.import_delete(batch=extra, user=lead)

    sample.refresh_from_db()
    assert len(sample.record_ids) == size - 10
    left = set(Record.objects.filter(import_batch=first).values_list("id", flat=True))
    assert set(sample.record_ids) <= left


def test_the_migration_hashes_the_files_of_earlier_imports(upload, review):
    import importlib
    from pathlib import Path

    from django.apps import apps

    import screening.migrations

    # Found by name, not number: migrations are renumbered when branches merge.
    (path,) = Path(screening.migrations.__file__).parent.glob("*_import_hash_and_deletion.py")
    migration = importlib.import_module(f"screening.migrations.{path.stem}")
    earlier = upload()
    ImportBatch.objects.filter(pk=earlier.pk).update(content_sha256="")
    gone = ImportBatch.objects.create(
        review=review, source_database="X", file_name="gone.ris", file="imports/gone.ris"
    )
    migration.hash_stored_uploads(apps, None)
    earlier.refresh_from_db()
    gone.refresh_from_db()
    assert earlier.content_sha256 == hashlib.sha256(SAMPLE).hexdigest()
    assert gone.content_sha256 == ""  # its file is missing: nothing to compare
    with pytest.raises(DomainError, match="already imported"):
        upload(name="again.ris")


# --- the deletion runs in the background ------------------------------------------------


def test_a_deletion_is_queued_then_run_by_the_worker_with_its_progress(
    upload, review, lead, django_capture_on_commit_callbacks
):
    batch = upload()
    with django_capture_on_commit_callbacks(execute=False) as sent:
        queued = services_imports.import_delete_request(batch=batch, user=lead)
    assert queued.deletion_status == ImportBatch.DeletionStatus.QUEUED
    assert Record.objects.filter(import_batch=batch).count() == 21  # nothing deleted yet
    assert services_imports.import_delete_progress_get(batch.pk)["stage"] == "queued"
    with pytest.raises(DomainError, match="already being deleted"):
        services_imports.import_delete_request(batch=batch, user=lead)
    for callback in sent:
        callback()  # the outbox hands the task over; the test settings run it in-process
    batch.refresh_from_db()
    assert batch.deletion_status == ImportBatch.DeletionStatus.DONE and batch.is_deleted
    assert not Record.objects.filter(import_batch=batch).exists()
    assert services_imports.import_delete_progress_get(batch.pk) == {
        "percent": 100,
        "stage": "done",
    }


def test_a_deletion_refused_by_the_rules_is_refused_before_it_is_queued(worked, lead):
    first, _rerun, _voted, _linked = worked
    with pytest.raises(DomainError, match="carry screening work"):
        services_imports.import_delete_request(batch=first, user=lead)
    first.refresh_from_db()
    assert first.deletion_status == ""


def test_a_deletion_that_fails_in_the_worker_leaves_the_data_and_says_why(
    upload, review, lead, screener_a, django_capture_on_commit_callbacks
):
    batch = upload()
    record = Record.objects.filter(import_batch=batch, duplicate_of__isnull=True).first()
    with django_capture_on_commit_callbacks(execute=False) as sent:
        services_imports.import_delete_request(batch=batch, user=lead)
    # Queued: a vote is refused now...
    with pytest.raises(DomainError, match="import is being deleted"):
        votes.decision_record(record=record, stage=TA, reviewer=screener_a, verdict="include")
    with pytest.raises(DomainError, match="import is being deleted"):
        votes.study_link_report(record=record, new_label="Smith 2019")
    # ...but a study link that reached the record before the request (an older worker, say)
    # is found by the worker, which refuses, per the rules of import deletion.
    ImportBatch.objects.filter(pk=batch.pk).update(deletion_status="")
    votes.study_link_report(record=record, new_label="Smith 2019")
    ImportBatch.objects.filter(pk=batch.pk).update(deletion_status="queued")
    before = _groups(review)
    for callback in sent:
        callback()
    batch.refresh_from_db()
    assert batch.deletion_status == ImportBatch.DeletionStatus.FAILED
    assert "carry screening work" in batch.deletion_error and "1 study link" in batch.deletion_error
    assert _groups(review) == before and not batch.is_deleted
    assert services_imports.import_delete_progress_get(batch.pk)["stage"] == "failed"
    # Failed, the import takes work again.
    votes.decision_record(record=record, stage=TA, reviewer=screener_a, verdict="include")
