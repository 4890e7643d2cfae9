"""Types and small helpers shared by the format readers in this package."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .identifiers import clean_pmid, labelled_pmid


@dataclass
class ParsedRecord:
    title: str = ""
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    # Normalised ISSN(s), "1234-5678" or several joined by "; ".
    issn: str = ""
    # Accession numbers of other databases by key (see identifiers.ACCESSION_DATABASES).
    accession_numbers: dict[str, str] = field(default_factory=dict)
    url: str = ""
    keywords: list[str] = field(default_factory=list)
    record_type: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    line: int = 0


@dataclass
class SkippedRecord:
    line: int
    reason: str


@dataclass
class ParseResult:
    format: str
    encoding: str
    records: list[ParsedRecord]
    skipped: list[SkippedRecord]


class ParseError(ValueError):
    """The file cannot be read as the reference format it claims to be.

    ``line`` is the 1-based line of the first problem, when there is one to point at.
    """

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message, line)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"line {self.line}: {self.message}"


_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi\.org/|doi\s*:?\s*)", re.IGNORECASE)
_DOI_IN_TEXT = re.compile(r"10\.\d{4,9}/[^\s\"<>]+", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")


def normalise_doi(doi: str) -> str:
    """Lower-case a DOI and drop resolver prefixes, ``doi:`` labels and trailing punctuation."""
    value = doi.strip()
    if not value:
        return ""
    value = _DOI_PREFIX.sub("", value).strip()
    if value.endswith("[doi]"):
        value = value[:-5].strip()
    return value.rstrip(".,;").lower()


def doi_in_text(text: str) -> str:
    """The first thing that looks like a DOI inside ``text`` (a URL, a note), normalised."""
    match = _DOI_IN_TEXT.search(text)
    return normalise_doi(match.group(0)) if match else ""


def year_in_text(text: str) -> int | None:
    match = _YEAR.search(text)
    return int(match.group(1)) if match else None


def pmid_field(text: str) -> str:
    """The PubMed ID in a field that *means* PubMed ID (a "PMID" column, BibTeX ``pmid``): a
    bare number or a labelled one. Never call this on a free field such as RIS ``C7``."""
    return clean_pmid(text) or labelled_pmid(text)


def unusable_reason(record: ParsedRecord) -> str | None:
    """Why a structurally valid record cannot be screened, or None when it can."""
    if record.title or record.doi or record.pmid:
        return None
    return "no title, DOI or PMID"


def snippet(line: str, limit: int = 40) -> str:
    """A short, printable excerpt of an offending line for error messages."""
    text = "".join(ch if ch.isprintable() else "?" for ch in line.strip())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"'{text}'"


def split_lines(text: str) -> list[str]:
    # str.splitlines() also breaks on U+2028, U+0085 and form feeds inside abstracts, which
    # would shift every reported line number; only CR, LF and CRLF end a line here.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def set_raw(raw: dict[str, Any], key: str, values: list[str]) -> None:
    """Store a tag verbatim: a string when it occurred once, a list when repeated."""
    if not values:
        return
    raw[key] = values[0] if len(values) == 1 else list(values)
