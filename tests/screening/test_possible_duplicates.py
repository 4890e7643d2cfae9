"""The possible-duplicates queue: pairs stored by the import's dedup step, confirmed (a merge),
separated (a cannot-link) or undone exactly, and counted by PRISMA once decided."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reviewapp.errors import DomainError
from screening import selectors, selectors_possible, services, services_possible
from screening.models import DedupAction, PossibleDuplicate, Record, ScreeningItem
from screening.references.dedup import PossiblePair
from tests.factories import ImportBatchFactory, RecordFactory

pytestmark = pytest.mark.django_db

TITLE = "Emicizumab prophylaxis in hemophilia A with inhibitors: a randomised trial"
NEAR = "Emicizumab prophylaxis in haemophilia A patients with inhibitors: a randomised trial"


def _paper(review, title, **fields):
    defaults = {
        "authors": ["Oldenburg, Johannes", "Mahlangu, Johnny"],
        "year": 2017,
        "journal": "New England Journal of Medicine",
    }
    return RecordFactory(review=review, title=title, **{**defaults, **fields})


def _state(review):
    return {
        pk: (dup, reason)
        for pk, dup, reason in Record.objects.filter(review=review).values_list(
            "id", "duplicate_of_id", "duplicate_reason"
        )
    }


def _prisma(review):
    counts = selectors.prisma_counts(review=review)
    pending = selectors.prisma_pending(
        counts, possible_duplicates=selectors_possible.open_possible_count(review=review)
    )
    return counts.duplicates_removed, counts.records_screened, pending.possible_duplicates


@pytest.fixture
def pair(review):
    """A near miss stored by the import of its second record."""
    _paper(review, TITLE)
    second = _paper(review, NEAR)
    services.dedup_new_records(review_id=review.pk, new_ids={second.pk})
    return PossibleDuplicate.objects.get(review=review)


def test_an_import_queues_a_near_miss_without_merging_it(review, pair):
    assert (pair.status, pair.decided_at, pair.action) == ("open", None, None)
    assert pair.record_a_id < pair.record_b_id
    assert pair.reason  # the matcher says why it is unsure
    assert Record.objects.filter(review=review, duplicate_of__isnull=False).count() == 0
    assert _prisma(review) == (0, 2, 1)


def _ris(*titles):
    return "".join(
        f"TY  - JOUR\nTI  - {t}\nAU  - Oldenburg, Johannes\nAU  - Mahlangu, Johnny\n"
        f"PY  - 2017\nJO  - New England Journal of Medicine\nER  - \n\n"
        for t in titles
    ).encode()


def test_importing_a_file_queues_its_near_misses(review, lead):
    batch = services.import_create(
        review=review,
        created_by=lead,
        upload=SimpleUploadedFile("embase.ris", _ris(TITLE, NEAR, "Exercise for depression")),
        source_database="Embase",
        queue=False,
    )
    batch = services.import_run(batch_id=batch.pk)
    assert (batch.status, batch.records_imported, batch.duplicates_found) == ("done", 3, 0)
    pair = PossibleDuplicate.objects.get(review=review)
    titles = {pair.record_a.title, pair.record_b.title}
    assert titles == {TITLE, NEAR} and pair.status == "open"


def test_a_later_import_does_not_queue_a_pair_again(review, pair):
    third = RecordFactory(review=review, title="Exercise for depression in older adults")
    services.dedup_new_records(review_id=review.pk, new_ids={third.pk})
    assert PossibleDuplicate.objects.filter(review=review).count() == 1


def test_pairs_already_in_one_group_or_kept_apart_are_not_stored(review, lead):
    a, b, c, d = (RecordFactory(review=review) for _ in range(4))
    services.dedup_merge(record=b, other=a, user=lead)
    DedupAction.objects.create(
        review=review, kind="separate", record=c, other=d, cannot_link=[[d.pk, c.pk]]
    )
    pairs = [
        PossiblePair(a=a.pk, b=b.pk, reason="x"),
        PossiblePair(a=c.pk, b=d.pk, reason="x"),
        PossiblePair(a=b.pk, b=c.pk, reason="title 88% similar"),
    ]
    assert services.possible_pairs_store(review_id=review.pk, pairs=pairs) == 1
    stored = PossibleDuplicate.objects.get(review=review)
    assert (stored.record_a_id, stored.record_b_id) == (b.pk, c.pk)


def test_confirming_merges_the_pair_and_prisma_counts_one_duplicate(review, lead, pair):
    services_possible.possible_confirm(pair=pair, user=lead)
    pair.refresh_from_db()
    assert pair.status == "confirmed" and pair.decided_by == lead and pair.decided_at
    assert pair.action.kind == DedupAction.Kind.MERGE
    b = Record.objects.get(pk=pair.record_b_id)
    assert b.duplicate_of_id == pair.record_a_id
    assert _prisma(review) == (1, 1, 0)


def test_confirming_keeps_the_record_that_was_already_screened(review, lead, pair):
    ScreeningItem.objects.create(review=review, record_id=pair.record_b_id, stage="ta")
    services_possible.possible_confirm(pair=pair, user=lead)
    a = Record.objects.get(pk=pair.record_a_id)
    assert a.duplicate_of_id == pair.record_b_id


def test_separating_keeps_both_and_no_later_import_merges_them(review, lead, pair):
    services_possible.possible_separate(pair=pair, user=lead)
    pair.refresh_from_db()
    assert pair.status == "separated" and pair.action.kind == DedupAction.Kind.SEPARATE
    assert pair.action.cannot_link == [[pair.record_a_id, pair.record_b_id]]
    assert _prisma(review) == (0, 2, 0)
    # A third copy with the exact title of the second would join it, and through it the
    # first: the cannot-link keeps the first apart.
    third = _paper(review, NEAR)
    services.dedup_new_records(review_id=review.pk, new_ids={third.pk})
    roots = {r.pk: r.duplicate_of_id or r.pk for r in Record.objects.filter(review=review)}
    assert roots[third.pk] == roots[pair.record_b_id] != roots[pair.record_a_id]
    # Nor is the first asked about again against the new copy of the second.
    assert selectors_possible.open_possible_count(review=review) == 0


def test_deciding_a_pair_twice_is_refused(review, lead, pair):
    services_possible.possible_confirm(pair=pair, user=lead)
    with pytest.raises(DomainError, match="already decided"):
        services_possible.possible_separate(pair=pair, user=lead)


def test_undoing_a_confirmation_restores_records_reasons_and_pair_exactly(review, lead):
    # The second record is itself kept with a duplicate, whose reason must survive the undo.
    first = _paper(review, TITLE)
    second = _paper(review, NEAR)
    copy = _paper(review, NEAR.upper(), duplicate_of=second, duplicate_reason="same title")
    services.possible_pairs_store(
        review_id=review.pk, pairs=[PossiblePair(a=first.pk, b=second.pk, reason="similar")]
    )
    pair = PossibleDuplicate.objects.get(review=review)
    before = _state(review)
    services_possible.possible_confirm(pair=pair, user=lead)
    assert Record.objects.get(pk=copy.pk).duplicate_of_id == first.pk
    undone = services_possible.possible_undo_last(review=review, user=lead)
    assert undone.pk == pair.pk
    assert _state(review) == before
    pair.refresh_from_db()
    assert (pair.status, pair.action, pair.decided_by, pair.decided_at) == (
        "open",
        None,
        None,
        None,
    )
    assert DedupAction.objects.get(review=review).undone_at is not None
    assert _prisma(review) == (1, 2, 1)


def test_undoing_a_separation_lifts_the_cannot_link(review, lead, pair):
    services_possible.possible_separate(pair=pair, user=lead)
    services_possible.possible_undo(pair=pair, user=lead)
    pair.refresh_from_db()
    assert pair.status == "open"
    assert services._links(review.pk) == ([], [])


def test_decisions_are_undone_newest_first(review, lead, pair):
    services_possible.possible_confirm(pair=pair, user=lead)
    other = RecordFactory(review=review, title="Exercise for depression in older adults")
    services.dedup_merge(record=other, other=Record.objects.get(pk=pair.record_a_id), user=lead)
    with pytest.raises(DomainError, match="newest first"):
        services_possible.possible_undo_last(review=review, user=lead)
    assert selectors_possible.undoable_possible_decision(review=review) is None


def test_undoing_the_merge_from_the_groups_list_reopens_the_pair(review, lead, pair):
    services_possible.possible_confirm(pair=pair, user=lead)
    pair.refresh_from_db()
    assert selectors_possible.undoable_possible_decision(review=review) == pair
    services.dedup_undo(action=pair.action, user=lead)
    pair.refresh_from_db()
    assert pair.status == "open"


def test_a_pair_merged_by_hand_leaves_the_queue(review, lead, pair):
    a, b = Record.objects.get(pk=pair.record_a_id), Record.objects.get(pk=pair.record_b_id)
    services.dedup_merge(record=b, other=a, user=lead)
    assert selectors_possible.open_possible_count(review=review) == 0
    with pytest.raises(DomainError, match="already in one duplicate group"):
        services_possible.possible_confirm(pair=pair, user=lead)


def test_a_confirmation_that_would_join_records_kept_apart_is_refused(review, lead):
    a, b, c = (RecordFactory(review=review) for _ in range(3))
    services.possible_pairs_store(
        review_id=review.pk,
        pairs=[PossiblePair(a=x.pk, b=y.pk, reason="similar") for x, y in ((a, b), (a, c), (b, c))],
    )
    ab, ac, bc = PossibleDuplicate.objects.filter(review=review).order_by("record_a", "record_b")
    services_possible.possible_separate(pair=ab, user=lead)
    services_possible.possible_confirm(pair=ac, user=lead)
    with pytest.raises(DomainError, match=f"Records {a.pk} and {b.pk} were marked as not"):
        services_possible.possible_confirm(pair=bc, user=lead)
    assert Record.objects.get(pk=b.pk).duplicate_of_id is None
    assert PossibleDuplicate.objects.get(pk=bc.pk).status == "open"


def test_a_manual_merge_of_a_pair_marked_not_duplicates_is_refused_until_undone(review, lead, pair):
    a, b = Record.objects.get(pk=pair.record_a_id), Record.objects.get(pk=pair.record_b_id)
    services_possible.possible_separate(pair=pair, user=lead)
    with pytest.raises(DomainError, match=f"Records {a.pk} and {b.pk} were marked as not dup"):
        services.dedup_merge(record=b, other=a, user=lead)
    assert Record.objects.get(pk=b.pk).duplicate_of_id is None
    services_possible.possible_undo(pair=PossibleDuplicate.objects.get(pk=pair.pk), user=lead)
    services.dedup_merge(record=b, other=a, user=lead)
    assert Record.objects.get(pk=b.pk).duplicate_of_id == a.pk


def test_a_manual_merge_that_would_rejoin_a_split_record_is_refused(review, lead):
    a, b, c = (RecordFactory(review=review) for _ in range(3))
    services.dedup_merge(record=b, other=a, user=lead)
    services.dedup_split(record=Record.objects.get(pk=b.pk), user=lead)
    services.dedup_merge(record=c, other=a, user=lead)
    with pytest.raises(DomainError, match=f"Records {b.pk} and {a.pk} were split apart"):
        services.dedup_merge(record=Record.objects.get(pk=b.pk), other=c, user=lead)
    assert Record.objects.get(pk=b.pk).duplicate_of_id is None


def test_there_is_nothing_to_undo_before_a_decision(review, lead, pair):
    with pytest.raises(DomainError, match="No possible duplicate has been decided"):
        services_possible.possible_undo_last(review=review, user=lead)


def test_the_comparison_flags_only_fields_that_really_differ(review):
    batch = ImportBatchFactory(review=review)
    a = _paper(review, TITLE, import_batch=batch, doi="10.1/ABC", pages="321-326")
    b = _paper(review, TITLE.upper(), import_batch=batch, doi="https://doi.org/10.1/abc")
    b.pages = "A39"
    rows = {row.label: row for row in selectors_possible.compare_records(a, b)}
    assert not rows["Title"].differs and not rows["DOI"].differs
    assert rows["Pages"].differs and (rows["Pages"].a, rows["Pages"].b) == ("321-326", "A39")


def _queue_state(review):
    pairs = dict(PossibleDuplicate.objects.filter(review=review).values_list("id", "status"))
    return _state(review), pairs


@pytest.mark.parametrize("seed", range(6))
def test_random_decisions_and_undos_restore_every_earlier_state(review, lead, seed):
    """Random confirm / separate / undo sequences over six records with every pair queued:
    each undo gives back exactly the state before its decision, and PRISMA always adds up."""
    import random

    rng = random.Random(seed)
    records = [_paper(review, f"{TITLE} {n}", duplicate_reason="") for n in range(6)]
    ids = [r.pk for r in records]
    services.possible_pairs_store(
        review_id=review.pk,
        pairs=[
            PossiblePair(a=a, b=b, reason="similar")
            for i, a in enumerate(ids)
            for b in ids[i + 1 :]
        ],
    )
    history = []
    for _step in range(30):
        open_pairs = list(selectors_possible.open_possible_duplicates(review=review))
        if history and (not open_pairs or rng.random() < 0.3):
            services_possible.possible_undo_last(review=review, user=lead)
            assert _queue_state(review) == history.pop()
        elif open_pairs:
            pair = rng.choice(open_pairs)
            history.append(_queue_state(review))
            decide = rng.choice(
                [services_possible.possible_confirm, services_possible.possible_separate]
            )
            try:
                decide(pair=pair, user=lead)
            except DomainError as exc:
                assert "were marked as not duplicates" in exc.message
                assert _queue_state(review) == history.pop()
        removed, screened, still_open = _prisma(review)
        assert removed + screened == len(ids)
        assert still_open == len(selectors_possible.open_possible_duplicates(review=review))
        roots = {pk: dup or pk for pk, (dup, _r) in _state(review).items()}
        for pair in PossibleDuplicate.objects.filter(review=review, status="separated"):
            assert roots[pair.record_a_id] != roots[pair.record_b_id]
    while history:
        services_possible.possible_undo_last(review=review, user=lead)
        assert _queue_state(review) == history.pop()
