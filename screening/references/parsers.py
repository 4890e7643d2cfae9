"""Turn an uploaded reference export into ``ParsedRecord`` objects.

``parse_references`` is the only entry point: it detects the text encoding, picks the reader
from the file extension (checking the content where extensions are ambiguous), and reports the
first line that cannot be read as that format. Records that are readable but unusable (no
title, DOI or PMID) come back as ``SkippedRecord`` so the importer can list them.
"""

from __future__ import annotations

import codecs
from pathlib import PurePath

from . import _bibtex, _delimited, _endnote_xml, _medline, _ris, _wos
from ._common import ParsedRecord, ParseError, ParseResult, SkippedRecord, snippet, split_lines
from ._delimited import CSV_COLUMNS

__all__ = [
    "CSV_COLUMNS",
    "SUPPORTED_EXTENSIONS",
    "ParseError",
    "ParseResult",
    "ParsedRecord",
    "SkippedRecord",
    "parse_references",
]

SUPPORTED_EXTENSIONS: dict[str, str] = {
    ".ris": "ris",
    ".txt": "pubmed",
    ".nbib": "pubmed",
    ".bib": "bibtex",
    ".xml": "endnote_xml",
    ".csv": "csv",
    ".tsv": "csv",
    ".ciw": "wos",
}

_EXPECTED = {
    "ris": _ris.EXPECTED,
    "pubmed": _medline.EXPECTED,
    "bibtex": _bibtex.EXPECTED,
    "endnote_xml": _endnote_xml.EXPECTED,
    "csv": "expected a header row of column names",
    "wos": _wos.EXPECTED,
}

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def parse_references(
    data: bytes, filename: str, *, column_map: dict[str, str] | None = None
) -> ParseResult:
    """Read every reference in ``data``.

    Raises ``ParseError`` (a ``ValueError``) for an unsupported extension, an empty file, a
    file that is not the format its extension names (with the first offending line), or a
    file with no records. Never raises anything else, whatever the bytes.
    """
    extension = PurePath(filename).suffix.lower()
    fmt = SUPPORTED_EXTENSIONS.get(extension)
    if fmt is None:
        allowed = ", ".join(sorted(SUPPORTED_EXTENSIONS))
        shown = f"'{extension}'" if extension else "no extension"
        raise ParseError(f"unsupported file type ({shown}); upload one of: {allowed}")
    if not data.strip():
        raise ParseError("the file is empty")
    text, encoding = decode(data)
    if not text.strip():
        raise ParseError("the file is empty")
    fmt = _refine_format(fmt, text, extension)
    _reject_binary(text, fmt)
    try:
        records, skipped = _read(fmt, text, extension, column_map)
    except ParseError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        # Third-party readers (bibtexparser, the XML parser) may fail in their own ways on
        # malformed input; callers are promised a ParseError only.
        raise ParseError(f"{_EXPECTED[fmt]}; the file could not be read ({exc})") from exc
    if not records:
        if skipped:
            raise ParseError(
                f"no records found that can be imported: {len(skipped)} record(s) have no "
                "title, DOI or PMID"
            )
        raise ParseError(f"no records found in this {fmt_label(fmt)} file")
    return ParseResult(format=fmt, encoding=encoding, records=records, skipped=skipped)


def fmt_label(fmt: str) -> str:
    return {
        "ris": "RIS",
        "pubmed": "PubMed/MEDLINE",
        "bibtex": "BibTeX",
        "endnote_xml": "EndNote XML",
        "csv": "CSV",
        "wos": "Web of Science",
    }[fmt]


def decode(data: bytes) -> tuple[str, str]:
    """Decode ``data`` and name the encoding: BOM first, then UTF-8, then cp1252/Latin-1."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = data.decode(encoding, errors="replace")
            return text.lstrip("\ufeff"), encoding
    sample = data[:4000]
    if len(sample) >= 4 and sample.count(0) * 3 >= len(sample):
        # UTF-16 without a BOM: ASCII text leaves every other byte zero.
        even_zeros = sample[0::2].count(0)
        odd_zeros = sample[1::2].count(0)
        if max(even_zeros, odd_zeros) * 4 >= len(sample) * 3 // 2:
            encoding = "utf-16-le" if odd_zeros > even_zeros else "utf-16-be"
            return data.decode(encoding, errors="replace"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _refine_format(fmt: str, text: str, extension: str) -> str:
    # A .txt can be RIS, MEDLINE or Web of Science, and people rename one to another; trust
    # the content.
    if fmt in ("ris", "pubmed", "wos"):
        if _wos.looks_like_wos(text):
            return "wos"
        if _ris.looks_like_ris(text):
            return "ris"
        if _medline.looks_like_medline(text):
            return "pubmed"
    return fmt


def _reject_binary(text: str, fmt: str) -> None:
    head = text[:8000]
    bad = sum(1 for ch in head if ch < " " and ch not in "\t\n\r\f") + head.count("\ufffd")
    if "\x00" in head or bad > max(8, len(head) // 100):
        # Binary content is wrong from its first byte, so the first non-blank line is reported.
        lines = split_lines(head)
        number = next((i for i, line in enumerate(lines, 1) if line.strip()), 1)
        raise ParseError(
            f"{_EXPECTED[fmt]}, found binary data (is this an image, a PDF or a Word "
            f"document?) {snippet(lines[number - 1], 20)}",
            number,
        )


def _read(
    fmt: str, text: str, extension: str, column_map: dict[str, str] | None
) -> tuple[list[ParsedRecord], list[SkippedRecord]]:
    if fmt == "ris":
        return _ris.parse(text)
    if fmt == "pubmed":
        return _medline.parse(text)
    if fmt == "bibtex":
        return _bibtex.parse(text)
    if fmt == "endnote_xml":
        return _endnote_xml.parse(text)
    if fmt == "wos":
        return _wos.parse(text)
    return _delimited.parse(text, is_tsv=extension == ".tsv", column_map=column_map)
