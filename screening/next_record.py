"""Which record a reviewer screens next: the one place that decides it.

Views and APIs call `next_record` only. It serves records in the stage's order (a stopping
sample first when the lead started one, then by predicted relevance, at random, or in import
order) and hands each out through a lease (`ScreeningLease`): a record is served to at most as
many reviewers as it still needs votes, so in dual screening no third reviewer reads an abstract
they could not vote on. With a ranked order every reviewer would otherwise be sent the same top
record.

Concurrency (PostgreSQL): the candidate is picked with `SELECT ... FOR NO KEY UPDATE SKIP
LOCKED` on its Record row, so two reviewers asking at the same instant get different rows
instead of queueing behind each other; under that row lock the votes and the other reviewers'
live leases are counted again, and the lease is written before the lock is released. Every
lease is written under its record's lock, so the count cannot be overtaken. NO KEY UPDATE does
not conflict with the KEY SHARE lock a vote's INSERT takes on the record, so serving never
blocks voting.

Blind mode: what a reviewer is served depends on the ranking (trained on complete records only,
see services_ranking), on the number of slots taken (votes and leases alike, so a vote looks
exactly like the lease it replaces) and on their own skips, never on another reviewer's verdict.
"""

import hashlib
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from reviewapp.models import Review
from screening import selectors
from screening.models import (
    Decision,
    Record,
    ScreeningItem,
    ScreeningLease,
    StageSettings,
    StopSample,
)

LEASE_SECONDS = 300
# Candidates tried under SKIP LOCKED before giving up for this request (they were all taken
# between the pick and the lock: only under a storm of concurrent requests).
MAX_TRIES = 8
SAMPLE_CHUNK = 200


def next_record(*, review: Review, stage: str, reviewer: Any) -> Record | None:
    """The record the reviewer should screen now, leased to them; None when nothing is left
    for them (every remaining record is complete, voted by them, or taken by others)."""
    settings = selectors.stage_settings(review=review, stage=stage)
    now = timezone.now()
    with transaction.atomic():
        held = _held(review, stage, reviewer, now)
        if held is not None:
            return held
        for _ in range(MAX_TRIES):
            candidate = _pick(review, stage, reviewer, settings, now, include_skipped=False)
            if candidate is None:
                candidate = _pick(review, stage, reviewer, settings, now, include_skipped=True)
            if candidate is None:
                return None
            record = _lock(candidate)
            if record is not None and _has_room(record, stage, reviewer, settings, now):
                _lease(record, stage, reviewer, now)
                return record
    return None


def lease_renew(*, review: Review, stage: str, reviewer: Any, record_id: int) -> bool:
    """Keep the reviewer's lease alive while the page is open (the page's heartbeat)."""
    expires = timezone.now() + timedelta(seconds=LEASE_SECONDS)
    return bool(
        ScreeningLease.objects.filter(
            review=review, stage=stage, reviewer=reviewer, record_id=record_id, skipped=False
        ).update(expires_at=expires)
    )


def _to_screen(review: Review, stage: str, reviewer: Any) -> QuerySet[Record]:
    return selectors.screening_queue(
        review=review, stage=stage, reviewer=reviewer, queue="to_screen"
    )


def _held(review: Review, stage: str, reviewer: Any, now: Any) -> Record | None:
    """The record already leased to this reviewer (a reload serves the same record)."""
    mine = ScreeningLease.objects.filter(
        review=review, stage=stage, reviewer=reviewer, skipped=False
    )
    lease = mine.filter(expires_at__gt=now).order_by("-created_at").first()
    if lease is not None:
        record = (
            _to_screen(review, stage, reviewer)
            .filter(pk=lease.record_id)
            .select_related("import_batch")
            .first()
        )
        if record is not None:
            mine.filter(pk=lease.pk).update(expires_at=now + timedelta(seconds=LEASE_SECONDS))
            return record
    # Expired, or the record was completed meanwhile: free the slot.
    mine.delete()
    return None


def _taken(stage: str, reviewer: Any, now: Any) -> Any:
    """Slots taken on a record: its votes plus the live leases of other reviewers."""
    votes = ScreeningItem.objects.filter(record=OuterRef("pk"), stage=stage).values("votes")[:1]
    leases = (
        ScreeningLease.objects.filter(
            record=OuterRef("pk"), stage=stage, skipped=False, expires_at__gt=now
        )
        .exclude(reviewer=reviewer)
        .order_by()
        .values("record")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(votes, output_field=IntegerField()), Value(0)) + Coalesce(
        Subquery(leases, output_field=IntegerField()), Value(0)
    )


def _available(
    review: Review,
    stage: str,
    reviewer: Any,
    settings: StageSettings,
    now: Any,
    include_skipped: bool,
) -> QuerySet[Record]:
    records = _to_screen(review, stage, reviewer).alias(taken=_taken(stage, reviewer, now))
    records = records.filter(taken__lt=settings.reviewers_required)
    skipped = ScreeningLease.objects.filter(
        record=OuterRef("pk"), stage=stage, reviewer=reviewer, skipped=True
    )
    if not include_skipped:
        records = records.exclude(Q(pk__in=skipped.values("record_id")))
    return records


