"""A vote cast on a record while its import is being deleted is never stored against a record
that is gone, nor reported as saved: two real connections to PostgreSQL, the vote's
transaction still open while the deletion runs and commits."""

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, connections, transaction

from screening import services, services_imports
from screening import services_screening as votes
from screening.models import Decision, ImportBatch, Record, Stage
from tests.conftest import FIXTURES

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_vote_cast_during_the_deletion_fails_instead_of_pointing_at_nothing(
    review, lead, screener_a
):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and foreign-key checks as PostgreSQL does them")
    batch = services.import_create(
        review=review,
        created_by=lead,
        upload=SimpleUploadedFile("a.ris", (FIXTURES / "donners_sample.ris").read_bytes()),
        source_database="MEDLINE",
        queue=False,
    )
    services.import_run(batch_id=batch.pk)
    record = Record.objects.filter(import_batch=batch, duplicate_of__isnull=True).first()
    voted, release = threading.Event(), threading.Event()
    outcome: dict[str, str] = {}

    def vote() -> None:
        try:
            with transaction.atomic():
                votes.decision_record(
                    record=record,
                    stage=Stage.TITLE_ABSTRACT,
                    reviewer=screener_a,
                    verdict="include",
                )
                voted.set()
                release.wait(30)  # the vote's transaction stays open while the deletion runs
            outcome["vote"] = "saved"
        except IntegrityError:
            outcome["vote"] = "failed"
        finally:
            connections.close_all()

    voter = threading.Thread(target=vote)
    voter.start()
    assert voted.wait(30)
    # The vote's foreign keys are checked when it commits (Django makes them deferred), so
    # the deletion does not wait for it: it finds no work on the record and deletes it.
    services_imports.import_delete(batch=ImportBatch.objects.get(pk=batch.pk), user=lead)
    release.set()
    voter.join(30)

    assert outcome == {"vote": "failed"}  # the voter is told; the vote is not kept
    assert not Decision.objects.filter(review=review).exists()
    assert not Record.objects.filter(import_batch=batch).exists()
