"""Which record a reviewer screens next: the one place that decides it.

Views and APIs call `next_record` only. It serves records in the stage's order (a stopping
sample first when the lead started one, then by predicted relevance, at random, or in import
order) and hands each out through a lease (`ScreeningLease`): a record is served to at most as
many reviewers as it still needs votes, so in dual screening no third reviewer reads an abstract
they could not vote on. With a ranked order every reviewer would otherwise be sent the same top
record.

It runs on every key a screener presses, so it is written as a few parameterised SQL
statements rather than ORM expressions (compiling the ORM's subqueries cost more CPU than
PostgreSQL spent running them): one that renews the lease the reviewer already holds (or drops
it) and says whether a stopping sample is open, one that picks and claims a candidate, one that
checks the candidate's room again and writes the lease, and one that loads the record.

Concurrency (PostgreSQL): the candidate is picked with `SELECT ... FOR NO KEY UPDATE OF r SKIP
LOCKED` on its Record row, so two reviewers asking at the same instant get different rows
instead of queueing behind each other. The lease is written by a second statement, under that
row lock and with its own snapshot (READ COMMITTED), which counts the votes and the other
reviewers' live leases again: every lease is written under its record's lock, so whoever held
the lock before has committed, and the count cannot be overtaken. Votes are written without the
record's lock (a vote deletes its lease in the same transaction), which is why the recount is
ONE statement: two separate reads could see the lease gone but not yet the vote. NO KEY UPDATE
does not conflict with the KEY SHARE lock a vote's INSERT takes on the record, so serving never
blocks voting.

Blind mode: what a reviewer is served depends on the ranking (trained on complete records only,
see services_ranking), on the number of slots taken (votes and leases alike, so a vote looks
exactly like the lease it replaces) and on their own skips, never on another reviewer's verdict.
"""

import hashlib
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from reviewapp.models import Review
from screening import selectors
from screening.models import Record, ScreeningLease, Stage, StageSettings, Verdict

LEASE_SECONDS = 300
# Candidates tried before giving up for this request: a candidate fails the recount under its
# lock only when another reviewer leased or voted on it between the pick and the lock.
MAX_TRIES = 8
_NO_END = 2**63 - 1  # the largest bigint: an id range open at the top

# The reviewer's "to screen" queue (selectors.screening_queue) for the record `r`: kept after
# deduplication, not voted by the reviewer, not complete; at full text also included at title
# and abstract and not marked "not retrieved". Written as NOT EXISTS, never as a join to the
# records' items: the planner then walks the order's index from its start and stops at the
# first row (a join made it plan a hash join over the whole review, then a sort).
_TO_SCREEN = """
    r.review_id = %(review)s AND r.duplicate_of_id IS NULL
    AND NOT EXISTS (SELECT 1 FROM screening_screeningitem c WHERE c.record_id = r.id
                    AND c.stage = %(stage)s AND c.status <> 'open')
    AND NOT EXISTS (SELECT 1 FROM screening_decision d
                    WHERE d.record_id = r.id AND d.stage = %(stage)s AND d.reviewer_id = %(me)s)
"""
_FULL_TEXT = """
    AND EXISTS (SELECT 1 FROM screening_screeningitem t WHERE t.record_id = r.id
                AND t.stage = %(ta)s AND t.final_verdict = %(include)s)
    AND NOT EXISTS (SELECT 1 FROM screening_fulltextreport f WHERE f.record_id = r.id
                    AND f.not_retrieved_reason <> '')
"""
# Slots taken on `r`: its votes plus the live leases of other reviewers.
_HAS_ROOM = """
    AND COALESCE((SELECT v.votes FROM screening_screeningitem v
                  WHERE v.record_id = r.id AND v.stage = %(stage)s), 0)
      + (SELECT count(*) FROM screening_screeninglease o
         WHERE o.record_id = r.id AND o.stage = %(stage)s AND NOT o.skipped
           AND o.expires_at > %(now)s AND o.reviewer_id <> %(me)s) < %(required)s
"""
_NOT_SKIPPED = """
    AND NOT EXISTS (SELECT 1 FROM screening_screeninglease s WHERE s.record_id = r.id
                    AND s.stage = %(stage)s AND s.reviewer_id = %(me)s AND s.skipped)
"""
_CLAIM = "LIMIT 1 FOR NO KEY UPDATE OF r SKIP LOCKED"

