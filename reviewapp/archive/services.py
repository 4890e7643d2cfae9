"""Writes for review archives: request a download, build it, import one."""

from __future__ import annotations

import hashlib
import logging
import tempfile
from typing import IO, Any

from django.core.cache import cache
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from reviewapp.archive.exporter import write_archive
from reviewapp.archive.format import ArchiveError
from reviewapp.archive.models import ArchiveExport
from reviewapp.common.locks import run_lock, survives_crash
from reviewapp.common.outbox import outbox_enqueue
from reviewapp.models import Review

logger = logging.getLogger(__name__)


def _progress_key(export_id: int) -> str:
    return f"archive-progress:{export_id}"


def archive_progress_get(export_id: int) -> dict[str, Any] | None:
    return cache.get(_progress_key(export_id))


def _progress_set(export_id: int, percent: int, stage: str) -> None:
    cache.set(_progress_key(export_id), {"percent": percent, "stage": stage}, timeout=3600)


@transaction.atomic
def archive_request(*, review: Review, requested_by: Any) -> ArchiveExport:
    """Queue a fresh archive of the review, or return the one already being built (a double
    click, or a second lead asking at the same moment)."""
    from reviewapp.archive.tasks import build_archive_task

    Review.all_objects.select_for_update().get(pk=review.pk)  # one request at a time
    pending = ArchiveExport.objects.filter(
        review=review, status__in=[ArchiveExport.Status.QUEUED, ArchiveExport.Status.RUNNING]
    ).first()
    if pending is not None:
        return pending
    export = ArchiveExport.objects.create(review=review, requested_by=requested_by)
    _progress_set(export.pk, 0, "queued")
    outbox_enqueue(build_archive_task.name, export.pk)
    return export


def archive_build(*, export_id: int) -> ArchiveExport:
    """Write the archive to storage. Idempotent: a redelivered task finds it claimed by a live
    run (`run_lock`), or finished; one left "running" by a killed worker is built again."""
    with run_lock("archive", export_id) as mine:
        claimable = [ArchiveExport.Status.QUEUED]
        if survives_crash():
            claimable.append(ArchiveExport.Status.RUNNING)
        claimed = mine and ArchiveExport.objects.filter(pk=export_id, status__in=claimable).update(
            status=ArchiveExport.Status.RUNNING
        )
        export = ArchiveExport.objects.select_related("review", "requested_by").get(pk=export_id)
        if not claimed:
            return export
        return _build_claimed(export)


def _build_claimed(export: ArchiveExport) -> ArchiveExport:
    export_id = export.pk
    try:
        with tempfile.TemporaryFile() as tmp:
            summary = write_archive(
                review_id=export.review_id,
                out=tmp,
                exported_by=export.requested_by,
                progress=lambda percent, stage: _progress_set(export_id, percent, stage),
            )
            size = tmp.tell()
            tmp.seek(0)
            digest = _sha256(tmp)
            tmp.seek(0)
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            name = f"{slugify(export.review.title)[:60] or 'review'}-{stamp}.zip"
            export.file.save(name, File(tmp, name=name), save=False)
    except ArchiveError as exc:
        return _fail(export, exc.message)
    except Exception as exc:
        # Storage or database trouble: the lead sees it failed (and can ask again) instead of
        # a progress bar that never ends; the traceback goes to the log.
        logger.exception("archive %s failed", export_id)
        return _fail(export, f"the archive could not be written ({exc}); try again")
    export.status = ArchiveExport.Status.READY
    export.size = size
    export.sha256 = digest
    export.rows = summary.total_rows
    export.finished_at = timezone.now()
    export.save()
    _progress_set(export_id, 100, "ready")
    _drop_older(export)
    return export


def _sha256(fh: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := fh.read(1024 * 1024):
        digest.update(chunk)
    return digest.hexdigest()


def _fail(export: ArchiveExport, message: str) -> ArchiveExport:
    export.status = ArchiveExport.Status.FAILED
    export.error = message
    export.finished_at = timezone.now()
    export.save(update_fields=["status", "error", "finished_at"])
    _progress_set(export.pk, 100, "failed")
    return export


def _drop_older(export: ArchiveExport) -> None:
    """Only the latest archive is kept: an older one is a stale copy of the team's data."""
    older = ArchiveExport.objects.filter(review_id=export.review_id, pk__lt=export.pk).exclude(
        status__in=[ArchiveExport.Status.QUEUED, ArchiveExport.Status.RUNNING]
    )
    for old in older:
        if old.file:
            old.file.delete(save=False)
        old.delete()
