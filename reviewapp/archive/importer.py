"""Restore a review from an archive: new primary keys, every reference renumbered, all or nothing.

The archive is checked in full (format version, every member's size and SHA-256, no member
that the manifest does not name) before the database is touched. Then, in one transaction:
users are matched or created, every id the archive names is given a fresh one from its table's
sequence (in the same order, so the review reads the same), rows are inserted with their
original timestamps, and files are stored under the new review's paths. Any failure rolls the
transaction back and deletes the files already stored: nothing of a failed import remains.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from reviewapp.archive.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST,
    USERS_MEMBER,
    ArchiveError,
    load_value,
)
from reviewapp.archive.jsonrefs import rewrite_for
from reviewapp.archive.scope import ScopedModel, archived_models, file_fields
from reviewapp.models import Membership, Review
from screening.services_ranking import ranking_retrain_now

INSERT_BATCH = 500
READ_CHUNK = 1024 * 1024


@dataclass
class ImportSummary:
    review_id: int
    title: str
    source_review_id: int
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    users_matched: dict[str, str] = field(default_factory=dict)  # archived -> local username
    users_created: list[str] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def read_archive(
    source: str | IO[bytes], *, imported_by: Any = None, add_lead: Any = None
) -> ImportSummary:
    """Import the archive as a new review and return what was stored.

    `add_lead` (a user) becomes a lead of the imported review if the archive does not already
    make them one. Raises ArchiveError, with nothing stored, on any problem.
    """
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ArchiveError(
            f"This is not a review archive (not a readable zip file: {exc})."
        ) from exc
    with zf:
        manifest = _manifest(zf)
        _verify(zf, manifest)
        plan = _plan(manifest)
        stored: list[str] = []
        try:
            with transaction.atomic():
                summary = _import(zf, manifest, plan, stored, imported_by, add_lead)
        except ArchiveError:
            _delete_files(stored)
            raise
        except (DatabaseError, ValidationError, ValueError, TypeError, KeyError) as exc:
            _delete_files(stored)
            raise ArchiveError(
                f"The archive could not be imported and nothing was stored: {exc}"
            ) from exc
        except BaseException:
            _delete_files(stored)
            raise
    return summary


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


# --- checks before the database is touched ---------------------------------------------------


def _manifest(zf: zipfile.ZipFile) -> dict[str, Any]:
    try:
        raw = zf.read(MANIFEST)
    except KeyError as exc:
        raise ArchiveError("This is not a review archive: it has no manifest.json.") from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveError(
            f"The archive is corrupt: manifest.json cannot be read ({exc})."
        ) from exc
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise ArchiveError("The archive is corrupt: manifest.json is not valid JSON.") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ArchiveError("This is not a review archive (its manifest names another format).")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ArchiveError("The archive's manifest has no valid format_version.")
    if version > FORMAT_VERSION:
        raise ArchiveError(
            f"This archive is format version {version}; this installation reads versions up "
            f"to {FORMAT_VERSION}. Upgrade reviewapp to import it."
        )
    for key in ("review", "models", "users", "files"):
        if key not in manifest:
            raise ArchiveError(f"The archive's manifest lacks '{key}'.")
    return manifest


def _declared_members(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    entries = [*manifest["models"], manifest["users"], *manifest["files"]]
    for entry in entries:
        if not isinstance(entry, dict) or not {"member", "size", "sha256"} <= entry.keys():
            raise ArchiveError("The archive's manifest is malformed (a member lacks its hash).")
    return entries


def _verify(zf: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
    """Every member is named by the manifest, and has the size and SHA-256 it names."""
    declared = _declared_members(manifest)
    names = {e["member"] for e in declared}
    present = set(zf.namelist()) - {MANIFEST}
    if present - names:
        extra = ", ".join(sorted(present - names)[:3])
        raise ArchiveError(f"The archive has been altered: it holds unexpected members ({extra}).")
    if names - present:
        missing = ", ".join(sorted(names - present)[:3])
        raise ArchiveError(f"The archive is incomplete: {missing} is missing.")
    for entry in declared:
        digest = hashlib.sha256()
        size = 0
        try:
            with zf.open(entry["member"]) as fh:
                while chunk := fh.read(READ_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ArchiveError(f"The archive is corrupt: {entry['member']} ({exc}).") from exc
        if size != entry["size"] or digest.hexdigest() != entry["sha256"]:
            raise ArchiveError(
                f"The archive is corrupt or was altered: {entry['member']} does not match the "
                "checksum in its manifest."
            )


@dataclass
class _Step:
    entry: ScopedModel
    member: str
    fields: dict[str, models.Field[Any, Any]]
    pk_name: str


def _plan(manifest: dict[str, Any]) -> list[_Step]:
    known = {s.label: s for s in archived_models()}
    steps = []
    for item in manifest["models"]:
        entry = known.get(item.get("label"))
        if entry is None:
            raise ArchiveError(
                f"The archive holds {item.get('label')!r}, which this installation does not "
                "have: it was written by a different version of reviewapp."
            )
        steps.append(
            _Step(
                entry=entry,
                member=item["member"],
                fields={f.attname: f for f in entry.concrete_fields()},
                pk_name=entry.model._meta.pk.attname,
            )
        )
    return steps


def _rows(zf: zipfile.ZipFile, step: _Step) -> Iterator[dict[str, Any]]:
    with zf.open(step.member) as fh:
        for number, line in enumerate(fh, 1):
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ArchiveError(f"{step.member} line {number} is not valid JSON.") from exc
            if not isinstance(row, dict):
                raise ArchiveError(f"{step.member} line {number} is not a row.")
            unknown = row.keys() - step.fields.keys()
            if unknown:
                raise ArchiveError(
                    f"{step.member} has column(s) {', '.join(sorted(unknown))} that "
                    f"{step.entry.label} does not have here: the archive comes from a newer "
                    "version of reviewapp."
                )
            if row.get(step.pk_name) is None:
                raise ArchiveError(f"{step.member} line {number} has no primary key.")
            yield row


# --- the import ----------------------------------------------------------------------------


class _Ids:
    """Old id -> new id per model, allocated in the old ids' order."""

    def __init__(self) -> None:
        self.seen: dict[type[models.Model], set[Any]] = {}
        self.new: dict[type[models.Model], dict[Any, Any]] = {}

    def note(self, model: type[models.Model], value: Any) -> Any:
        if value is not None:
            self.seen.setdefault(model, set()).add(value)
        return value

    def allocate(self) -> None:
        for model, old in self.seen.items():
            ordered = sorted(old, key=lambda v: (str(type(v)), v))
            self.new[model] = dict(zip(ordered, _new_ids(model, len(ordered)), strict=True))

    def __call__(self, model: type[models.Model], value: Any) -> Any:
        if value is None:
            return None
        return self.new[model][value]


