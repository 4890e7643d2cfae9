"""An archive that is newer, corrupt or altered is refused with a clear message, and nothing of
it is stored: no row, no file."""

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from reviewapp.archive.exporter import write_archive
from reviewapp.archive.format import ArchiveError
from reviewapp.archive.importer import read_archive
from reviewapp.models import Review
from tests.archive.conftest import canonical_rows

pytestmark = pytest.mark.django_db


def _archive(review_id):
    out = io.BytesIO()
    write_archive(review_id=review_id, out=out)
    return out.getvalue()


def _rewrite(data, change):
    """Copy the archive, letting `change(manifest, members)` edit it."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(members.pop("manifest.json"))
    change(manifest, members)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, body in members.items():
            zf.writestr(name, body)
        zf.writestr("manifest.json", json.dumps(manifest))
    return out.getvalue()


def _media_files():
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _refused(data, expected):
    rows, files = canonical_rows(), _media_files()
    with pytest.raises(ArchiveError, match=expected):
        read_archive(io.BytesIO(data))
    assert canonical_rows() == rows
    assert _media_files() == files


def test_it_refuses_a_newer_format_version(populated_review):
    def newer(manifest, members):
        manifest["format_version"] = 2

    _refused(_rewrite(_archive(populated_review.pk), newer), "format version 2.*Upgrade")


def test_it_refuses_an_altered_member(populated_review):
    def tamper(manifest, members):
        name = "data/screening.decision.jsonl"
        members[name] = members[name].replace(b'"include"', b'"exclude"', 1)

    _refused(_rewrite(_archive(populated_review.pk), tamper), "does not match the checksum")


def test_it_refuses_an_unexpected_member(populated_review):
    def smuggle(manifest, members):
        members["files/../../etc/passwd"] = b"root"

    _refused(_rewrite(_archive(populated_review.pk), smuggle), "unexpected members")


def test_it_refuses_a_truncated_file_and_other_junk(populated_review):
    data = _archive(populated_review.pk)
    _refused(data[: len(data) // 2], "not a review archive|corrupt")
    _refused(b"PK\x03\x04 not really a zip", "not a review archive")
    _refused(b"", "not a review archive")


def test_a_failure_half_way_stores_no_row_and_leaves_no_file(populated_review):
    """Checksums recomputed, so the archive passes the checks and fails only at insert time,
    after the files have been stored: they are removed again."""

    def break_last_table(manifest, members):
        entry = manifest["models"][-1]
        lines = members[entry["member"]].splitlines()
        row = json.loads(lines[-1])
        row["history_type"] = "too long for its column"
        lines[-1] = json.dumps(row).encode()
        body = b"\n".join(lines) + b"\n"
        members[entry["member"]] = body
        entry["size"], entry["sha256"] = len(body), hashlib.sha256(body).hexdigest()

    data = _rewrite(_archive(populated_review.pk), break_last_table)
    reviews = Review.all_objects.count()
    _refused(data, "nothing was stored")
    assert Review.all_objects.count() == reviews


def test_the_command_says_why_and_that_nothing_was_imported(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(CommandError, match="not a review archive.*Nothing was imported"):
        call_command("import_review", str(bad))
