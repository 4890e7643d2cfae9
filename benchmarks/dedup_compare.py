"""Our deduplication beside bib-dedupe on public labelled data sets.

    python benchmarks/dedup_datasets.py            # once (else done on first run): data sets
    python benchmarks/dedup_compare.py             # the five reviews the issue names
    python benchmarks/dedup_compare.py --datasets stroke cardiac --no-bib-dedupe
    python benchmarks/dedup_compare.py --show 5    # print a few wrong removals and misses

Each record goes through the app's own path: the export's fields are written as RIS, read by
``parse_references`` and handed to ``find_duplicates`` through ``DedupRecord.from_parsed``, so
only what the app stores reaches the matcher. bib-dedupe 0.11 (the ``bench`` extra) gets the
export's own columns (prep, block, match, cluster). Both sides keep the lowest-numbered record of
each group they form and remove the others; the figures are per record:

- wrong removals: removed records that are not, by the labels, the same paper as the record
  kept for them (each one is a study lost to screening);
- missed duplicates: for each labelled paper, its records that are still kept, less one;
- sensitivity: correct removals / records the labels say to remove;
- specificity: 1 - wrong removals / labelled papers (records that must be kept);
- possible pairs (ours only): pairs left for a reviewer, and how many of them the labels call
  duplicates.

bib-dedupe's results are cached in var/dedup-data/<set>/bib_dedupe.json (its time included), so
that rerunning our side is quick; ``--refresh`` runs it again.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import dedup_datasets
from dedup_datasets import DATA_DIR, DEFAULT_SETS

from screening.references.dedup import DedupRecord, DedupResult, find_duplicates
from screening.references.parsers import parse_references

csv.field_size_limit(2**31 - 1)  # abstracts run long

# BibTeX entry types as RIS reference types.
_RIS_TYPES = {
    "article": "JOUR",
    "inproceedings": "CONF",
    "conference": "CONF",
    "proceedings": "CONF",
    "book": "BOOK",
    "inbook": "CHAP",
    "incollection": "CHAP",
    "phdthesis": "THES",
    "mastersthesis": "THES",
    "techreport": "RPRT",
    "misc": "GEN",
    "unpublished": "UNPB",
}


@dataclass(frozen=True)
class Scores:
    records: int
    papers: int
    to_remove: int
    removed: int
    wrong: int
    missed: int
    seconds: float

    @property
    def correct(self) -> int:
        return self.removed - self.wrong

    @property
    def sensitivity(self) -> float:
        return self.correct / self.to_remove if self.to_remove else 1.0

    @property
    def specificity(self) -> float:
        return 1 - self.wrong / self.papers if self.papers else 1.0


def load(name: str) -> tuple[list[dict[str, str]], dict[str, int]]:
    """The set's records, and each record's labelled paper (an index)."""
    folder = DATA_DIR / name
    if not (folder / "records.csv").exists():
        print(f"{folder} is missing: extracting the data sets first", file=sys.stderr)
        dedup_datasets.main([])
    with (folder / "records.csv").open(encoding="utf-8", newline="") as source:
        rows = [
            {k: (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(source)
        ]
    paper: dict[str, int] = {}
    with (folder / "merged_record_ids.csv").open(encoding="utf-8", newline="") as source:
        for number, row in enumerate(csv.reader(source)):
            if number == 0 or not row:
                continue
            for record_id in row[0].split(";"):
                if record_id.strip():
                    paper[record_id.strip()] = number
    next_paper = len(paper) + 10**6
    for row in rows:
        if row["ID"] not in paper:
            paper[row["ID"]] = next_paper
            next_paper += 1
    return rows, paper


def _ris_value(value: str) -> str:
    return " ".join(value.split())


def to_ris(rows: Sequence[dict[str, str]]) -> tuple[str, dict[int, str]]:
    """RIS text for the rows and, per line where a record starts, the record's ID."""
    lines: list[str] = []
    starts: dict[int, str] = {}

    def tag(name: str, value: str) -> None:
        value = _ris_value(value)
        if value:
            lines.append(f"{name}  - {value}")

    for row in rows:
        starts[len(lines) + 1] = row["ID"]
        lines.append(f"TY  - {_RIS_TYPES.get(row.get('ENTRYTYPE', '').lower(), 'JOUR')}")
        for author in row.get("author", "").split(" and "):
            tag("AU", author)
        tag("TI", row.get("title", ""))
        tag("T2", row.get("journal", "") or row.get("booktitle", ""))
        tag("PY", row.get("year", ""))
        tag("VL", row.get("volume", ""))
        tag("IS", row.get("number", "") or row.get("issue", ""))
        tag("SP", row.get("pages", ""))
        tag("AB", row.get("abstract", ""))
        tag("DO", row.get("doi", ""))
        tag("SN", row.get("isbn", "") or row.get("issn", ""))
        lines.append("ER  - ")
        lines.append("")
    return "\n".join(lines) + "\n", starts


