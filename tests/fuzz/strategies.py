"""Inputs for the fuzz tests: seeds from real exports and ways to break them.

`FUZZ_EXAMPLES` (default 150) sets how many examples each property tries; CI keeps the default
so the fuzz suite runs in a few minutes on a shared machine. Run with FUZZ_EXAMPLES=5000 for a
deeper search before a release.
"""

import os
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES, SHARED_SCREENING

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=os.environ.get("FUZZ_RANDOM") != "1",  # CI is reproducible; FUZZ_RANDOM=1 explores
)

PARSER_FIXTURES = FIXTURES.parent / "screening" / "references" / "fixtures"
SEED_LIMIT = 6000  # bytes of a real export kept as a seed: enough for several records


def _read(path: Path) -> bytes:
    return path.read_bytes()[:SEED_LIMIT]


def _seeds() -> dict[str, list[bytes]]:
    ris = [_read(FIXTURES / "donners_sample.ris"), _read(PARSER_FIXTURES / "ovid_embase.ris")]
    ris += [_read(p) for p in sorted(SHARED_SCREENING.glob("*.ris"))]
    csv = _read(PARSER_FIXTURES / "scopus.csv")
    labels = [_read(p) for p in sorted(SHARED_SCREENING.glob("*.labels.csv"))]
    return {
        ".ris": ris,
        ".txt": [_read(PARSER_FIXTURES / "pubmed.nbib"), ris[0]],
        ".nbib": [_read(PARSER_FIXTURES / "pubmed.nbib")],
        ".bib": [_read(PARSER_FIXTURES / "records.bib")],
        ".xml": [_read(PARSER_FIXTURES / "endnote.xml")],
        ".csv": [csv, *labels],
        ".tsv": [csv.replace(b",", b"\t")],
    }


SEEDS = _seeds()
EXTENSIONS = sorted(SEEDS)


@st.composite
def mutated(draw: st.DrawFn, extension: str | None = None) -> tuple[bytes, str]:
    """A real export of a format, cut, spliced, duplicated, or sprinkled with bytes."""
    ext = extension or draw(st.sampled_from(EXTENSIONS))
    data = bytearray(draw(st.sampled_from(SEEDS[ext])))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        end = draw(st.integers(at, min(len(data), at + 200)))
        op = draw(st.sampled_from(["cut", "insert", "dup", "flip", "truncate", "line"]))
        if op == "cut":
            del data[at:end]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=40))
        elif op == "dup":
            data[at:at] = data[at:end] * draw(st.integers(1, 30))
        elif op == "flip":
            data[at] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[at:]
        else:  # a plausible line of another format or an odd character
            data[at:at] = draw(
                st.sampled_from(
                    [b"\nTY  - \n", b"\nER  -\n", b"\nPMID- \n", b"@article{", b"}", b"<record>",
                     b"</xml>", b'"', b"\r", b"\x00", "\u2028".encode(), b"\xef\xbb\xbf",
                     b"\nAU  - " + b"A" * 300 + b"\n", b"\nPY  - 99999\n", b"=", b"\\"]
                )
            )  # fmt: skip
    return bytes(data), ext


RIS_TAGS = ["TY", "TI", "T1", "AU", "A1", "PY", "Y1", "DA", "AB", "N2", "JO", "T2", "VL", "IS",
            "SP", "EP", "DO", "AN", "UR", "KW", "ER", "ZZ", "M3"]  # fmt: skip
MEDLINE_TAGS = ["PMID", "TI", "AB", "FAU", "AU", "DP", "TA", "JT", "VI", "IP", "PG", "LID", "AID",
                "MH", "OT", "PT", "XXXX"]  # fmt: skip
field_text = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n"), max_size=60
)


@st.composite
def structured(draw: st.DrawFn) -> tuple[bytes, str]:
    """Syntactically plausible files with random tags, values and order."""
    kind = draw(st.sampled_from(["ris", "medline", "bibtex", "csv", "xml"]))
    if kind == "ris":
        lines = [
            f"{draw(st.sampled_from(RIS_TAGS))}  - {draw(field_text)}"
            for _ in range(draw(st.integers(1, 25)))
        ]
        return "\n".join(lines).encode(), ".ris"
    if kind == "medline":
        lines = [
            f"{draw(st.sampled_from(MEDLINE_TAGS)):<4}- {draw(field_text)}"
            for _ in range(draw(st.integers(1, 25)))
        ]
        return "\n".join(lines).encode(), draw(st.sampled_from([".nbib", ".txt"]))
    if kind == "bibtex":
        entries = []
        for _ in range(draw(st.integers(1, 4))):
            fields = ",\n".join(
                f"  {draw(st.sampled_from(['title', 'author', 'year', 'doi', 'journal', 'x']))}"
                f" = {{{draw(field_text)}}}"
                for _ in range(draw(st.integers(0, 6)))
            )
            entry_type = draw(st.sampled_from(["article", "book", "misc", "", "comment"]))
            entries.append(f"@{entry_type}{{{draw(field_text)},\n{fields}\n}}")
        return "\n".join(entries).encode(), ".bib"
    if kind == "csv":
        header = draw(
            st.lists(st.sampled_from(["Title", "Authors", "Year", "DOI", "Abstract", "PMID",
                                      "Source title", "", "Title"]), min_size=1, max_size=6)
        )  # fmt: skip
        rows = [
            ",".join(draw(field_text).replace(",", " ") for _ in header)
            for _ in range(draw(st.integers(0, 8)))
        ]
        return "\n".join([",".join(header), *rows]).encode(), ".csv"
    records = "".join(
        f"<record><titles><title>{draw(field_text)}</title></titles>"
        f"<dates><year>{draw(field_text)}</year></dates></record>"
        for _ in range(draw(st.integers(0, 4)))
    )
    return f'<?xml version="1.0"?><xml><records>{records}</records></xml>'.encode(), ".xml"
