"""Audit the identifiers the readers take from real database exports.

    python benchmarks/identifier_audit.py [--dir ../shared/data/references] [--markdown]

For every export in the folder (the trimmed real exports listed in tests/fixtures/README.md)
and the SYNERGY datasets beside them (../shared/data/screening), prints: records read, records
given a PMID, how many of those PMIDs the export itself labels as PubMed IDs (checked here
independently of the readers, on the file's own lines: must be all), how many PMIDs the reader
before issue 9 gave (the first bare number in AN, M1, C7, U1 or N1), and the accession numbers
found per database key.

"Labelled" means the PMID's digits stand on a line of the record that says PubMed: a PMID tag
or column (Web of Science: PM), "PMID: 123", "123 [PMID]", "MEDLINE:123", a PubMed link; or an
accession-number line (AN, UI, <accession-num>) of a record whose DB/DP tag names
MEDLINE/PubMed/NLM; or Scopus's C2 (its PubMed ID field) in a record whose DB tag is Scopus.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from screening.references.parsers import ParsedRecord, decode, parse_references  # noqa: E402

SHARED = Path(os.environ.get("REVIEWAPP_SHARED_DIR") or REPO.parent / "shared")
DEFAULT_DIR = SHARED / "data" / "references"

_SAYS_PUBMED = re.compile(r"pmid|pubmed|medline:|^PM ", re.IGNORECASE)
_DB_MEDLINE = re.compile(
    r"^(?:DB|DP)\s+-\s+.*(?:medline|pubmed|\bnlm\b)"
    r"|remote-database-(?:name|provider)>[^<]*(?:medline|pubmed|\bnlm\b)",
    re.IGNORECASE,
)
_DB_SCOPUS = re.compile(r"^DB\s+-\s+Scopus\s*$")
_LINK_MEDLINE = re.compile(r"ovid.*[?&]D=(?:med|mes|prem)|ebscohost.*db=(?:mdc|cmedm|mnh)", re.I)
_ACCESSION_LINE = re.compile(r"^(?:AN|UI)\s+-|<accession-num>")


@dataclass
class Row:
    name: str
    format: str
    records: int
    pmids: int
    labelled: int
    before: int | None
    keys: Counter[str]
    dois: int
    issns: int


def _blocks(text: str, records: list[ParsedRecord], fmt: str) -> list[list[str]]:
    """The source lines of each record (XML: one element per "line")."""
    if fmt == "endnote_xml":
        # EndNote writes a whole library on one line; every <record> is read, in order.
        elements = re.findall(r"<record>.*?</record>", text, re.DOTALL)
        elements = [re.sub(r"</?style[^>]*>", "", element) for element in elements]
        return [re.split(r"(?=<[a-z])", element) for element in elements][: len(records)]
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    starts = sorted(r.line for r in records)
    blocks = []
    for record in records:
        following = [s for s in starts if s > record.line]
        end = following[0] - 1 if following else len(lines)
        blocks.append(lines[record.line - 1 : end])
    return blocks


def _csv_labelled(text: str, record: ParsedRecord) -> bool:
    rows = list(csv.reader(io.StringIO(text.replace("\r\n", "\n"))))
    header = rows[0]
    number = re.compile(rf"(?<!\d)0*{record.pmid}(?!\d)")
    # The record's row: the one whose title cell is the record's title.
    for row in rows[1:]:
        if record.title and record.title in row:
            return any(
                number.search(cell) and _SAYS_PUBMED.search(f"{header[i]} {cell}")
                for i, cell in enumerate(row)
                if i < len(header)
            )
    return False


def labelled(block: list[str], pmid: str) -> bool:
    number = re.compile(rf"(?<!\d)0*{pmid}(?!\d)")
    medline = any(_DB_MEDLINE.search(line) for line in block)
    scopus = any(_DB_SCOPUS.match(line) for line in block)
    for line in block:
        if not number.search(line):
            continue
        if _SAYS_PUBMED.search(line) or _LINK_MEDLINE.search(line):
            return True
        if medline and _ACCESSION_LINE.search(line):
            return True
        if scopus and line.startswith("C2  -"):
            return True
    return False


_LEGACY_TAGS = ("AN", "M1", "C7", "U1", "N1")
_LEGACY_LABEL = re.compile(r"\bPMID\s*:?\s*(\d{1,9})\b", re.IGNORECASE)


def legacy_pmid(block: list[str]) -> bool:
    """Whether the RIS reader before issue 9 gave this record a PMID."""
    for tag in _LEGACY_TAGS:
        for line in block:
            if line.startswith(f"{tag}  - "):
                value = line[6:].strip()
                if (value.isdigit() and len(value) <= 8 and value.lstrip("0")) or (
                    _LEGACY_LABEL.search(value)
                ):
                    return True
    return False


def audit(path: Path) -> Row:
    data = path.read_bytes()
    result = parse_references(data, path.name)
    text, _ = decode(data)
    records = result.records
    blocks = _blocks(text, records, result.format)
    given = [(r, b) for r, b in zip(records, blocks, strict=True) if r.pmid]
    if result.format == "csv":
        ok = sum(1 for r, _ in given if _csv_labelled(text, r))
    else:
        ok = sum(1 for r, b in given if labelled(b, r.pmid))
    before = sum(1 for b in blocks if legacy_pmid(b)) if result.format == "ris" else None
    keys: Counter[str] = Counter(k for r in records for k in r.accession_numbers)
    return Row(
        path.name,
        result.format,
        len(records),
        len(given),
        ok,
        before,
        keys,
        sum(1 for r in records if r.doi),
        sum(1 for r in records if r.issn),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    paths = sorted(
        p
        for p in args.dir.iterdir()
        if p.suffix in (".ris", ".nbib", ".txt", ".csv", ".xml", ".bib", ".ciw")
    )
    synergy = args.dir.parent / "screening"
    if synergy.is_dir():
        paths += sorted(synergy.glob("*.ris"))
    if not paths:
        raise SystemExit(f"no exports in {args.dir}")
    rows = [audit(path) for path in paths]
    header = [
        "export",
        "format",
        "records",
        "PMIDs",
        "labelled",
        "before",
        "DOIs",
        "ISSNs",
        "accession keys",
    ]
    lines = []
    for row in rows:
        keys = ", ".join(f"{k} {n}" for k, n in sorted(row.keys.items())) or "-"
        before = "-" if row.before is None else str(row.before)
        lines.append(
            [
                row.name,
                row.format,
                str(row.records),
                str(row.pmids),
                str(row.labelled),
                before,
                str(row.dois),
                str(row.issns),
                keys,
            ]
        )
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for line in lines:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
        for line in [header, *lines]:
            print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
    unlabelled = [row.name for row in rows if row.labelled != row.pmids]
    if unlabelled:
        raise SystemExit(f"PMIDs the export did not label: {', '.join(unlabelled)}")


if __name__ == "__main__":
    main()
