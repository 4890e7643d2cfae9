"""PubMed / MEDLINE tagged format (.nbib, .txt): ``PMID- 123``, values wrapped at six spaces.

Ovid's own tagged export (``<1. >`` before each record, ``DB  - Embase``, ``UI  - 621381829``)
has the same line grammar and is read here too.
"""

from __future__ import annotations

import re

from ._common import (
    ParsedRecord,
    ParseError,
    SkippedRecord,
    normalise_doi,
    set_raw,
    snippet,
    split_lines,
    unusable_reason,
    year_in_text,
)
from .identifiers import Identifiers, clean_pmid, join_issns, record_database

# The tag is left-justified in four columns, then "- " (e.g. "PMID- ", "TI  - ", "FAU - ").
_TAG = re.compile(r"([A-Z][A-Z0-9]{0,3}) *- ?(.*)$")
_DOI = re.compile(r"^(\S+)\s*\[doi\]", re.IGNORECASE)
# Ovid numbers its records: "<1. >", "<3001. >".
_OVID_RECORD = re.compile(r"<\d+\.\s*>\s*$")

EXPECTED = "expected a MEDLINE tag such as 'PMID- '"


def looks_like_medline(text: str) -> bool:
    for line in split_lines(text[:4000]):
        if line.strip() and not _OVID_RECORD.match(line):
            return _match(line) is not None
    return False


def _match(line: str) -> tuple[str, str] | None:
    if len(line) < 5 or line[4] != "-":
        return None
    match = _TAG.match(line)
    if match is None:
        return None
    return match.group(1), match.group(2).strip()


def parse(text: str) -> tuple[list[ParsedRecord], list[SkippedRecord]]:
    records: list[ParsedRecord] = []
    skipped: list[SkippedRecord] = []
    tags: dict[str, list[str]] | None = None
    start = 0
    last: list[str] | None = None
    # Ovid does not indent the continuation lines of a long value (an abstract's "Results:").
    ovid = False

    def finish() -> None:
        assert tags is not None
        record = _to_record(tags, start)
        reason = unusable_reason(record)
        if reason is None:
            records.append(record)
        else:
            skipped.append(SkippedRecord(line=start, reason=reason))

    for number, line in enumerate(split_lines(text), 1):
        if not line.strip() or _OVID_RECORD.match(line):
            ovid = ovid or bool(line.strip())
            if tags is not None:
                finish()
                tags = None
                last = None
            continue
        if line[0] in " \t":
            if last is None:
                raise ParseError(f"{EXPECTED}, found {snippet(line)}", number)
            last[-1] = f"{last[-1]} {line.strip()}"
            continue
        parsed = _match(line)
        if parsed is None and ovid and last is not None:
            last[-1] = f"{last[-1]} {line.strip()}"
            continue
        if parsed is None:
            raise ParseError(f"{EXPECTED}, found {snippet(line)}", number)
        tag, value = parsed
        if tags is not None and tag == "PMID" and "PMID" in tags:
            finish()  # two records with no blank line between them
            tags = None
        if tags is None:
            tags = {}
            start = number
        values = tags.get(tag)
        if values is None:
            values = tags[tag] = []
        values.append(value)
        last = values
    if tags is not None:
        finish()
    return records, skipped


def _first(tags: dict[str, list[str]], *names: str) -> tuple[str, str]:
    for name in names:
        for value in tags.get(name, ()):
            if value:
                return name, value
    return "", ""


def _to_record(tags: dict[str, list[str]], line: int) -> ParsedRecord:
    record = ParsedRecord(line=line)
    used: set[str] = set()

    def take(field_names: tuple[str, ...]) -> str:
        name, value = _first(tags, *field_names)
        used.add(name)
        return value

    record.title = take(("TI", "BTI"))
    record.abstract = take(("AB",))
    author_tag = "FAU" if "FAU" in tags else "AU"
    record.authors = [value for value in tags.get(author_tag, ()) if value]
    used.add(author_tag)
    date_tag, date = _first(tags, "DP", "YR", "DEP", "EDAT")
    record.year = year_in_text(date) if date else None
    if date_tag in ("DP", "YR"):
        used.add(date_tag)
    record.journal = take(("JT", "TA", "JN"))
    if not record.journal and "SO" in tags:
        # Ovid gives only a source line ("BMC Proceedings. Conference: ... 12 (3), 2018.").
        record.journal = tags["SO"][0].split(". ", 1)[0].strip()
    record.volume = take(("VI", "VO"))
    record.issue = take(("IP",))
    record.pages = take(("PG",))
    record.record_type = take(("PT",))
    # LID and AID also carry PIIs, so they stay in raw; the DOI is copied out of them.
    for name in ("LID", "AID"):
        for value in tags.get(name, ()):
            match = _DOI.match(value)
            if match:
                record.doi = normalise_doi(match.group(1))
                break
        if record.doi:
            break
    if not record.doi and "DO" in tags:
        record.doi = normalise_doi(take(("DO",)))
    used.update(_identifiers(tags, record))
    keywords: list[str] = []
    for name in ("MH", "OT"):
        if name in tags:
            used.add(name)
            keywords.extend(value for value in tags[name] if value)
    record.keywords = keywords

    for name, values in tags.items():
        if name not in used or (len(values) > 1 and name not in ("FAU", "AU", "MH", "OT")):
            set_raw(record.raw, name, values)
    return record


def _identifiers(tags: dict[str, list[str]], record: ParsedRecord) -> set[str]:
    used: set[str] = set()
    ids = Identifiers()
    for value in tags.get("PMID", ()):
        if ids.add("pubmed", clean_pmid(value)):
            used.add("PMID")
    for value in tags.get("PMC", ()):
        if ids.add("pmcid", value):
            used.add("PMC")
    # Ovid: UI is the record's number in the database its DB line names (the PMID for MEDLINE,
    # the Embase or PsycInfo accession number otherwise).
    database = record_database(tags.get("DB", []), [])
    if all([ids.add_accession(value, database) for value in tags.get("UI", ())]):
        used.add("UI")
    record.pmid = ids.pmid
    record.accession_numbers = ids.accession_numbers
    record.issn = join_issns(tags.get("IS", []))
    if record.issn:
        used.add("IS")
    return used