def app_records(rows: Sequence[dict[str, str]]) -> tuple[list[DedupRecord], dict[int, str]]:
    """The rows as the app would store and deduplicate them, with each record's export ID."""
    text, starts = to_ris(rows)
    parsed = parse_references(text.encode("utf-8"), "export.ris")
    records: list[DedupRecord] = []
    ids: dict[int, str] = {}
    for index, record in enumerate(parsed.records):
        ids[index] = starts[record.line]
        records.append(DedupRecord.from_parsed(index, record))
    missing = len(rows) - len(records)
    if missing:
        # A record the parser skips is kept (never removed): count it so nothing hides.
        print(f"  note: the RIS reader skipped {missing} record(s)", file=sys.stderr)
    return records, ids


def score(
    ids: Sequence[str], groups: Iterable[Sequence[str]], paper: dict[str, int], seconds: float
) -> tuple[Scores, list[tuple[str, str]], list[list[str]]]:
    """Scores of a grouping whose lowest record (in ``ids`` order) is kept."""
    order = {record_id: position for position, record_id in enumerate(ids)}
    kept = set(ids)
    wrong: list[tuple[str, str]] = []
    removed = 0
    for group in groups:
        members = sorted(group, key=order.__getitem__)
        for member in members[1:]:
            kept.discard(member)
            removed += 1
            if paper[member] != paper[members[0]]:
                wrong.append((members[0], member))
    kept_per_paper: dict[int, list[str]] = {}
    for record_id in kept:
        kept_per_paper.setdefault(paper[record_id], []).append(record_id)
    missed = [found for found in kept_per_paper.values() if len(found) > 1]
    papers = len({paper[record_id] for record_id in ids})
    scores = Scores(
        records=len(ids),
        papers=papers,
        to_remove=len(ids) - papers,
        removed=removed,
        wrong=len(wrong),
        missed=sum(len(found) - 1 for found in missed),
        seconds=seconds,
    )
    return scores, wrong, missed


def run_ours(rows: Sequence[dict[str, str]]) -> tuple[DedupResult, dict[int, str], float]:
    records, ids = app_records(rows)
    started = time.perf_counter()
    result = find_duplicates(records)
    return result, ids, time.perf_counter() - started


def run_bib_dedupe(name: str, rows: Sequence[dict[str, str]], refresh: bool) -> dict[str, object]:
    cache = DATA_DIR / name / "bib_dedupe.json"
    if cache.exists() and not refresh:
        return json.loads(cache.read_text(encoding="utf-8"))
    import logging

    import pandas as pd
    from bib_dedupe.bib_dedupe import block, cluster, match, prep

    logging.disable(logging.WARNING)
    frame = pd.DataFrame(list(rows)).fillna("")
    started = time.perf_counter()
    matched = match(block(prep(frame, verbosity_level=0), verbosity_level=0), verbosity_level=0)
    groups = cluster(matched, verbosity_level=0)
    seconds = time.perf_counter() - started
    found = {"groups": [sorted(map(str, g)) for g in groups], "seconds": seconds}
    cache.write_text(json.dumps(found), encoding="utf-8")
    return found