# The lease the reviewer holds, renewed if its record is still theirs to screen; otherwise every
# live lease of theirs is dropped (expired, or the record was completed meanwhile: free the
# slot). Also: is a stopping sample open, and how many votes the reviewer has cast (the random
# order's seed).
_HELD = """
WITH latest AS (
    SELECT l.id, l.record_id FROM screening_screeninglease l
    WHERE l.review_id = %(review)s AND l.stage = %(stage)s AND l.reviewer_id = %(me)s
      AND NOT l.skipped AND l.expires_at > %(now)s
    ORDER BY l.created_at DESC LIMIT 1
), renewed AS (
    UPDATE screening_screeninglease SET expires_at = %(expires)s
    WHERE id = (SELECT latest.id FROM latest JOIN screening_record r ON r.id = latest.record_id
                WHERE {to_screen})
    RETURNING record_id
), dropped AS (
    DELETE FROM screening_screeninglease
    WHERE review_id = %(review)s AND stage = %(stage)s AND reviewer_id = %(me)s AND NOT skipped
      AND NOT EXISTS (SELECT 1 FROM renewed)
)
SELECT (SELECT record_id FROM renewed),
       EXISTS (SELECT 1 FROM screening_stopsample
               WHERE review_id = %(review)s AND stage = %(stage)s AND closed_at IS NULL),
       (SELECT count(*) FROM screening_decision
        WHERE review_id = %(review)s AND stage = %(stage)s AND reviewer_id = %(me)s)
"""

_PICK_SAMPLE = """
SELECT r.id FROM screening_stopsample p
CROSS JOIN LATERAL jsonb_array_elements_text(p.record_ids) WITH ORDINALITY AS x(id, n)
JOIN screening_record r ON r.id = x.id::bigint
WHERE p.review_id = %(review)s AND p.stage = %(stage)s AND p.closed_at IS NULL AND {filters}
ORDER BY x.n {claim}
"""
_PICK_RANKED = """
SELECT r.id FROM screening_recordrank k JOIN screening_record r ON r.id = k.record_id
WHERE k.review_id = %(review)s AND k.stage = %(stage)s AND {filters}
ORDER BY k.rank {claim}
"""
_PICK_BY_ID = """
SELECT r.id FROM screening_record r
WHERE {filters} AND r.id >= %(low)s AND r.id < %(high)s
ORDER BY r.id {claim}
"""

# Under the candidate's lock, with a new snapshot: its room counted again, and the lease
# written in the same statement (a skipped lease of the same reviewer becomes a live one; the
# same reviewer's other tab leasing it at this instant is no error).
_LEASE = """
INSERT INTO screening_screeninglease
    (review_id, record_id, stage, reviewer_id, expires_at, skipped, created_at)
SELECT %(review)s, r.id, %(stage)s, %(me)s, %(expires)s, false, %(now)s
FROM screening_record r
WHERE r.id = %(record)s AND {to_screen} {has_room}
ON CONFLICT (record_id, stage, reviewer_id)
DO UPDATE SET expires_at = EXCLUDED.expires_at, skipped = false, created_at = EXCLUDED.created_at
RETURNING record_id
"""


