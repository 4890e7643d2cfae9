"""Web of Science tagged format ("Plain text file", ``.txt``; "Other reference software",
``.ciw``): ``FN Clarivate Analytics Web of Science``, then records of two-character tags, values
continued on lines indented by three spaces, each record closed by ``ER``.

Field tags: https://webofscience.help.clarivate.com/en-us/Content/export-records.htm
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
from .identifiers import Identifiers, clean_pmid, join_issns, self_identifying

EXPECTED = "expected a Web of Science tag such as 'PT J'"

_TAG = re.compile(r"([A-Z][A-Z0-9]) ?(.*)$")
_HEADER = re.compile(r"(?:\ufeff)?(?:FN|VR) ")
# Tags whose continuation lines are further values, not the same value wrapped.
_LIST_TAGS = {"AU", "AF", "BA", "BF", "CA", "GP", "BE", "CR", "C1", "C3", "RP", "EM", "RI", "OI"}


def looks_like_wos(text: str) -> bool:
    for line in split_lines(text[:4000]):
        if line.strip():
            return bool(_HEADER.match(line))
    return False


def parse(text: str) -> tuple[list[ParsedRecord], list[SkippedRecord]]:
    records: list[ParsedRecord] = []
    skipped: list[SkippedRecord] = []
    tags: dict[str, list[str]] | None = None
    start = 0
    last: tuple[str, list[str]] | None = None

    def finish() -> None:
        assert tags is not None
        record = _to_record(tags, start)
        reason = unusable_reason(record)
        if reason is None:
            records.append(record)
        else:
            skipped.append(SkippedRecord(line=start, reason=reason))

    for number, line in enumerate(split_lines(text), 1):
        if not line.strip():
            continue
        if line.startswith("   ") and last is not None:
            tag, values = last
            value = line.strip()
            if tag in _LIST_TAGS:
                values.append(value)
            else:
                values[-1] = f"{values[-1]} {value}"
            continue
        match = _TAG.match(line.lstrip("\ufeff"))
        if match is None:
            raise ParseError(f"{EXPECTED}, found {snippet(line)}", number)
        tag, value = match.group(1), match.group(2).strip()
        if tag in ("FN", "VR", "EF"):
            last = None
            continue
        if tag == "ER":
            if tags is not None:
                finish()
            tags, last = None, None
            continue
        if tags is None:
            if tag != "PT":
                raise ParseError(f"expected 'PT' to start a record, found {snippet(line)}", number)
            tags, start = {}, number
        values = tags.setdefault(tag, [])
        values.append(value)
        last = (tag, values)
    if tags is not None:
        finish()  # the last record may lack its "ER"
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

    def take(*names: str) -> str:
        name, value = _first(tags, *names)
        used.add(name)
        return value

    record.title = take("TI")
    record.abstract = take("AB")
    author_tag = "AF" if "AF" in tags else "AU"
    record.authors = [value for value in tags.get(author_tag, ()) if value]
    used.add(author_tag)
    record.year = year_in_text(take("PY")) or year_in_text(_first(tags, "PD", "EA")[1])
    record.journal = take("SO", "SE")
    record.volume = take("VL")
    record.issue = take("IS")
    start_page, end_page = take("BP"), take("EP")
    record.pages = f"{start_page}-{end_page}" if start_page and end_page else start_page
    record.doi = normalise_doi(take("DI", "D2"))
    record.record_type = take("DT") or _first(tags, "PT")[1]
    keywords: list[str] = []
    for name in ("DE", "ID"):
        for value in tags.get(name, ()):
            keywords.extend(part.strip() for part in value.split(";") if part.strip())
        used.add(name)
    record.keywords = keywords

    ids = Identifiers()
    # PM is the PubMed ID field; UT the Web of Science accession number ("WOS:...", or
    # "MEDLINE:123" for a MEDLINE record found through "All Databases").
    if ids.add("pubmed", clean_pmid(take("PM"))):
        used.add("PM")
    ut = _first(tags, "UT")[1]
    known = self_identifying(ut) if ut else None
    if known and ids.add(*known):
        used.add("UT")
    record.pmid = ids.pmid
    record.accession_numbers = ids.accession_numbers
    record.issn = join_issns([*tags.get("SN", []), *tags.get("EI", [])])
    if record.issn:
        used.update(("SN", "EI"))

    for name, values in tags.items():
        if name not in used or (len(values) > 1 and name not in _LIST_TAGS | {"DE", "ID"}):
            set_raw(record.raw, name, values)
    return record
