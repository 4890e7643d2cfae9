"""Which record a reviewer screens next: the one place that decides it.

Views and APIs call `next_record` only, so ranking by predicted relevance (active learning) can
replace the body of this module without touching them.
"""

import hashlib
from typing import Any

from django.core.cache import cache
from django.db.models import Max, Min

from reviewapp.models import Review
from screening import selectors
from screening.models import Decision, Record, StageSettings


def next_record(*, review: Review, stage: str, reviewer: Any) -> Record | None:
    """The next record in the reviewer's 'to screen' queue, in the order the lead chose.

    Random order is a pseudo-random starting point in the id range, reseeded by each decision
    the reviewer makes, then the first eligible record from there (wrapping around): an index
    range scan instead of sorting the whole review, and stable across reloads of the page.
    """
    settings = selectors.stage_settings(review=review, stage=stage)
    queue = selectors.screening_queue(
        review=review, stage=stage, reviewer=reviewer, queue="to_screen"
    ).order_by("id")
    if settings.order != StageSettings.Order.RANDOM:
        return queue.select_related("import_batch").first()
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
    found = queue.filter(id__gte=pivot).select_related("import_batch").first()
    return found or queue.filter(id__lt=pivot).select_related("import_batch").first()