def _pick(
    review: Review,
    stage: str,
    reviewer: Any,
    settings: StageSettings,
    now: Any,
    *,
    include_skipped: bool,
) -> int | None:
    records = _available(review, stage, reviewer, settings, now, include_skipped)
    sample = (
        StopSample.objects.filter(review=review, stage=stage, closed_at__isnull=True)
        .values_list("record_ids", flat=True)
        .first()
    )
    if sample:
        found = _first_of(records, sample)
        if found is not None:
            return found
    if settings.order == StageSettings.Order.IMPORT:
        return _first_id(records.order_by("id"))
    if settings.order == StageSettings.Order.RELEVANCE:
        ranked = records.filter(ranks__review=review, ranks__stage=stage).order_by("ranks__rank")
        found = _first_id(ranked)
        if found is not None:
            return found
        # Not trained yet, or only records imported since the last training are left.
    return _random(review, stage, reviewer, records)


def _first_id(records: QuerySet[Record]) -> int | None:
    return records.values_list("id", flat=True).first()


def _first_of(records: QuerySet[Record], ordered_ids: list[int]) -> int | None:
    """The first of `ordered_ids` (the stopping sample's random order) still available."""
    for start in range(0, len(ordered_ids), SAMPLE_CHUNK):
        chunk = ordered_ids[start : start + SAMPLE_CHUNK]
        available = set(records.filter(id__in=chunk).values_list("id", flat=True))
        for record_id in chunk:
            if record_id in available:
                return record_id
    return None


def _random(review: Review, stage: str, reviewer: Any, records: QuerySet[Record]) -> int | None:
    """A pseudo-random starting point in the id range, reseeded by each decision the reviewer
    makes, then the first available record from there (wrapping around): an index range scan
    instead of sorting the whole review, and stable across reloads of the page."""
    key = f"screening-id-range:{review.pk}:{review.created_at.timestamp()}"
    bounds = cache.get(key)
    if bounds is None or bounds["low"] is None:
        bounds = Record.objects.filter(review=review).aggregate(low=Min("id"), high=Max("id"))
        # Stale bounds after an import only skew where the scan starts: it wraps around.
        cache.set(key, bounds, timeout=60)
    if bounds["low"] is None:
        return None
    done = Decision.objects.filter(review=review, stage=stage, reviewer=reviewer).count()
    seed = f"{review.pk}:{stage}:{reviewer.pk}:{done}".encode()
    span = bounds["high"] - bounds["low"] + 1
    pivot = bounds["low"] + int.from_bytes(hashlib.sha256(seed).digest()[:8], "big") % span
    records = records.order_by("id")
    found = _first_id(records.filter(id__gte=pivot))
    return found if found is not None else _first_id(records.filter(id__lt=pivot))


def _lock(record_id: int) -> Record | None:
    """The record's row, locked; None when another request holds it (SKIP LOCKED)."""
    return (
        Record.objects.select_for_update(skip_locked=True, no_key=True, of=("self",))
        .select_related("import_batch")
        .filter(pk=record_id)
        .first()
    )


def _has_room(record: Record, stage: str, reviewer: Any, settings: StageSettings, now: Any) -> bool:
    """Checked again under the record's lock, in ONE statement: votes are written without the
    record's lock (a vote deletes its lease in the same transaction), so two separate reads
    could see the lease gone but not yet the vote, and over-serve the record."""
    complete = ScreeningItem.objects.filter(record=OuterRef("pk"), stage=stage).exclude(
        status=ScreeningItem.Status.OPEN
    )
    mine = Decision.objects.filter(record=OuterRef("pk"), stage=stage, reviewer=reviewer)
    row = (
        Record.objects.filter(pk=record.pk)
        .annotate(taken=_taken(stage, reviewer, now), done=Exists(complete), voted=Exists(mine))
        .values_list("taken", "done", "voted")
        .first()
    )
    if row is None:
        return False
    taken, done, voted = row
    return not done and not voted and taken < settings.reviewers_required


def _lease(record: Record, stage: str, reviewer: Any, now: Any) -> None:
    """One INSERT ... ON CONFLICT DO UPDATE (a skipped lease of the same reviewer becomes a
    live one; the same reviewer's other tab leasing it at this instant is no error)."""
    lease = ScreeningLease(
        review_id=record.review_id,
        record=record,
        stage=stage,
        reviewer=reviewer,
        expires_at=now + timedelta(seconds=LEASE_SECONDS),
        skipped=False,
        created_at=now,
    )
    ScreeningLease.objects.bulk_create(
        [lease],
        update_conflicts=True,
        unique_fields=["record", "stage", "reviewer"],
        update_fields=["expires_at", "skipped", "created_at"],
    )
