"""CSV and TSV exports (Scopus, PubMed, Web of Science tab-delimited, spreadsheets)."""

from __future__ import annotations

import csv
import io
import re

from ._common import (
    ParsedRecord,
    ParseError,
    SkippedRecord,
    normalise_doi,
    pmid_field,
    snippet,
    unusable_reason,
    year_in_text,
)
from .identifiers import (
    ACCESSION_DATABASES,
    Identifiers,
    database_named,
    join_issns,
    record_database,
    self_identifying,
)

CSV_COLUMNS = (
    "title",
    "abstract",
    "authors",
    "year",
    "journal",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "issn",
    "keywords",
    "url",
)

# Header spellings seen in real exports, lower-cased. The first header of a file that maps to a
# column wins; later ones (e.g. Scopus "Author full names" after "Authors") stay in raw.
_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "article title", "document title", "primary title", "ti", "titles"),
    "abstract": ("abstract", "abstract note", "ab", "abstracts"),
    "authors": (
        "authors",
        "author",
        "author(s)",
        "author names",
        "author full names",
        "au",
        "af",
    ),
    "year": (
        "year",
        "publication year",
        "pub year",
        "py",
        "year published",
        "publication date",
        "date",
    ),
    "journal": (
        "journal",
        "source title",
        "source",
        "journal/book",
        "publication title",
        "journal title",
        "journal name",
        "so",
        "secondary title",
        "publication name",
    ),
    "volume": ("volume", "vl", "vol"),
    "issue": ("issue", "number", "is", "no"),
    "pages": ("pages", "page", "page range", "pg"),
    "doi": ("doi", "di", "doi link"),
    "pmid": ("pmid", "pubmed id", "pubmed", "pm", "pubmed_id"),
    "issn": ("issn", "issns", "sn", "issn/isbn", "print issn"),
    "keywords": ("keywords", "author keywords", "keyword", "de", "mesh terms", "manual tags"),
    "url": ("url", "link", "links"),
}
_ALIAS_TO_COLUMN = {alias: column for column, aliases in _ALIASES.items() for alias in aliases}
_TYPE_HEADERS = ("document type", "publication type", "item type", "type", "pt")

# Columns that hold one database's record number, by lower-cased header. This app's own CSV
# export writes "accession_<key>" columns, which read back the same way.
_ACCESSION_HEADERS: dict[str, str] = {
    "eid": "scopus",
    "ut": "wos",
    "ut (unique wos id)": "wos",
    "unique wos id": "wos",
    "wos id": "wos",
    "web of science id": "wos",
    "pmcid": "pmcid",
    "pmc id": "pmcid",
    "pmc": "pmcid",
    "lens id": "lens",
    "dimensions id": "dimensions",
    "proquest document id": "proquest",
    "embase accession number": "embase",
    **{f"accession_{key}": key for key in ACCESSION_DATABASES},
}
# An accession number whose database another column (or its own form) must name.
_ACCESSION_ANY = ("accession number", "accession no", "accession no.", "an", "accession")
_DATABASE_HEADERS = ("database", "name of database", "db", "library catalog", "source database")
_ISSN_EXTRA = ("eissn", "e-issn", "ei", "online issn", "electronic issn")
_NOTE_HEADERS = ("notes", "note", "extra", "n1", "research notes")
_ID_HEADERS = ("id", "record id", "publication id", "identifier", "unique id")
_LINK_HEADERS = ("url", "link", "links", "source urls", "external url", "dimensions url")
# "Smith J, Doe AB" (PubMed CSV) lists authors with commas; "Smith, John" is one author.
_INITIALS_AUTHOR = re.compile(r"^[^\W\d_][\w'’ .-]* [A-Z]{1,4}\.?$")


def _header_key(value: str) -> str:
    return " ".join(value.replace("\ufeff", "").strip().lower().split())


