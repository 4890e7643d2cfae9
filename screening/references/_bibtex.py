"""BibTeX (.bib) through bibtexparser 1.4, with LaTeX accents turned into Unicode."""

from __future__ import annotations

import re

import bibtexparser
from bibtexparser.bibdatabase import UndefinedString
from bibtexparser.bparser import BibTexParser
from bibtexparser.customization import convert_to_unicode

from ._common import (
    ParsedRecord,
    ParseError,
    SkippedRecord,
    normalise_doi,
    pmid_field,
    snippet,
    split_lines,
    unusable_reason,
    year_in_text,
)
from .identifiers import Identifiers, join_issns, self_identifying

EXPECTED = "expected a BibTeX entry such as '@article{key,'"

_ENTRY_START = re.compile(r"^[ \t]*@[ \t]*(\w+)[ \t]*[{(][ \t]*([^,\s]*)", re.MULTILINE)
_NOT_ENTRIES = {"comment", "string", "preamble"}
_MAPPED = {
    "title",
    "abstract",
    "author",
    "year",
    "date",
    "journal",
    "journaltitle",
    "booktitle",
    "volume",
    "number",
    "issue",
    "pages",
    "doi",
    "pmid",
    "pubmed-id",
    "pubmedid",
    "pubmed_id",
    "pmcid",
    "issn",
    "eissn",
    "url",
    "keywords",
    "mesh",
    "ENTRYTYPE",
}


def parse(text: str) -> tuple[list[ParsedRecord], list[SkippedRecord]]:
    starts: list[tuple[int, str, str]] = [
        (text.count("\n", 0, match.start()) + 1, match.group(1).lower(), match.group(2))
        for match in _ENTRY_START.finditer(text)
        if match.group(1).lower() not in _NOT_ENTRIES
    ]
    if not starts:
        for number, text_line in enumerate(split_lines(text), 1):
            stripped = text_line.strip()
            if stripped and not stripped.startswith(("%", "@")):
                raise ParseError(f"{EXPECTED}, found {snippet(text_line)}", number)
        return [], []

    parser = BibTexParser(
        common_strings=True, ignore_nonstandard_types=False, interpolate_strings=True
    )
    try:
        database = bibtexparser.loads(text, parser)
    except UndefinedString as exc:
        raise ParseError(f"the @string macro {exc} is used but never defined") from exc

    records: list[ParsedRecord] = []
    skipped: list[SkippedRecord] = []
    entries = database.entries
    for position, (line, entry_type, key) in enumerate(starts):
        entry = entries[position] if position < len(entries) else None
        if entry is None or entry.get("ID", "") != key or entry["ENTRYTYPE"] != entry_type:
            # bibtexparser turns an entry it cannot read into a comment and moves on; the
            # upload should say where the damage is instead.
            raise ParseError(
                "expected a complete BibTeX entry (check its braces and commas), found "
                f"{snippet(split_lines(text)[line - 1])}",
                line,
            )
        record = _to_record(entry, line)
        reason = unusable_reason(record)
        if reason is None:
            records.append(record)
        else:
            skipped.append(SkippedRecord(line=line, reason=reason))
    return records, skipped


def _clean(value: str) -> str:
    return " ".join(value.replace("{", "").replace("}", "").split())


def _to_record(entry: dict[str, str], line: int) -> ParsedRecord:
    raw = {name: value for name, value in entry.items() if name not in _MAPPED}
    fields: dict[str, str] = convert_to_unicode(
        {name: entry[name] for name in entry if name in _MAPPED}
    )

    def get(*names: str) -> str:
        return next((_clean(fields[n]) for n in names if fields.get(n, "").strip()), "")

    authors = [
        _clean(author)
        for author in re.split(r"\s+and\s+", fields.get("author", ""))
        if author.strip() and author.strip().lower() != "others"
    ]
    keywords = [
        _clean(word)
        for word in re.split(r"[;,]", fields.get("keywords", "") + ";" + fields.get("mesh", ""))
        if word.strip()
    ]
    ids = Identifiers()
    # Fields named for PubMed (Web of Science writes "pubmed-id", Scopus "pubmed_id").
    ids.add("pubmed", pmid_field(get("pmid", "pubmed-id", "pubmedid", "pubmed_id")))
    if entry.get("eprinttype", "").strip().lower() == "pubmed":
        ids.add("pubmed", pmid_field(entry.get("eprint", "")))
    ids.add("pmcid", get("pmcid"))
    for name in ("note", "annote", "annotation", "extra"):
        ids.add_labelled_text(entry.get(name, ""))
    ids.add_url(get("url"))
    # Web of Science: "Unique-ID = {WOS:000...}"; Scopus: "eid" / the record link.
    for name in ("unique-id", "eid"):
        known = self_identifying(get(name) or entry.get(name, ""))
        if known:
            ids.add(*known)
    return ParsedRecord(
        title=get("title"),
        abstract=get("abstract"),
        authors=authors,
        year=year_in_text(get("year", "date")),
        journal=get("journal", "journaltitle", "booktitle"),
        volume=get("volume"),
        issue=get("number", "issue"),
        pages=get("pages").replace("--", "-"),
        doi=normalise_doi(get("doi")),
        pmid=ids.pmid,
        issn=join_issns([get("issn"), get("eissn")]),
        accession_numbers=ids.accession_numbers,
        url=get("url"),
        keywords=keywords,
        record_type=entry["ENTRYTYPE"],
        raw=raw,
        line=line,
    )