def _new_ids(model: type[models.Model], count: int) -> list[Any]:
    pk = model._meta.pk
    if isinstance(pk, models.UUIDField):
        return [uuid.uuid4() for _ in range(count)]
    if not isinstance(pk, models.AutoField | models.BigAutoField | models.SmallAutoField):
        # A history model's copied key of a live model without a sequence, or a natural key.
        raise ArchiveError(f"{model._meta.label} has a primary key the archive cannot renumber.")
    if count == 0:
        return []
    table = connection.ops.quote_name(model._meta.db_table)
    column = str(pk.column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, column, count],
            )
            return sorted(r[0] for r in cursor.fetchall())
        # SQLite (development): take a block above the highest id and move the AUTOINCREMENT
        # counter past it, so the ids of deleted rows named by history stay reserved.
        cursor.execute(f"SELECT max({connection.ops.quote_name(column)}) FROM {table}")
        top = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [model._meta.db_table])
        seq = cursor.fetchone()
        start = max(top, seq[0] if seq else 0) + 1
        if seq:
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = %s WHERE name = %s",
                [start + count - 1, model._meta.db_table],
            )
        else:
            cursor.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)",
                [model._meta.db_table, start + count - 1],
            )
        return list(range(start, start + count))


def _import(
    zf: zipfile.ZipFile,
    manifest: dict[str, Any],
    plan: list[_Step],
    stored: list[str],
    imported_by: Any,
    add_lead: Any,
) -> ImportSummary:
    users, matched, created = _match_users(json.loads(zf.read(USERS_MEMBER)))
    ids = _Ids()
    ids.note(Review, manifest["review"]["id"])
    for step in plan:  # first pass: every id the archive names
        entry = step.entry
        for row in _rows(zf, step):
            ids.note(entry.model, row[step.pk_name])
            for ref in entry.refs:
                ids.note(ref.target, row.get(ref.attname))
            for column in step.fields:
                rewrite = rewrite_for(entry.live_model._meta.label_lower, column)
                if rewrite is not None and row.get(column) is not None:
                    rewrite(row[column], ids.note)
    ids.allocate()
    review_id = ids(Review, manifest["review"]["id"])
    files = _FileStore(zf, manifest, stored)
    summary = ImportSummary(
        review_id=review_id,
        title=str(manifest["review"].get("title", "")),
        source_review_id=manifest["review"]["id"],
        users_matched=matched,
        users_created=created,
    )
    # Live models before history, so a file keeps the name its live row gives it.
    for step in sorted(plan, key=lambda s: s.entry.is_historical):
        summary.rows[step.entry.label] = _insert(zf, step, ids, users, files)
    summary.files = len(stored)
    review = Review.all_objects.get(pk=review_id)
    _record_import(review, manifest, imported_by)
    if add_lead is not None:
        Membership.objects.update_or_create(
            review=review, user=add_lead, defaults={"is_lead": True}
        )
    # The ranking is derived data the archive leaves out; train it afresh from the votes.
    ranking_retrain_now(review=review)
    return summary