def next_record(
    *, review: Review, stage: str, reviewer: Any, settings: StageSettings | None = None
) -> Record | None:
    """The record the reviewer should screen now, leased to them; None when nothing is left
    for them (every remaining record is complete, voted by them, or taken by others).
    `settings`: the stage's settings when the caller has them already."""
    if settings is None:
        settings = selectors.stage_settings(review=review, stage=stage)
    now = timezone.now()
    params = {
        "review": review.pk,
        "stage": stage,
        "me": reviewer.pk,
        "now": now,
        "expires": now + timedelta(seconds=LEASE_SECONDS),
        "required": settings.reviewers_required,
        "ta": Stage.TITLE_ABSTRACT,
        "include": Verdict.INCLUDE,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_HELD.format(to_screen=_to_screen(stage)), params)
        held, sampling, done = cursor.fetchone()
        record_id = held
        for _ in range(1 if held else MAX_TRIES):
            if record_id is None:
                record_id = _claim(cursor, review, settings, params, sampling, done)
            if record_id is None:
                return None
            if held or _lease(cursor, stage, params, record_id):
                return Record.objects.select_related("import_batch").get(pk=record_id)
            record_id = None
    return None


def lease_renew(*, review: Review, stage: str, reviewer: Any, record_id: int) -> bool:
    """Keep the reviewer's lease alive while the page is open (the page's heartbeat)."""
    expires = timezone.now() + timedelta(seconds=LEASE_SECONDS)
    return bool(
        ScreeningLease.objects.filter(
            review=review, stage=stage, reviewer=reviewer, record_id=record_id, skipped=False
        ).update(expires_at=expires)
    )


def _to_screen(stage: str) -> str:
    return _TO_SCREEN + (_FULL_TEXT if stage == Stage.FULL_TEXT else "")


def _claim(
    cursor: Any,
    review: Review,
    settings: StageSettings,
    params: dict[str, Any],
    sampling: bool,
    done: int,
) -> int | None:
    """The first available record in the stage's order, its row locked (SKIP LOCKED: rows
    another request is claiming are passed over). Records the reviewer skipped come last."""
    for include_skipped in (False, True):
        filters = (
            _to_screen(params["stage"]) + _HAS_ROOM + ("" if include_skipped else _NOT_SKIPPED)
        )
        found = _claim_in_order(cursor, review, settings, params, sampling, done, filters)
        if found is not None:
            return found
    return None


def _claim_in_order(
    cursor: Any,
    review: Review,
    settings: StageSettings,
    params: dict[str, Any],
    sampling: bool,
    done: int,
    filters: str,
) -> int | None:
    def first(sql: str, **extra: Any) -> int | None:
        cursor.execute(sql.format(filters=filters, claim=_CLAIM), params | extra)
        row = cursor.fetchone()
        return int(row[0]) if row else None

    found = first(_PICK_SAMPLE) if sampling else None
    if found is None and settings.order == StageSettings.Order.IMPORT:
        return first(_PICK_BY_ID, low=0, high=_NO_END)
    if found is None and settings.order == StageSettings.Order.RELEVANCE:
        # None: not trained yet, or only records imported since the last training are left.
        found = first(_PICK_RANKED)
    if found is None:
        pivot = _pivot(review, params["stage"], params["me"], done)
        if pivot is None:
            return None
        found = first(_PICK_BY_ID, low=pivot, high=_NO_END)
        if found is None:
            found = first(_PICK_BY_ID, low=0, high=pivot)
    return found


def _pivot(review: Review, stage: str, reviewer_id: int, done: int) -> int | None:
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
    seed = f"{review.pk}:{stage}:{reviewer_id}:{done}".encode()
    span = bounds["high"] - bounds["low"] + 1
    pivot = bounds["low"] + int.from_bytes(hashlib.sha256(seed).digest()[:8], "big") % span
    return int(pivot)


def _lease(cursor: Any, stage: str, params: dict[str, Any], record_id: int) -> bool:
    sql = _LEASE.format(to_screen=_to_screen(stage), has_room=_HAS_ROOM)
    cursor.execute(sql, params | {"record": record_id})
    return cursor.fetchone() is not None
