"""RIS (.ris): exports from PubMed, Ovid, CINAHL, Scopus, Web of Science, Dimensions, Lens, EndNote.

rispy is the reference reader for RIS, but it skips anything before the first ``TY`` and keeps no
line numbers, so it cannot say *where* a file stops being RIS. This reader follows the same line
grammar (two-character tag, two spaces, dash) and is checked against rispy on the real exports in
the tests.
"""

from __future__ import annotations

import re

from ._common import (
    ParsedRecord,
    ParseError,
    SkippedRecord,
    doi_in_text,
    normalise_doi,
    set_raw,
    snippet,
    split_lines,
    unusable_reason,
    year_in_text,
)
from .identifiers import Identifiers, join_issns, record_database, self_identifying

# Standard is "TY  - value"; some exporters write a single space before the dash or nothing
# after "ER  -". Tags are an upper-case letter then a letter or digit (T1, A2, KW, ...).
_TAG = re.compile(r"([A-Z][A-Z0-9]) {1,2}-(?: (.*)|\s*)$")
# Some vendors (ScienceDirect, JSTOR) put "Provider: ..." lines before the first record.
_HEADER = re.compile(r"[A-Za-z][\w -]{0,40}:")
# rispy (and so this app's own RIS export) numbers records: "1." before each "TY  - ".
_COUNTER = re.compile(r"\d+\.")

_TITLE_TAGS = ("TI", "T1", "CT", "BT", "ST")
_ABSTRACT_TAGS = ("AB", "N2")
_AUTHOR_TAGS = ("AU", "A1")
_YEAR_TAGS = ("PY", "Y1", "DA", "Y2")
_JOURNAL_TAGS = ("JF", "JO", "T2", "J2", "JA", "J1")
_URL_TAGS = ("UR", "L2", "L1")
# Links that may name a record in a database (a PubMed page, an EBSCOhost or Ovid record).
_LINK_TAGS = ("UR", "L1", "L2", "L3", "L4", "LK")
# Free fields where exporters write *labelled* identifiers: "PMID: 123" in an Ovid or EBSCOhost
# note, "123 [PMID]" in a Dimensions U1, "Accession Number: 123" in an EBSCOhost N1. A bare
# number in these fields means nothing by itself (C7 is the article number in Scopus and Web of
# Science exports), so only labels are read.
_NOTE_TAGS = ("N1", "M1", "M2", "U1", "U2", "U3", "U4", "U5", "C1", "C2", "C3", "C7", "C8")

EXPECTED = "expected a RIS tag such as 'TY  - '"


def looks_like_ris(text: str) -> bool:
    for line in split_lines(text[:4000]):
        if line.strip():
            if _TAG.match(line):
                return True
            if not _HEADER.match(line):
                return False
    return False


def parse(text: str) -> tuple[list[ParsedRecord], list[SkippedRecord]]:
    records: list[ParsedRecord] = []
    skipped: list[SkippedRecord] = []
    tags: dict[str, list[str]] | None = None
    start = 0
    last: list[str] | None = None
    seen_record = False
    tag_match = _TAG.match

    def finish() -> None:
        assert tags is not None
        record = _to_record(tags, start)
        reason = unusable_reason(record)
        if reason is None:
            records.append(record)
        else:
            skipped.append(SkippedRecord(line=start, reason=reason))

    for number, line in enumerate(split_lines(text), 1):
        # Fast path for the common "XX  - value" shape before falling back to the regex.
        if line[2:6] == "  - " and line[0:1].isupper() and line[1:2].isalnum():
            tag, value = line[:2], line[6:].strip()
        else:
            match = tag_match(line)
            if match is None:
                stripped = line.strip()
                if not stripped:
                    continue
                if tags is None:
                    if not seen_record and _HEADER.match(stripped):
                        continue
                    if _COUNTER.fullmatch(stripped):
                        continue
                    raise ParseError(f"{EXPECTED}, found {snippet(line)}", number)
                if last is not None:
                    # A wrapped line continues the value of the tag above it.
                    last[-1] = f"{last[-1]} {stripped}" if last[-1] else stripped
                continue
            tag, value = match.group(1), (match.group(2) or "").strip()

        if tag == "TY":
            if tags is not None:
                finish()  # a record without "ER  -": the next TY closes it
            tags = {"TY": [value]}
            start = number
            last = tags["TY"]
            seen_record = True
        elif tags is None:
            raise ParseError(f"expected 'TY  - ' to start a record, found {snippet(line)}", number)
        elif tag == "ER":
            finish()
            tags = None
            last = None
        else:
            values = tags.get(tag)
            if values is None:
                values = tags[tag] = []
            values.append(value)
            last = values
    if tags is not None:
        finish()  # the last record may lack its "ER  -"
    return records, skipped