def _insert(
    zf: zipfile.ZipFile, step: _Step, ids: _Ids, users: dict[Any, Any], files: _FileStore
) -> int:
    entry = step.entry
    model = entry.model
    insert_fields = entry.concrete_fields()
    unique = [
        f
        for f in insert_fields
        if f.unique and not f.primary_key and not f.is_relation and not entry.is_historical
    ]
    refs = {r.attname: r.target for r in entry.refs}
    rewrites = {
        c: r
        for c in step.fields
        if (r := rewrite_for(entry.live_model._meta.label_lower, c)) is not None
    }
    file_columns = file_fields(entry)
    batch: list[models.Model] = []
    count = 0
    for row in _rows(zf, step):
        values: dict[str, Any] = {}
        for column, value in row.items():
            f = step.fields[column]
            if column == step.pk_name:
                value = ids(model, value)
            elif column in refs:
                value = ids(refs[column], value)
            elif column in entry.user_refs:
                value = _user(users, value, f, entry.label)
            elif column in rewrites and value is not None:
                value = rewrites[column](value, ids)
            values[column] = load_value(f, value)
        obj = model(**values)
        for f in unique:
            current = getattr(obj, f.attname)
            if (
                current not in (None, "")
                and model._base_manager.filter(**{f.attname: current}).exists()
            ):
                if not callable(f.default):
                    raise ArchiveError(
                        f"{entry.label}.{f.name} {current!r} is already used here and cannot "
                        "be renewed."
                    )
                setattr(obj, f.attname, f.default())
        for column in file_columns:
            name = getattr(obj, column)
            name = getattr(name, "name", name)
            if name:
                setattr(obj, column, files.store(str(name), entry, obj, column))
        batch.append(obj)
        if len(batch) >= INSERT_BATCH:
            _flush(model, batch, insert_fields)
            count += len(batch)
            batch = []
    _flush(model, batch, insert_fields)
    return count + len(batch)


def _flush(model: type[models.Model], batch: list[models.Model], fields: list[Any]) -> None:
    if batch:
        # QuerySet._insert with raw=True is how Model.save_base(raw=True) (and loaddata) store
        # a row as given: auto_now and auto_now_add keep the archived times, and no signal
        # fires (history rows come from the archive, analyses are not re-queued row by row).
        model._base_manager._insert(batch, fields=fields, raw=True)  # type: ignore[attr-defined]  # private API, untyped in the stubs


