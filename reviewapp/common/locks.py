"""A claim on a piece of work that dies with the process holding it.

A task that marks its row "running" and is then killed (SIGKILL, a lost machine) leaves the row
"running" for ever, and its redelivered message must not take it for a live run. A PostgreSQL
session-level advisory lock is released when the connection closes, so a run that holds one is
certainly alive, and a "running" row whose lock is free was left by a dead one.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def run_lock(kind: str, pk: int) -> Iterator[bool]:
    """Yield True when this process holds the lock on `kind` #pk for the block (always True on
    databases without advisory locks: development runs tasks in-process, one at a time)."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = (zlib.crc32(kind.encode()) & 0x7FFFFFFF, pk & 0x7FFFFFFF)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)


def survives_crash() -> bool:
    """True when `run_lock` tells a dead run from a live one (PostgreSQL)."""
    return connection.vendor == "postgresql"
