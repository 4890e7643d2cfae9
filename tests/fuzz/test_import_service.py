"""Through the import service: a file that fails stores no record, one that succeeds stores
exactly the records it reports. Never a partial import, never an unexplained failure."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewapp.errors import DomainError
from screening import services
from screening.models import ImportBatch, Record
from tests.factories import ReviewFactory, UserFactory
from tests.fuzz.strategies import EXAMPLES, FUZZ, mutated, structured

pytestmark = pytest.mark.django_db


class _Rollback(Exception):
    pass


def _import(data: bytes, name: str) -> None:
    review = ReviewFactory()
    user = UserFactory()
    try:
        batch = services.import_create(
            review=review,
            created_by=user,
            upload=SimpleUploadedFile(name, data),
            source_database="Fuzz",
            queue=False,
        )
    except DomainError as exc:  # refused before reading (empty, wrong extension)
        assert exc.message
        assert not ImportBatch.objects.filter(review=review).exists()
        return
    batch = services.import_run(batch_id=batch.pk)
    stored = Record.objects.filter(import_batch=batch).count()
    if batch.status == ImportBatch.Status.FAILED:
        assert batch.error.strip()
        assert stored == 0, "a failed import stored records"
    else:
        assert batch.status == ImportBatch.Status.DONE
        assert stored == batch.records_imported > 0


def _each_example_in_a_savepoint(data: bytes, name: str) -> None:
    # Examples share the test's transaction; rolling each back keeps them independent.
    try:
        with transaction.atomic():
            _import(data, name)
            raise _Rollback
    except _Rollback:
        pass


@settings(FUZZ, max_examples=max(10, EXAMPLES // 5))
@given(st.one_of(mutated(), structured()))
def test_a_mutated_or_random_file_imports_whole_or_not_at_all(sample):
    data, extension = sample
    _each_example_in_a_savepoint(data, f"upload{extension}")


@settings(FUZZ, max_examples=max(10, EXAMPLES // 10))
@given(st.binary(max_size=2000), st.sampled_from([".ris", ".csv", ".bib", ".xml", ".pdf", ""]))
def test_random_bytes_through_the_service(data, extension):
    _each_example_in_a_savepoint(data, f"upload{extension}")
