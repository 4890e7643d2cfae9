"""The archive format: names, version and how one column's value is written and read back.

See docs/archive.md. A reader refuses a format version newer than `FORMAT_VERSION`; a version
bump is needed whenever an older reader would misread a newer archive (a new kind of member, a
changed encoding), not when a model gains a column (readers fill missing columns with their
defaults and refuse unknown ones).
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.duration import duration_iso_string

FORMAT_NAME = "reviewapp-review-archive"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
USERS_MEMBER = "users.json"


class ArchiveError(Exception):
    """The archive cannot be written or read; the message says why, for the person importing."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def data_member(label: str) -> str:
    return f"data/{label}.jsonl"


def dump_value(field: models.Field[Any, Any], value: Any) -> Any:
    """A column's value as JSON: exact for every type the models use (no precision lost)."""
    if value is None or isinstance(field, models.JSONField):
        return value
    if isinstance(value, bool | int | str | float):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dt.timedelta):
        return duration_iso_string(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def load_value(field: models.Field[Any, Any], value: Any) -> Any:
    if value is None or isinstance(field, models.JSONField):
        return value
    if isinstance(field, models.FloatField) and isinstance(value, int | float):
        return float(value)
    return field.to_python(value)