def _sniff_delimiter(text: str, is_tsv: bool) -> str:
    if is_tsv:
        return "\t"
    first_line = text.split("\n", 1)[0]
    sample = text[:20000]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {delimiter: first_line.count(delimiter) for delimiter in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def split_authors(value: str) -> list[str]:
    value = value.strip()
    if not value:
        return []
    if ";" in value:
        return [part.strip() for part in value.split(";") if part.strip()]
    parts = [part.strip() for part in value.split(",")]
    if len(parts) > 1 and all(_INITIALS_AUTHOR.match(part) for part in parts if part):
        return [part for part in parts if part]
    return [value]


def parse(
    text: str, *, is_tsv: bool, column_map: dict[str, str] | None
) -> tuple[list[ParsedRecord], list[SkippedRecord]]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    delimiter = _sniff_delimiter(text, is_tsv)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header: list[str] | None = None
        while header is None:
            row = next(reader, None)
            if row is None:
                raise ParseError("no records found: the file has no header row")
            if any(cell.strip() for cell in row):
                header = row
    except csv.Error as exc:
        raise ParseError(f"expected a header row of column names ({exc})", reader.line_num) from exc
    header_line = reader.line_num
    columns = _map_header(header, column_map)
    if not {"title", "doi", "pmid"} & set(columns.values()):
        found = ", ".join(repr(cell.strip()) for cell in header[:6] if cell.strip())
        raise ParseError(
            "expected a header row naming a title column (e.g. 'Title', 'Article Title'), "
            f"found {found or snippet(delimiter.join(header))}",
            header_line,
        )
    type_index = next(
        (
            i
            for i, cell in enumerate(header)
            if _header_key(cell) in _TYPE_HEADERS and i not in columns
        ),
        None,
    )

    records: list[ParsedRecord] = []
    skipped: list[SkippedRecord] = []
    line = reader.line_num + 1
    while True:
        try:
            row = next(reader, None)
        except csv.Error as exc:
            raise ParseError(f"expected a {_name(delimiter)}-separated row ({exc})", line) from exc
        if row is None:
            break
        if any(cell.strip() for cell in row):
            record = _to_record(row, header, columns, type_index, line)
            reason = unusable_reason(record)
            if reason is None:
                records.append(record)
            else:
                skipped.append(SkippedRecord(line=line, reason=reason))
        line = reader.line_num + 1
    return records, skipped


def _name(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}[delimiter]


def _map_header(header: list[str], column_map: dict[str, str] | None) -> dict[int, str]:
    overrides: dict[str, str] = {}
    for file_header, column in (column_map or {}).items():
        if column and column not in CSV_COLUMNS:
            raise ParseError(
                f"unknown column {column!r} in the column map; use one of {', '.join(CSV_COLUMNS)}"
            )
        overrides[_header_key(file_header)] = column
    columns: dict[int, str] = {}
    taken: set[str] = set()
    # Explicit choices first so that they win over an alias elsewhere in the header.
    for index, cell in enumerate(header):
        chosen = overrides.get(_header_key(cell))
        if chosen and chosen not in taken:
            columns[index] = chosen
            taken.add(chosen)
    for index, cell in enumerate(header):
        key = _header_key(cell)
        if index in columns or key in overrides:
            continue
        alias = _ALIAS_TO_COLUMN.get(key)
        if alias and alias not in taken:
            columns[index] = alias
            taken.add(alias)
    return columns


def _to_record(
    row: list[str], header: list[str], columns: dict[int, str], type_index: int | None, line: int
) -> ParsedRecord:
    record = ParsedRecord(line=line)
    values: dict[str, str] = {}
    for index, cell in enumerate(row):
        column = columns.get(index)
        if column is not None:
            values[column] = cell.strip()
        elif cell.strip():
            name = header[index].strip() if index < len(header) else f"column {index + 1}"
            record.raw[name or f"column {index + 1}"] = cell
    record.title = values.get("title", "")
    record.abstract = values.get("abstract", "")
    record.authors = split_authors(values.get("authors", ""))
    record.year = year_in_text(values.get("year", ""))
    record.journal = values.get("journal", "")
    record.volume = values.get("volume", "")
    record.issue = values.get("issue", "")
    record.pages = values.get("pages", "")
    if not record.pages:
        start, end = record.raw.get("Page start", ""), record.raw.get("Page end", "")
        record.pages = f"{start}-{end}" if start and end else start or end
    record.doi = normalise_doi(values.get("doi", ""))
    record.url = values.get("url", "")
    _identifiers(record, values)
    record.keywords = [k.strip() for k in values.get("keywords", "").split(";") if k.strip()]
    if type_index is not None and type_index < len(row):
        record.record_type = row[type_index].strip()
    return record


def _identifiers(record: ParsedRecord, values: dict[str, str]) -> None:
    """A column says what it holds through its header; free columns only through labels."""
    by_header = {_header_key(name): (name, str(cell)) for name, cell in record.raw.items()}

    def cells(headers: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
        return [by_header[h] for h in headers if h in by_header and by_header[h][1].strip()]

    used: set[str] = set()
    database = record_database([cell for _, cell in cells(_DATABASE_HEADERS)], [])
    ids = Identifiers()
    ids.add("pubmed", pmid_field(values.get("pmid", "")))
    for _name, cell in cells(_NOTE_HEADERS):
        ids.add_labelled_text(cell, database)
    for url in [values.get("url", ""), *(cell for _, cell in cells(_LINK_HEADERS))]:
        for part in url.split(";"):
            ids.add_url(part)
    for header, (name, cell) in by_header.items():
        key = _ACCESSION_HEADERS.get(header)
        if key is None and header.endswith(" accession number"):
            key = database_named(header.removesuffix(" accession number"))
        if key and cell.strip() and ids.add(key, cell):
            used.add(name)
    for name, cell in cells(_ACCESSION_ANY):
        if ids.add_accession(cell, database):
            used.add(name)
    for name, cell in cells(_ID_HEADERS):
        known = self_identifying(cell)
        if known and ids.add(*known):
            used.add(name)
    record.pmid = ids.pmid
    record.accession_numbers = ids.accession_numbers
    extra_issns = cells(_ISSN_EXTRA)
    record.issn = join_issns([values.get("issn", ""), *(cell for _, cell in extra_issns)])
    used.update(name for name, cell in extra_issns if join_issns([cell]))
    for name in used:
        record.raw.pop(name, None)
