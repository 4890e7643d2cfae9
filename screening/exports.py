"""Screening decisions as CSV and RIS (with the decision in the note and label fields)."""

import csv
import io
from collections.abc import Iterable

import rispy

from screening.models import Stage
from screening.selectors import ExportRow

CSV_COLUMNS = [
    "record_id",
    "stage",
    "outcome",
    "outcome_reason",
    "status",
    "resolved_by",
    "resolution_note",
    "votes",
    "title",
    "authors",
    "year",
    "journal",
    "doi",
    "pmid",
    "source_database",
    "study",
]


def _safe(value: object) -> str:
    """Keep spreadsheet programs from running a cell as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _votes(row: ExportRow) -> str:
    return " | ".join(
        f"{v.reviewer.get_username()}: {v.verdict}"
        + (f" ({v.reason})" if v.reason else "")
        + (f" — {v.note}" if v.note else "")
        for v in row.votes
    )


def decisions_csv(rows: Iterable[ExportRow], *, stage: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        item, record = row.item, row.record
        writer.writerow(
            [
                record.pk,
                stage,
                item.final_verdict if item else "",
                _safe(item.final_reason if item else ""),
                # 'open' whether or not someone voted: blind mode hides that too.
                item.status if item else "open",
                _safe(item.resolved_by.get_username() if item and item.resolved_by else ""),
                _safe(item.resolution_note if item else ""),
                _safe(_votes(row)),
                _safe(record.title),
                _safe("; ".join(record.authors)),
                record.year or "",
                _safe(record.journal),
                _safe(record.doi),
                _safe(record.pmid),
                _safe(record.import_batch.source_database),
                _safe(record.study.label if record.study else ""),
            ]
        )
    return buffer.getvalue()


def decisions_ris(rows: Iterable[ExportRow], *, stage: str) -> str:
    """RIS that reference managers read back: LB holds the outcome, N1 the detail."""
    label = Stage(stage).label.lower()
    entries = []
    for row in rows:
        record, item = row.record, row.item
        outcome = (
            item.final_verdict
            if item and item.final_verdict
            else ("conflict" if item and item.status == "conflict" else "not decided")
        )
        note = f"Screening ({label}): {outcome}"
        if item and item.final_reason:
            note += f"; reason: {item.final_reason}"
        if row.votes:
            note += f"; votes: {_votes(row)}"
        entry: dict[str, object] = {
            "type_of_reference": "JOUR",
            "id": str(record.pk),
            "title": record.title,
            "authors": list(record.authors),
            "year": str(record.year or ""),
            "journal_name": record.journal,
            "volume": record.volume,
            "number": record.issue,
            "abstract": record.abstract,
            "doi": record.doi,
            "keywords": list(record.keywords),
            "label": outcome,
            "notes": [note],
        }
        if record.pmid:
            entry["accession_number"] = record.pmid
        entries.append({k: v for k, v in entry.items() if v not in ("", [], None)})
    return rispy.dumps(entries)
