"""Write one review, with its history and files, to a zip archive (see docs/archive.md)."""

from __future__ import annotations

import hashlib
import json
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO, Any

import django
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from reviewapp.archive.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST,
    USERS_MEMBER,
    ArchiveError,
    data_member,
    dump_value,
)
from reviewapp.archive.scope import archived_models, chunks, file_fields, review_rows
from reviewapp.models import Review

Progress = Callable[[int, str], None]
COPY_CHUNK = 1024 * 1024
STORED = zipfile.ZIP_STORED


@dataclass
class ExportSummary:
    review_id: int
    title: str
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    file_bytes: int = 0
    missing_files: list[str] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


class _HashingWriter:
    """Counts and hashes what is written to a zip member."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.raw.write(data)
        self.sha256.update(data)
        self.size += len(data)


def _migrations() -> dict[str, str]:
    """The latest applied migration per app: what schema the rows were written with."""
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder.Migration.objects.values_list("app", "name").order_by(
        "app", "name"
    ):
        latest[app] = name
    return latest


def write_archive(
    *, review_id: int, out: IO[bytes], exported_by: Any = None, progress: Progress | None = None
) -> ExportSummary:
    """Write the review to `out` (a binary file). Reads one consistent snapshot."""
    report = progress or (lambda percent, stage: None)
    with transaction.atomic():
        _snapshot_isolation()
        return _write(review_id, out, exported_by, report)


def _snapshot_isolation() -> None:
    # Every query of the export sees the database as of its first one, so a vote cast while a
    # big review is being written cannot leave a row pointing at one that is not in the file.
    # Inside an outer transaction (tests, a caller's atomic block) that one's snapshot rules.
    if connection.vendor != "postgresql" or len(connection.atomic_blocks) > 1:
        return
    with connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def _write(review_id: int, out: IO[bytes], exported_by: Any, report: Progress) -> ExportSummary:
    review = Review.all_objects.filter(pk=review_id).first()
    if review is None:
        raise ArchiveError(f"There is no review #{review_id}.")
    summary = ExportSummary(review_id=review.pk, title=review.title)
    report(2, "finding the review's rows")
    found = review_rows(review.pk)
    entries = archived_models()
    total = sum(len(found.pks[e.label]) for e in entries) or 1
    written = 0
    user_ids: set[Any] = set()
    file_names: set[str] = set()
    models_manifest = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for entry in entries:
            pks = found.pks[entry.label]
            fields = entry.concrete_fields()
            attnames = [f.attname for f in fields]
            pk_name = entry.model._meta.pk.attname
            files = file_fields(entry)
            member = data_member(entry.label)
            with zf.open(member, "w", force_zip64=True) as raw:
                sink = _HashingWriter(raw)
                for batch in chunks(pks):
                    rows = entry.model._base_manager.filter(**{f"{pk_name}__in": batch})
                    for values in rows.order_by(pk_name).values_list(*attnames):
                        row = {
                            name: dump_value(f, v)
                            for name, f, v in zip(attnames, fields, values, strict=True)
                        }
                        user_ids.update(row[u] for u in entry.user_refs if row[u] is not None)
                        file_names.update(row[n] for n in files if row[n])
                        sink.write(json.dumps(row, ensure_ascii=False).encode() + b"\n")
                    written += len(batch)
                    report(5 + 75 * written // total, f"writing {entry.label}")
            summary.rows[entry.label] = len(pks)
            models_manifest.append(
                {
                    "label": entry.label,
                    "historical": entry.is_historical,
                    "rows": len(pks),
                    "member": member,
                    "size": sink.size,
                    "sha256": sink.sha256.hexdigest(),
                }
            )
        users_entry = _write_users(zf, user_ids)
        report(82, "copying files")
        files_manifest = []
        for number, name in enumerate(sorted(file_names), 1):
            if not default_storage.exists(name):
                summary.missing_files.append(name)
                continue
            member = f"files/{number:06d}"
            info = zipfile.ZipInfo(member, date_time=time.gmtime()[:6])
            # PDFs are compressed already: storing them is as small and much faster.
            info.compress_type = STORED if name.lower().endswith(".pdf") else zipfile.ZIP_DEFLATED
            with (
                default_storage.open(name, "rb") as src,
                zf.open(info, "w", force_zip64=True) as dst,
            ):
                sink = _HashingWriter(dst)
                while chunk := src.read(COPY_CHUNK):
                    sink.write(chunk)
            files_manifest.append(
                {
                    "name": name,
                    "basename": PurePosixPath(name).name,
                    "member": member,
                    "size": sink.size,
                    "sha256": sink.sha256.hexdigest(),
                }
            )
            summary.files += 1
            summary.file_bytes += sink.size
        manifest = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "exported_at": timezone.now().isoformat(),
            "exported_by": exported_by.get_username() if exported_by is not None else None,
            "software": {"django": django.get_version(), "migrations": _migrations()},
            "review": {"id": review.pk, "title": review.title},
            "models": models_manifest,
            "users": users_entry,
            "files": files_manifest,
            "missing_files": summary.missing_files,
        }
        zf.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
    report(100, "done")
    return summary


USER_COLUMNS = ("first_name", "last_name", "is_active")


def _write_users(zf: zipfile.ZipFile, user_ids: set[Any]) -> dict[str, Any]:
    """Who the rows name: username, e-mail and name only (never a password or a token)."""
    user_model = get_user_model()
    email_field = user_model.get_email_field_name()
    users = []
    for batch in chunks(sorted(user_ids)):
        for user in user_model._base_manager.filter(pk__in=batch).order_by("pk"):
            users.append(
                {
                    "id": user.pk,
                    "username": user.get_username(),
                    "email": getattr(user, email_field, "") or "",
                    **{c: getattr(user, c) for c in USER_COLUMNS if hasattr(user, c)},
                }
            )
    data = json.dumps(users, indent=1, ensure_ascii=False).encode()
    zf.writestr(USERS_MEMBER, data)
    return {
        "member": USERS_MEMBER,
        "rows": len(users),
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