def _first(tags: dict[str, list[str]], names: tuple[str, ...]) -> tuple[str, str]:
    for name in names:
        for value in tags.get(name, ()):
            if value:
                return name, value
    return "", ""


def _to_record(tags: dict[str, list[str]], line: int) -> ParsedRecord:
    used: set[str] = {"TY"}
    record = ParsedRecord(line=line, record_type=tags["TY"][0])

    name, record.title = _first(tags, _TITLE_TAGS)
    used.add(name)
    name, record.abstract = _first(tags, _ABSTRACT_TAGS)
    used.add(name)

    authors: list[str] = []
    for name in _AUTHOR_TAGS:
        if name in tags:
            used.add(name)
            for value in tags[name]:
                if value and value not in authors:
                    authors.append(value)
    record.authors = authors

    for name in _YEAR_TAGS:
        for value in tags.get(name, ()):
            year = year_in_text(value)
            if year is not None:
                record.year = year
                if name in ("PY", "Y1"):
                    used.add(name)
                break
        if record.year is not None:
            break

    name, record.journal = _first(tags, _JOURNAL_TAGS)
    used.add(name)
    name, record.volume = _first(tags, ("VL",))
    used.add(name)
    name, record.issue = _first(tags, ("IS", "CP"))
    used.add(name)
    _, start_page = _first(tags, ("SP",))
    _, end_page = _first(tags, ("EP",))
    if start_page or end_page:
        used.update(("SP", "EP"))
        if start_page and end_page and end_page != start_page and "-" not in start_page:
            record.pages = f"{start_page}-{end_page}"
        else:
            record.pages = start_page or end_page

    name, doi = _first(tags, ("DO",))
    if doi:
        used.add(name)
        record.doi = normalise_doi(doi)
    else:
        # Some exporters only give the DOI as a resolver link.
        for url_tag in (*_URL_TAGS, "M3", "N1"):
            found = next((d for d in map(doi_in_text, tags.get(url_tag, ())) if d), "")
            if found:
                record.doi = found
                break

    used.update(_identifiers(tags, record))

    name, record.url = _first(tags, _URL_TAGS)
    used.add(name)

    keywords: list[str] = []
    for value in tags.get("KW", ()):
        # Some exporters put every keyword on one KW line separated by semicolons.
        keywords.extend(part.strip() for part in value.split(";") if part.strip())
    if keywords:
        used.add("KW")
    record.keywords = keywords

    for name, values in tags.items():
        # A single-valued field taken from a repeated tag keeps every value in raw.
        if name not in used or (len(values) > 1 and name not in ("AU", "A1", "KW")):
            set_raw(record.raw, name, values)
    return record


def _identifiers(tags: dict[str, list[str]], record: ParsedRecord) -> set[str]:
    """Fill the record's PMID, accession numbers and ISSN; return the tags fully understood."""
    used: set[str] = set()
    database = record_database(tags.get("DB", []), tags.get("DP", []))
    ids = Identifiers()
    # Labels first, so that an accession number repeating a labelled PMID is known as one.
    for name in _NOTE_TAGS:
        for value in tags.get(name, ()):
            ids.add_labelled_text(value, database)
    for name in _LINK_TAGS:
        for value in tags.get(name, ()):
            ids.add_url(value)
    for value in tags.get("C2", ()):
        # Scopus writes the PubMed ID in C2; EndNote writes the PMCID there.
        known = self_identifying(value)
        understood = ids.add(*known) if known else database == "scopus" and ids.add("pubmed", value)
        if understood and len(tags["C2"]) == 1:
            used.add("C2")
    # Lens, PsycInfo (EBSCOhost) and Web of Science put their own ID in ID; a reference
    # manager puts its record number there, which says nothing.
    for value in tags.get("ID", ()):
        known = self_identifying(value)
        if known:
            ids.add(*known)
    an_values = tags.get("AN", [])
    if an_values and all([ids.add_accession(value, database) for value in an_values]):
        used.add("AN")
    record.pmid = ids.pmid
    record.accession_numbers = ids.accession_numbers

    sn_values = [value for value in tags.get("SN", ()) if value]
    record.issn = join_issns(sn_values)
    # SN also carries ISBNs (books); it leaves raw only when every value was an ISSN.
    if sn_values and all(join_issns([value]) for value in sn_values):
        used.add("SN")
    return used
