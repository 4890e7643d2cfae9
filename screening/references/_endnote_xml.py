"""EndNote XML (``<xml><records><record>``), read with defusedxml to refuse entity attacks."""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XMLSyntaxError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ._common import (
    ParsedRecord,
    ParseError,
    SkippedRecord,
    doi_in_text,
    normalise_doi,
    split_lines,
    unusable_reason,
    year_in_text,
)
from .identifiers import Identifiers, join_issns, record_database, self_identifying

EXPECTED = "expected EndNote XML such as '<xml><records><record>'"

_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_RECORD_START = re.compile(r"<record[\s>]")
_MAPPED = {
    "ref-type",
    "contributors",
    "titles",
    "periodical",
    "pages",
    "volume",
    "number",
    "keywords",
    "dates",
    "electronic-resource-num",
    "accession-num",
    "urls",
    "abstract",
    "isbn",
}


def _text(element: Element | None) -> str:
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).split())


def parse(text: str) -> tuple[list[ParsedRecord], list[SkippedRecord]]:
    # The text is already decoded; an encoding declaration would contradict that.
    body = _DECLARATION.sub("", text, count=1)
    offset = text[: len(text) - len(body)].count("\n")
    try:
        root = fromstring(body)
    except XMLSyntaxError as exc:
        line = exc.position[0] + offset if getattr(exc, "position", None) else None
        message = str(exc).split(":", 1)[0]
        raise ParseError(f"{EXPECTED}; the XML is not well formed ({message})", line) from exc
    except DefusedXmlException as exc:
        raise ParseError(f"{EXPECTED}; the XML declares entities, which are not allowed") from exc

    if root.tag == "records":
        container: Element | None = root
    else:
        container = root.find("records")
    if container is None:
        raise ParseError(f"{EXPECTED}, found '<{root.tag}>'", _first_tag_line(text))

    record_lines = [
        text.count("\n", 0, match.start()) + 1 for match in _RECORD_START.finditer(text)
    ]
    records: list[ParsedRecord] = []
    skipped: list[SkippedRecord] = []
    for index, element in enumerate(container.findall("record")):
        line = record_lines[index] if index < len(record_lines) else 0
        record = _to_record(element, line)
        reason = unusable_reason(record)
        if reason is None:
            records.append(record)
        else:
            skipped.append(SkippedRecord(line=line, reason=reason))
    return records, skipped


def _first_tag_line(text: str) -> int:
    for number, line in enumerate(split_lines(text), 1):
        if "<" in line and not line.lstrip().startswith(("<?", "<!")):
            return number
    return 1


def _to_record(element: Element, line: int) -> ParsedRecord:
    ref_type = element.find("ref-type")
    record = ParsedRecord(line=line)
    record.record_type = (ref_type.get("name", "") if ref_type is not None else "") or _text(
        ref_type
    )
    record.title = _text(element.find("titles/title"))
    record.authors = [
        name for name in map(_text, element.findall("contributors/authors/author")) if name
    ]
    record.journal = (
        _text(element.find("periodical/full-title"))
        or _text(element.find("titles/secondary-title"))
        or _text(element.find("periodical/abbr-1"))
        or _text(element.find("titles/alt-title"))
    )
    record.year = year_in_text(_text(element.find("dates/year"))) or year_in_text(
        _text(element.find("dates"))
    )
    record.volume = _text(element.find("volume"))
    record.issue = _text(element.find("number"))
    record.pages = _text(element.find("pages"))
    record.abstract = _text(element.find("abstract"))
    doi_text = _text(element.find("electronic-resource-num"))
    record.doi = normalise_doi(doi_text) if doi_text.lower().find("10.") >= 0 else ""
    urls = [u for u in map(_text, element.findall("urls/related-urls/url")) if u]
    record.url = urls[0] if urls else ""
    if not record.doi:
        record.doi = next((d for d in map(doi_in_text, urls) if d), "")
    record.keywords = [k for k in map(_text, element.findall("keywords/keyword")) if k]

    raw: dict[str, object] = {}
    for child in element:
        if child.tag not in _MAPPED:
            _add_raw(raw, child.tag, _text(child))
    # Secondary parts of mapped groups (editors, alternative titles, URL lists, dates) are
    # kept too, so nothing the export carried is lost.
    for path in (
        "contributors/secondary-authors/author",
        "contributors/tertiary-authors/author",
        "titles/secondary-title",
        "titles/alt-title",
        "titles/short-title",
        "periodical/abbr-1",
        "dates/pub-dates/date",
        "urls/pdf-urls/url",
        "electronic-resource-num",
    ):
        for found in element.findall(path):
            _add_raw(raw, path, _text(found))
    if len(urls) > 1:
        raw["urls/related-urls/url"] = urls
    record.raw = raw
    _identifiers(element, record, urls)
    return record


def _identifiers(element: Element, record: ParsedRecord, urls: list[str]) -> None:
    """The same rules as RIS: EndNote's accession number belongs to the database that
    ``remote-database-name`` (or, failing it, ``remote-database-provider``) names."""
    database = record_database(
        [_text(element.find("remote-database-name"))],
        [_text(element.find("remote-database-provider"))],
    )
    ids = Identifiers()
    for path in ("notes", "research-notes", "custom1", "custom2", "custom3", "custom6", "label"):
        ids.add_labelled_text(_text(element.find(path)), database)
    for url in urls:
        ids.add_url(url)
    # EndNote keeps the PMCID of a PubMed record in custom2.
    known = self_identifying(_text(element.find("custom2")))
    if known:
        ids.add(*known)
    accession = _text(element.find("accession-num"))
    if accession and not ids.add_accession(accession, database):
        record.raw["accession-num"] = accession
    record.pmid = ids.pmid
    record.accession_numbers = ids.accession_numbers
    isbn = _text(element.find("isbn"))
    record.issn = join_issns([isbn])
    if isbn and not record.issn:
        record.raw["isbn"] = isbn  # an ISBN: kept as it was


def _add_raw(raw: dict[str, object], key: str, value: str) -> None:
    if not value:
        return
    existing = raw.get(key)
    if existing is None:
        raw[key] = value
    elif isinstance(existing, list):
        existing.append(value)
    else:
        raw[key] = [existing, value]