def describe(row: dict[str, str]) -> str:
    return (
        f"[{row['ID']}] {row.get('title', '')[:110]} | {row.get('author', '')[:40]} | "
        f"{row.get('year', '')} | {row.get('journal', '')[:50]} | {row.get('volume', '')}"
        f"({row.get('number', '')}) {row.get('pages', '')} | {row.get('ENTRYTYPE', '')}"
    )


def row_of(scores: Scores, seconds: float | None = None) -> str:
    return (
        f"{scores.records:8,} {scores.to_remove:7,} {scores.wrong:6,} {scores.missed:7,} "
        f"{scores.sensitivity:7.4f} {scores.specificity:7.4f} {scores.seconds:8.2f}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="*", default=list(DEFAULT_SETS))
    parser.add_argument("--no-bib-dedupe", action="store_true")
    parser.add_argument("--refresh", action="store_true", help="run bib-dedupe again")
    parser.add_argument("--show", type=int, default=0, help="wrong removals and misses to print")
    parser.add_argument("--show-possible", type=int, default=0)
    args = parser.parse_args(argv)

    header = (
        f"{'data set':14} {'tool':10} {'records':>8} {'dupes':>7} {'wrong':>6} {'missed':>7} "
        f"{'sens':>7} {'spec':>7} {'seconds':>8}  possible (true)"
    )
    print(header)
    totals: dict[str, list[Scores]] = {"ours": [], "bib-dedupe": []}
    possible_total = [0, 0]
    for name in args.datasets:
        rows, paper = load(name)
        by_id = {row["ID"]: row for row in rows}
        ids = [row["ID"] for row in rows]
        result, index_ids, seconds = run_ours(rows)
        groups = [[index_ids[m] for m in group.member_ids] for group in result.groups]
        ours, wrong, missed = score(ids, groups, paper, seconds)
        true_possible = sum(
            paper[index_ids[p.a]] == paper[index_ids[p.b]] for p in result.possible_pairs
        )
        possible_total[0] += len(result.possible_pairs)
        possible_total[1] += true_possible
        totals["ours"].append(ours)
        print(
            f"{name:14} {'ours':10} {row_of(ours)}  {len(result.possible_pairs):,} "
            f"({true_possible:,})"
        )
        if not args.no_bib_dedupe:
            theirs_found = run_bib_dedupe(name, rows, args.refresh)
            theirs, _, _ = score(
                ids,
                theirs_found["groups"],  # type: ignore[arg-type] -- JSON of list[list[str]]
                paper,
                float(theirs_found["seconds"]),  # type: ignore[arg-type] -- JSON float
            )
            totals["bib-dedupe"].append(theirs)
            print(f"{'':14} {'bib-dedupe':10} {row_of(theirs)}")
        for kept, lost in wrong[: args.show]:
            print(f"  WRONG  kept {describe(by_id[kept])}\n         lost {describe(by_id[lost])}")
        for found in missed[: args.show]:
            print("  MISSED " + "\n         ".join(describe(by_id[i]) for i in found))
        for pair in result.possible_pairs[: args.show_possible]:
            same = paper[index_ids[pair.a]] == paper[index_ids[pair.b]]
            print(
                f"  POSSIBLE ({'same' if same else 'different'}; {pair.reason})\n"
                f"         {describe(by_id[index_ids[pair.a]])}\n"
                f"         {describe(by_id[index_ids[pair.b]])}"
            )
    for tool, runs in totals.items():
        if len(runs) < 2:
            continue
        total = Scores(
            records=sum(s.records for s in runs),
            papers=sum(s.papers for s in runs),
            to_remove=sum(s.to_remove for s in runs),
            removed=sum(s.removed for s in runs),
            wrong=sum(s.wrong for s in runs),
            missed=sum(s.missed for s in runs),
            seconds=sum(s.seconds for s in runs),
        )
        extra = f"  {possible_total[0]:,} ({possible_total[1]:,})" if tool == "ours" else ""
        print(f"{'all':14} {tool:10} {row_of(total)}{extra}")


if __name__ == "__main__":
    main()