def _user(users: dict[Any, Any], value: Any, f: models.Field[Any, Any], label: str) -> Any:
    if value is None:
        return None
    if value in users:
        return users[value]
    if f.null:
        return None
    raise ArchiveError(f"{label}.{f.name} names a user the archive does not describe.")


class _FileStore:
    """Stores the archive's files under the new rows' upload paths, once per file."""

    def __init__(self, zf: zipfile.ZipFile, manifest: dict[str, Any], stored: list[str]) -> None:
        self.zf = zf
        self.members = {f["name"]: f for f in manifest["files"]}
        self.stored = stored
        self.renamed: dict[str, str] = {}

    def store(self, name: str, entry: ScopedModel, obj: models.Model, column: str) -> str:
        if name in self.renamed:
            return self.renamed[name]
        item = self.members.get(name)
        if item is None:
            return name  # listed as missing when exported: the row keeps the name it had
        live = entry.live_model
        target = obj
        if entry.is_historical:
            common = {f.attname for f in live._meta.concrete_fields}
            target = live(**{k: v for k, v in obj.__dict__.items() if k in common})
        file_field = live._meta.get_field(column)
        assert isinstance(file_field, models.FileField)  # file_fields() lists only these
        basename = PurePosixPath(str(item.get("basename") or name)).name
        wanted = file_field.generate_filename(target, basename)
        with self.zf.open(item["member"]) as fh:
            new_name = default_storage.save(wanted, File(fh, name=basename))
        self.stored.append(new_name)
        self.renamed[name] = new_name
        return new_name


def _match_users(rows: Any) -> tuple[dict[Any, Any], dict[str, str], list[str]]:
    """Archived user id -> local user id.

    A user is matched by e-mail address (case-insensitive), or by username when the archive has
    no e-mail for them. Anyone else gets a new account with the archived username (suffixed if
    taken) and an unusable-until-reset random password: they sign in through "forgot password".
    """
    if not isinstance(rows, list):
        raise ArchiveError("users.json is malformed.")
    user_model = get_user_model()
    email_field = user_model.get_email_field_name()
    username_field = user_model.USERNAME_FIELD
    mapping: dict[Any, Any] = {}
    matched: dict[str, str] = {}
    created: list[str] = []
    for row in rows:
        if not isinstance(row, dict) or "id" not in row or not row.get("username"):
            raise ArchiveError("users.json is malformed (a user without id or username).")
        username, email = str(row["username"]), str(row.get("email") or "")
        qs = user_model._base_manager.all()
        user: Any
        if email:
            candidates = list(qs.filter(**{f"{email_field}__iexact": email}).order_by("pk"))
            exact = [u for u in candidates if u.get_username() == username]
            user = (exact or candidates)[0] if candidates else None
        else:
            user = qs.filter(**{username_field: username}).first()
        if user is None:
            name = username
            suffix = 1
            while qs.filter(**{username_field: name}).exists():
                suffix += 1
                name = f"{username}-{suffix}"
            user = user_model(**{username_field: name, email_field: email})
            for column in ("first_name", "last_name"):
                if hasattr(user, column):
                    setattr(user, column, str(row.get(column) or ""))
            user.set_password(secrets.token_urlsafe(32))
            user.save()
            created.append(name)
        else:
            matched[username] = user.get_username()
        mapping[row["id"]] = user.pk
    return mapping, matched, created


def _record_import(review: Review, manifest: dict[str, Any], imported_by: Any) -> None:
    """The import is in the review's audit trail like any other change."""
    history_model = Review.history.model
    row = history_model(
        **{f.attname: getattr(review, f.attname) for f in Review._meta.concrete_fields},
        history_date=timezone.now(),
        history_type="+",
        history_user=imported_by if getattr(imported_by, "pk", None) else None,
        history_change_reason=f"Imported from an archive of review #{manifest['review']['id']}"[
            :100
        ],
    )
    row.save()
