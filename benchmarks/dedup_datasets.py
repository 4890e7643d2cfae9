"""Extract public labelled deduplication data sets into var/dedup-data/ (never committed).

    python benchmarks/dedup_datasets.py                 # download, then extract every set
    python benchmarks/dedup_datasets.py --wheel PATH    # extract from a wheel already here

Each data set is a real multi-database search export whose duplicates were checked by hand.
They are the sets that bib-dedupe (CoLRev-Environment/bib-dedupe, Wagner, Prester & Paré)
collected for its own evaluation, as its release 0.7.2 ships them (``bib_dedupe/data/``, the same
labels as the repository's ``data/`` at commit 67a1e0c, April 2024); that wheel is fetched with
``pip download bib-dedupe==0.7.2 --no-deps``. Their origins:

- cardiac (8,948 records), depression (79,880), diabetes (1,845), neuroimaging (3,438) and
  srsr (53,001): Hair K, Bahor Z, Macleod M, Liao J, Sena ES. The Automated Systematic Search
  Deduplicator (ASySD): a rapid, open-source, interoperable tool to remove duplicate citations
  in biomedical systematic reviews. BMC Biology 2023;21:189, doi:10.1186/s12915-023-01686-z;
  data at https://osf.io/c9evs/.
- stroke (1,292), cytology_screening (1,856), haematology (1,415) and respiratory (1,988):
  Rathbone J, Carter M, Hoffmann T, Glasziou P. Better duplicate detection for systematic
  reviewers: evaluation of Systematic Review Assistant-Deduplication Module. Systematic Reviews
  2015;4:6, doi:10.1186/2046-4053-4-6; data at https://osf.io/dyvnj/.
- digital_work (7,159): Wagner G, Prester J, Paré G. Exploring the boundaries and processes of
  digital platforms for knowledge work: a review of information systems research. Journal of
  Strategic Information Systems 2021;30(4):101694.

Each set lands in ``var/dedup-data/<name>/`` as ``records.csv`` (one row per record: ID,
ENTRYTYPE, author, year, title, journal, volume, number, pages, abstract, doi, ... as exported)
and ``merged_record_ids.csv`` (one hand-checked duplicate group per row, IDs joined by ";").
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

csv.field_size_limit(2**31 - 1)  # abstracts run long

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO / "var" / "dedup-data"
WHEEL_VERSION = "0.7.2"
# The five reviews the issue measures; the others are there with ``--datasets``.
DEFAULT_SETS = ("cardiac", "depression", "diabetes", "neuroimaging", "stroke")
ALL_SETS = (
    *DEFAULT_SETS,
    "cytology_screening",
    "haematology",
    "respiratory",
    "digital_work",
    "srsr",
)


def download_wheel(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    found = sorted(target.glob(f"bib_dedupe-{WHEEL_VERSION}-*.whl"))
    if found:
        return found[0]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            f"bib-dedupe=={WHEEL_VERSION}",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            str(target),
        ],
        check=True,
    )
    return sorted(target.glob(f"bib_dedupe-{WHEEL_VERSION}-*.whl"))[0]


def extract(wheel: Path, names: tuple[str, ...], out: Path) -> dict[str, int]:
    """Write each set's records and labels under ``out``; returns records per set."""
    counts: dict[str, int] = {}
    with zipfile.ZipFile(wheel) as archive:
        members = archive.namelist()
        for name in names:
            prefix = f"bib_dedupe/data/{name}/"
            parts = sorted(
                m
                for m in members
                if m.startswith(prefix) and Path(m).name.startswith("records_pre_merged")
            )
            if not parts:
                raise SystemExit(f"{wheel.name} has no records for {name!r}")
            target = out / name
            target.mkdir(parents=True, exist_ok=True)
            with (target / "records.csv").open("wb") as sink:
                for index, part in enumerate(parts):
                    with archive.open(part) as source:
                        header = source.readline()
                        if index == 0:
                            sink.write(header)
                        shutil.copyfileobj(source, sink)
            with archive.open(prefix + "merged_record_ids.csv") as source:
                (target / "merged_record_ids.csv").write_bytes(source.read())
            with (target / "records.csv").open(encoding="utf-8", newline="") as written:
                counts[name] = sum(1 for _ in csv.DictReader(written))
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, help="a bib_dedupe 0.7.2 wheel already downloaded")
    parser.add_argument("--datasets", nargs="*", default=list(ALL_SETS), choices=ALL_SETS)
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    parser.add_argument("--keep-wheel", action="store_true")
    args = parser.parse_args(argv)

    download_dir = Path(tempfile.mkdtemp(prefix="dedup-data-"))
    try:
        wheel = args.wheel or download_wheel(download_dir)
        counts = extract(wheel, tuple(args.datasets), args.out)
        if args.keep_wheel and not args.wheel:
            shutil.copy(wheel, args.out / wheel.name)
    finally:
        shutil.rmtree(download_dir, ignore_errors=True)
    for name, rows in counts.items():
        print(f"{name:20} {rows:7,} records -> {args.out / name}")


if __name__ == "__main__":
    main()
