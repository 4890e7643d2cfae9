"""Screening decisions as CSV and RIS (with the decision in the note and label fields).

Identifiers go back out labelled, so that this app (and a reference manager) reads them as
what they are: the PMID as "PMID: 123" in a note as well as in AN, every other accession number
as "<database> accession number: ..." in a note (RIS) or an ``accession_<key>`` column (CSV).
"""

import csv
import io
from collections.abc import Iterable

import rispy

from screening.models import Record, Stage
from screening.references.identifiers import ACCESSION_DATABASES
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
    "issn",
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


def _accession_keys(rows: list[ExportRow]) -> list[str]:
    present = {key for row in rows for key in (row.record.accession_numbers or {})}
    return [key for key in ACCESSION_DATABASES if key in present] + sorted(
        present - ACCESSION_DATABASES.keys()
    )


def decisions_csv(rows: Iterable[ExportRow], *, stage: str) -> str:
    rows = list(rows)
    # One column per database that any exported record has a number in.
    keys = _accession_keys(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*CSV_COLUMNS, *(f"accession_{key}" for key in keys)])
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
                _safe(record.issn),
                _safe(record.import_batch.source_database),
                _safe(record.study.label if record.study else ""),
                *(_safe((record.accession_numbers or {}).get(key, "")) for key in keys),
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
        entry["notes"] = [note, *_identifier_notes(record)]
        if record.pmid:
            entry["accession_number"] = record.pmid
        if record.issn:
            entry["issn"] = record.issn
        entries.append({k: v for k, v in entry.items() if v not in ("", [], None)})
    return rispy.dumps(entries)


def _identifier_notes(record: Record) -> list[str]:
    notes = [f"PMID: {record.pmid}"] if record.pmid else []
    for accession in record.accessions:
        label = (
            "Accession number"
            if accession.key == "unknown"
            else f"{accession.name} accession number"
        )
        notes.append(f"{label}: {accession.value}")
    return notes
