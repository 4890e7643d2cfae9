import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reviewapp.errors import DomainError
from screening import services
from screening.models import DedupAction, Record
from tests.factories import ImportBatchFactory, RecordFactory

pytestmark = pytest.mark.django_db


def _state(review):
    return dict(Record.objects.filter(review=review).values_list("id", "duplicate_of_id"))


@pytest.fixture
def group(review):
    """A primary with two duplicates and one unrelated record."""
    primary = RecordFactory(review=review, title="Peer support for psychosis", doi="10.1/a")
    dup1 = RecordFactory(review=review, title="Peer support for psychosis", duplicate_of=primary)
    dup2 = RecordFactory(review=review, title="PEER SUPPORT FOR PSYCHOSIS", duplicate_of=primary)
    other = RecordFactory(review=review, title="Exercise for depression")
    return primary, dup1, dup2, other


def test_splitting_a_duplicate_keeps_the_rest_of_the_group(review, lead, group):
    primary, dup1, dup2, _ = group
    services.dedup_split(record=dup1, user=lead)
    state = _state(review)
    assert state[dup1.pk] is None
    assert state[dup2.pk] == primary.pk


def test_splitting_the_primary_promotes_the_next_record(review, lead, group):
    primary, dup1, dup2, _ = group
    services.dedup_split(record=primary, user=lead)
    state = _state(review)
    assert state[primary.pk] is None
    assert state[dup1.pk] is None
    assert state[dup2.pk] == dup1.pk


def test_merging_moves_a_whole_group(review, lead, group):
    primary, dup1, dup2, other = group
    services.dedup_merge(record=primary, other=other, user=lead)
    state = _state(review)
    assert state[primary.pk] == other.pk
    assert state[dup1.pk] == other.pk and state[dup2.pk] == other.pk
    assert state[other.pk] is None


def test_merging_records_already_together_is_refused(review, lead, group):
    primary, dup1, _, _ = group
    with pytest.raises(DomainError, match="already in the same group"):
        services.dedup_merge(record=dup1, other=primary, user=lead)


def test_making_a_duplicate_the_primary(review, lead, group):
    primary, dup1, dup2, _ = group
    services.dedup_make_primary(record=dup2, user=lead)
    state = _state(review)
    assert state[dup2.pk] is None
    assert state[primary.pk] == dup2.pk and state[dup1.pk] == dup2.pk


def test_every_change_can_be_undone_newest_first(review, lead, group):
    primary, dup1, dup2, other = group
    original = _state(review)
    split = services.dedup_split(record=dup1, user=lead)
    after_split = _state(review)
    merge = services.dedup_merge(record=other, other=primary, user=lead)
    with pytest.raises(DomainError, match="newest first"):
        services.dedup_undo(action=split, user=lead)
    services.dedup_undo(action=merge, user=lead)
    assert _state(review) == after_split
    services.dedup_undo(action=split, user=lead)
    assert _state(review) == original
    assert DedupAction.objects.filter(review=review, undone_at=None).count() == 0


def test_a_later_import_respects_a_split(review, lead):
    batch = ImportBatchFactory(review=review)
    first = RecordFactory(
        review=review,
        import_batch=batch,
        title="Peer support in crisis teams: a randomised trial",
        authors=["Johnson, S"],
        year=2018,
        journal="Lancet",
    )
    second = RecordFactory(
        review=review,
        import_batch=batch,
        title="Peer support in crisis teams: a randomised trial",
        authors=["Johnson, S"],
        year=2018,
        journal="Lancet",
        duplicate_of=first,
    )
    services.dedup_split(record=second, user=lead)
    ris = (
        b"TY  - JOUR\nTI  - Peer support in crisis teams: a randomised trial\nAU  - Johnson, S\n"
        b"PY  - 2018\nJO  - Lancet\nER  - \n"
    )
    batch = services.import_create(
        review=review,
        created_by=lead,
        upload=SimpleUploadedFile("more.ris", ris),
        source_database="PsycINFO",
        queue=False,
    )
    services.import_run(batch_id=batch.pk)
    second.refresh_from_db()
    assert second.duplicate_of_id is None  # the team's split survives the import
    new = Record.objects.get(import_batch=batch)
    assert new.duplicate_of_id in (first.pk, second.pk)


def test_records_of_another_review_cannot_be_merged(review, lead, group):
    foreign = RecordFactory()
    with pytest.raises(DomainError, match="same review"):
        services.dedup_merge(record=group[0], other=foreign, user=lead)
