"""Reads for review archives."""

from __future__ import annotations

from typing import Any

from reviewapp.archive.models import ArchiveExport
from reviewapp.archive.services import archive_progress_get
from reviewapp.models import Review


def archive_latest(*, review: Review) -> ArchiveExport | None:
    return ArchiveExport.objects.filter(review=review).first()


def archive_status(*, review: Review) -> dict[str, Any]:
    """What the settings page and the API show: none, queued/running with progress, ready, or
    failed with the reason."""
    export = archive_latest(review=review)
    if export is None:
        return {"status": "none", "percent": 0, "stage": "", "size": 0, "rows": 0, "error": ""}
    progress = archive_progress_get(export.pk) or {}
    return {
        "id": export.pk,
        "status": export.status,
        "percent": 100 if not export.is_pending else int(progress.get("percent", 0)),
        "stage": str(progress.get("stage", "")) if export.is_pending else "",
        "size": export.size,
        "rows": export.rows,
        "sha256": export.sha256,
        "error": export.error,
        "created_at": export.created_at,
        "finished_at": export.finished_at,
    }
