"""A vote cast on a record while its import is being deleted: the two take the record's row lock
in turn, so either the vote lands first and the deletion sees it (and refuses, per the rules of
import deletion), or the deletion goes first and the voter is told the import is being deleted.
Never a vote pointing at nothing, never a voted record deleted silently. Two real connections
to PostgreSQL, one transaction held open while the other runs."""

import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction

from reviewapp.errors import DomainError
from screening import services, services_imports
from screening import services_screening as votes
from screening.models import Decision, ImportBatch, Record, Stage
from tests.conftest import FIXTURES

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def imported(review, lead):
    if connection.vendor != "postgresql":
        pytest.skip("row locks as PostgreSQL takes them")
    batch = services.import_create(
        review=review,
        created_by=lead,
        upload=SimpleUploadedFile("a.ris", (FIXTURES / "donners_sample.ris").read_bytes()),
        source_database="MEDLINE",
        queue=False,
    )
    services.import_run(batch_id=batch.pk)
    return batch


def _vote(record, reviewer):
    return votes.decision_record(
        record=record, stage=Stage.TITLE_ABSTRACT, reviewer=reviewer, verdict="include"
    )


def test_a_deletion_waits_for_an_open_vote_and_then_refuses_to_lose_it(
    imported, review, lead, screener_a
):
    record = Record.objects.filter(import_batch=imported, duplicate_of__isnull=True).first()
    voted, release = threading.Event(), threading.Event()
    outcome: dict[str, str] = {}

    def vote() -> None:
        try:
            with transaction.atomic():
                _vote(record, screener_a)
                voted.set()
                release.wait(30)  # the vote's transaction stays open while the deletion starts
            outcome["vote"] = "saved"
        finally:
            connections.close_all()

    def delete() -> None:
        try:
            services_imports.import_delete(batch=ImportBatch.objects.get(pk=imported.pk), user=lead)
            outcome["delete"] = "deleted"
        except DomainError as exc:
            outcome["delete"] = exc.message
        finally:
            connections.close_all()

    voter = threading.Thread(target=vote)
    voter.start()
    assert voted.wait(30)
    deleter = threading.Thread(target=delete)
    deleter.start()
    time.sleep(1)
    assert "delete" not in outcome  # it waits on the record's lock, held by the vote
    release.set()
    voter.join(30)
    deleter.join(30)

    assert outcome["vote"] == "saved"
    assert "carry screening work" in outcome["delete"]
    assert Decision.objects.filter(review=review, record=record).count() == 1
    assert Record.objects.filter(import_batch=imported).count() > 1  # nothing was deleted


def test_a_vote_during_an_open_deletion_is_told_the_import_is_being_deleted(
    imported, review, lead, screener_a
):
    record = Record.objects.filter(import_batch=imported, duplicate_of__isnull=True).first()
    deleting, release = threading.Event(), threading.Event()
    outcome: dict[str, str] = {}

    def delete() -> None:
        try:
            with transaction.atomic():
                services_imports.import_delete(
                    batch=ImportBatch.objects.get(pk=imported.pk), user=lead
                )
                deleting.set()
                release.wait(30)  # the deletion's transaction stays open while the vote comes
        finally:
            connections.close_all()

    def vote() -> None:
        try:
            _vote(record, screener_a)
            outcome["vote"] = "saved"
        except DomainError as exc:
            outcome["vote"] = exc.message
        finally:
            connections.close_all()

    deleter = threading.Thread(target=delete)
    deleter.start()
    assert deleting.wait(30)
    voter = threading.Thread(target=vote)
    voter.start()
    time.sleep(1)
    assert "vote" not in outcome  # it waits on the record's lock, held by the deletion
    release.set()
    deleter.join(30)
    voter.join(30)

    assert "import is being deleted" in outcome["vote"] or "was deleted" in outcome["vote"]
    assert not Decision.objects.filter(review=review).exists()
    assert not Record.objects.filter(import_batch=imported).exists()


def test_a_vote_on_a_record_whose_import_deletion_is_queued_is_refused(imported, lead, screener_a):
    record = Record.objects.filter(import_batch=imported, duplicate_of__isnull=True).first()
    ImportBatch.objects.filter(pk=imported.pk).update(deletion_status="queued")
    with pytest.raises(DomainError, match="import is being deleted"):
        _vote(record, screener_a)
    assert not Decision.objects.filter(record=record).exists()
