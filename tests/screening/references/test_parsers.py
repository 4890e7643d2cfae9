import codecs
import contextlib
import json
from pathlib import Path

import pytest
import rispy

from screening.references.parsers import (
    CSV_COLUMNS,
    SUPPORTED_EXTENSIONS,
    ParseError,
    parse_references,
)
from tests.conftest import SHARED_SCREENING as SCREENING_DATA

FIXTURES = Path(__file__).resolve().parent / "fixtures"

RIS_ONE = "TY  - JOUR\nTI  - A title\nAU  - Smith, John\nPY  - 2020\nDO  - 10.1/X\nER  - \n"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# --- RIS --------------------------------------------------------------------------------------


def test_it_reads_variant_ris_tags_from_an_ovid_export() -> None:
    result = parse_references(fixture("ovid_embase.ris"), "embase.ris")

    assert result.format == "ris"
    assert result.encoding == "utf-8"
    first, second = result.records
    assert first.title == "Emicizumab prophylaxis in haemophilia A with inhibitors"
    assert first.authors == ["Oldenburg, Johannes", "Mahlangu, Johnny N."]
    assert first.year == 2017
    assert first.journal == "New England Journal of Medicine"
    assert first.abstract.endswith("haemophilia A and inhibitors were randomised.")
    assert (first.volume, first.issue, first.pages) == ("377", "9", "809-818")
    assert first.doi == "10.1056/nejmoa1703068"
    assert first.pmid == "28691557"
    assert first.keywords == ["emicizumab", "hemophilia A", "inhibitor"]
    assert first.record_type == "JOUR"
    assert first.line == 4
    assert second.line == 26
    assert second.journal == "Blood"


def test_it_keeps_unknown_ris_tags_in_raw() -> None:
    first = parse_references(fixture("ovid_embase.ris"), "embase.ris").records[0]

    assert first.raw["ZZ"] == "kept verbatim"
    assert first.raw["DB"] == "Embase"
    # An Embase accession number is not a PubMed id: it is kept as what it is.
    assert first.accession_numbers == {"embase": "620123456"}
    assert "AN" not in first.raw
    assert first.raw["JA"] == "N Engl J Med"
    json.dumps(first.raw)


def test_it_skips_a_ris_record_without_title_doi_or_pmid() -> None:
    result = parse_references(fixture("ovid_embase.ris"), "embase.ris")

    assert len(result.skipped) == 1
    assert result.skipped[0].line == 33
    assert "no title" in result.skipped[0].reason


def test_it_tolerates_crlf_cr_and_blank_lines() -> None:
    text = "\n\n" + RIS_ONE.replace("TI  -", "\nTI  -") + "\n\n" + RIS_ONE
    for newline in ("\r\n", "\r"):
        result = parse_references(text.replace("\n", newline).encode(), "x.ris")
        assert [r.title for r in result.records] == ["A title", "A title"]
        assert [r.line for r in result.records] == [3, 12]


def test_it_closes_a_ris_record_that_lacks_er_at_the_next_ty() -> None:
    text = RIS_ONE.replace("ER  - \n", "") + RIS_ONE.replace("ER  - \n", "ER  -")

    result = parse_references(text.encode(), "x.ris")

    assert [r.line for r in result.records] == [1, 6]


def test_it_reads_the_record_counters_rispy_writes() -> None:
    text = "1.\n" + RIS_ONE + "\n2.\n" + RIS_ONE

    result = parse_references(text.encode(), "x.ris")

    assert [r.line for r in result.records] == [2, 10]


def test_it_rejects_free_text_named_ris_with_the_first_bad_line() -> None:
    with pytest.raises(ParseError) as error:
        parse_references(b"hello\nworld\n", "x.ris")

    assert error.value.line == 1
    assert str(error.value) == "line 1: expected a RIS tag such as 'TY  - ', found 'hello'"


def test_it_rejects_a_ris_tag_outside_a_record() -> None:
    text = RIS_ONE + "\nTI  - orphan\n"

    with pytest.raises(ParseError) as error:
        parse_references(text.encode(), "x.ris")

    assert error.value.line == 8
    assert "expected 'TY  - ' to start a record" in error.value.message


def test_it_matches_rispy_on_the_real_exports() -> None:
    if not SCREENING_DATA.is_dir():
        pytest.skip("shared screening data not available")
    path = SCREENING_DATA / "Sep_2021.ris"
    ours = parse_references(path.read_bytes(), path.name).records
    theirs = rispy.loads(path.read_text(encoding="utf-8"))

    assert [r.title for r in ours] == [entry.get("title", "") for entry in theirs]
    assert [r.authors for r in ours] == [entry.get("authors", []) for entry in theirs]


@pytest.mark.parametrize(
    ("name", "count"),
    [("Donners_2021", 257), ("Sep_2021", 271), ("Nelson_2002", 365), ("Meijboom_2021", 882)],
)
def test_it_reads_every_record_of_the_real_exports(name: str, count: int) -> None:
    path = SCREENING_DATA / f"{name}.ris"
    if not path.is_file():
        pytest.skip("shared screening data not available")

    result = parse_references(path.read_bytes(), path.name)

    assert len(result.records) == count
    assert result.skipped == []
    assert all(r.title for r in result.records)
    assert sum(1 for r in result.records if r.doi) > count * 0.8
    assert all(r.raw["ID"].startswith("W") for r in result.records)


# --- PubMed / MEDLINE -------------------------------------------------------------------------


def test_it_reads_a_pubmed_nbib_export() -> None:
    result = parse_references(fixture("pubmed.nbib"), "pubmed.nbib")

    assert result.format == "pubmed"
    first, second, third = result.records
    assert first.pmid == "28691557"
    assert first.title == "Emicizumab Prophylaxis in Hemophilia A with Inhibitors."
    assert first.abstract.endswith("METHODS: We conducted a randomized trial.")
    assert first.authors == ["Oldenburg, Johannes", "Mahlangu, Johnny N"]
    assert first.year == 2017
    assert first.journal == "The New England journal of medicine"
    assert (first.volume, first.issue, first.pages) == ("377", "9", "809-818")
    assert first.doi == "10.1056/nejmoa1703068"
    assert first.keywords == [
        "Antibodies, Bispecific/*therapeutic use",
        "Hemophilia A/*drug therapy",
        "emicizumab",
    ]
    assert first.record_type == "Journal Article"
    assert first.raw["PT"] == ["Journal Article", "Randomized Controlled Trial"]
    assert first.raw["TA"] == "N Engl J Med"
    assert first.raw["AU"] == ["Oldenburg J", "Mahlangu JN"]
    assert first.raw["OWN"] == "NLM"
    assert first.line == 2
    assert second.title == "A second record without a blank line before the next one."
    assert (second.line, third.line) == (29, 35)
    assert third.year == 2019


def test_it_reads_a_txt_that_looks_like_ris_as_ris() -> None:
    result = parse_references(RIS_ONE.encode(), "export.txt")

    assert result.format == "ris"
    assert result.records[0].title == "A title"


def test_it_reads_a_txt_that_looks_like_medline_as_pubmed() -> None:
    result = parse_references(fixture("pubmed.nbib"), "export.txt")

    assert result.format == "pubmed"


def test_it_rejects_a_medline_file_with_a_line_that_is_not_a_tag() -> None:
    text = "PMID- 1\nTI  - A title\nnot a tag\n"

    with pytest.raises(ParseError) as error:
        parse_references(text.encode(), "x.nbib")

    assert error.value.line == 3
    assert "expected a MEDLINE tag such as 'PMID- '" in str(error.value)


# --- CSV --------------------------------------------------------------------------------------


def test_it_reads_a_scopus_csv_export() -> None:
    result = parse_references(fixture("scopus.csv"), "scopus.csv")

    assert result.format == "csv"
    first, second = result.records
    assert first.title == "Emicizumab prophylaxis in hemophilia A with inhibitors"
    assert first.authors == ["Oldenburg J.", "Mahlangu J.N."]
    assert first.year == 2017
    assert first.journal == "New England Journal of Medicine"
    assert first.pages == "809-818"
    assert first.doi == "10.1056/nejmoa1703068"
    assert first.pmid == "28691557"
    assert first.keywords == ["emicizumab", "hemophilia"]
    assert (
        first.abstract == 'Emicizumab is a bispecific antibody, "humanised".\nIt spans two lines.'
    )
    assert first.record_type == "Article"
    assert first.raw["Author full names"] == "Oldenburg, Johannes; Mahlangu, Johnny N."
    assert first.raw["Cited by"] == "812"
    assert first.line == 2
    assert second.line == 6
    assert [s.line for s in result.skipped] == [5]


def test_it_sniffs_semicolons_and_tabs() -> None:
    semicolons = "Title;Year;DOI\nFirst;2020;10.1/a\nSecond;2021;\n"
    tabs = semicolons.replace(";", "\t")

    for data, name in ((semicolons, "x.csv"), (tabs, "x.tsv"), (tabs, "x.csv")):
        result = parse_references(data.encode(), name)
        assert [r.title for r in result.records] == ["First", "Second"]
        assert result.records[0].doi == "10.1/a"


def test_it_maps_columns_with_an_explicit_column_map() -> None:
    data = b"Name of paper,When,Writers,Extra\nA study,2019,Smith A; Doe B,x\n"

    record = parse_references(
        data, "x.csv", column_map={"name of paper": "title", "When": "year", "Writers": "authors"}
    ).records[0]

    assert (record.title, record.year, record.authors) == ("A study", 2019, ["Smith A", "Doe B"])
    assert record.raw == {"Extra": "x"}


def test_it_splits_pubmed_csv_authors_on_commas() -> None:
    data = b'Title,Authors\nA,"Smith J, Doe AB, van der Berg K."\nB,"Smith, John"\n'

    first, second = parse_references(data, "pubmed.csv").records

    assert first.authors == ["Smith J", "Doe AB", "van der Berg K."]
    assert second.authors == ["Smith, John"]


def test_it_rejects_a_csv_without_a_title_column() -> None:
    with pytest.raises(ParseError) as error:
        parse_references(b"foo,bar\n1,2\n", "x.csv")

    assert error.value.line == 1
    assert "title column" in error.value.message


def test_it_rejects_an_unknown_target_in_the_column_map() -> None:
    with pytest.raises(ParseError, match="unknown column"):
        parse_references(b"T\nx\n", "x.csv", column_map={"T": "headline"})


def test_it_exposes_the_csv_columns_and_extensions() -> None:
    assert CSV_COLUMNS[0] == "title"
    assert SUPPORTED_EXTENSIONS[".nbib"] == "pubmed"
    assert SUPPORTED_EXTENSIONS[".tsv"] == "csv"


# --- BibTeX and EndNote XML -------------------------------------------------------------------


def test_it_reads_a_bibtex_file() -> None:
    result = parse_references(fixture("records.bib"), "library.bib")

    assert result.format == "bibtex"
    first, second = result.records
    assert first.title == "Emicizumab Prophylaxis in Hemophilia A with Inhibitors"
    assert first.authors == ["Oldenburg, Johannes", "Mahlangu, Johnny N.", "Müller, Hans"]
    assert first.journal == "New England Journal of Medicine"
    assert (first.year, first.volume, first.issue, first.pages) == (2017, "377", "9", "809-818")
    assert first.doi == "10.1056/nejmoa1703068"
    assert first.pmid == "28691557"
    assert first.keywords == ["emicizumab", "hemophilia"]
    assert first.record_type == "article"
    assert first.raw == {"ID": "oldenburg2017", "note": "kept verbatim"}
    assert first.line == 4
    assert second.line == 18
    assert second.authors == ["Smith, J."]
    assert second.journal == "Blood"


def test_it_rejects_a_bibtex_entry_with_unbalanced_braces() -> None:
    data = b"@article{a, title={One}}\n\n@article{b, title={Two\n@article{c, title={Three}}\n"

    with pytest.raises(ParseError) as error:
        parse_references(data, "x.bib")

    assert error.value.line == 3


def test_it_rejects_a_bib_file_with_no_entries() -> None:
    with pytest.raises(ParseError) as error:
        parse_references(b"\nthis is not bibtex\n", "x.bib")

    assert error.value.line == 2
    assert "expected a BibTeX entry" in error.value.message


def test_it_reads_an_endnote_xml_export() -> None:
    result = parse_references(fixture("endnote.xml"), "library.xml")

    assert result.format == "endnote_xml"
    first, second = result.records
    assert first.title == "Emicizumab prophylaxis in hemophilia A with inhibitors"
    assert first.authors == ["Oldenburg, Johannes", "Mahlangu, Johnny N."]
    assert first.journal == "New England Journal of Medicine"
    assert (first.year, first.volume, first.issue, first.pages) == (2017, "377", "9", "809-818")
    assert first.doi == "10.1056/nejmoa1703068"
    assert first.pmid == "28691557"
    assert first.keywords == ["emicizumab", "hemophilia"]
    assert first.record_type == "Journal Article"
    assert first.url == "https://pubmed.ncbi.nlm.nih.gov/28691557/"
    assert first.raw["periodical/abbr-1"] == "N Engl J Med"
    assert first.raw["remote-database-name"] == "MEDLINE"
    assert (first.line, second.line) == (3, 13)
    assert [s.line for s in result.skipped] == [14]


def test_it_rejects_malformed_xml_at_the_broken_line() -> None:
    data = b'<?xml version="1.0"?>\n<xml><records>\n<record><titles>\n</record></records></xml>\n'

    with pytest.raises(ParseError) as error:
        parse_references(data, "x.xml")

    assert error.value.line == 4


def test_it_rejects_xml_entity_expansion() -> None:
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>\n'
        b"<xml><records><record><titles><title>&b;</title></titles></record></records></xml>"
    )

    with pytest.raises(ParseError, match="entities"):
        parse_references(data, "x.xml")


def test_it_rejects_xml_that_is_not_endnote() -> None:
    with pytest.raises(ParseError) as error:
        parse_references(b"<?xml version='1.0'?>\n<html><body/></html>", "x.xml")

    assert "<records>" in error.value.message
    assert error.value.line == 2


# --- encodings and bad files ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encode", "expected"),
    [
        (lambda text: text.encode("utf-8"), "utf-8"),
        (lambda text: codecs.BOM_UTF8 + text.encode("utf-8"), "utf-8-sig"),
        (lambda text: text.encode("utf-16"), "utf-16"),
        (lambda text: text.encode("utf-16-le"), "utf-16"),
        (lambda text: text.encode("cp1252"), "cp1252"),
    ],
)
def test_it_detects_the_encoding(encode, expected: str) -> None:  # type: ignore[no-untyped-def]
    text = RIS_ONE.replace("A title", "Étude – “naïve” patients")

    result = parse_references(encode(text), "x.ris")

    assert result.encoding == expected
    assert result.records[0].title == "Étude – “naïve” patients"


def test_it_falls_back_to_latin_1() -> None:
    data = RIS_ONE.replace("A title", "Caf\u00e9").encode("latin-1") + b"N1  - \x81\n"

    result = parse_references(data.replace(b"ER  - \n", b"") + b"ER  - \n", "x.ris")

    assert result.encoding == "latin-1"
    assert result.records[0].title == "Café"


@pytest.mark.parametrize("name", ["x.pdf", "x.docx", "x", "x.ris.exe"])
def test_it_rejects_an_unsupported_extension(name: str) -> None:
    with pytest.raises(ParseError) as error:
        parse_references(RIS_ONE.encode(), name)

    assert ".ris" in error.value.message and ".nbib" in error.value.message
    assert error.value.line is None


@pytest.mark.parametrize("data", [b"", b"   \n\r\n\t ", codecs.BOM_UTF8 + b"\n"])
def test_it_rejects_an_empty_file(data: bytes) -> None:
    with pytest.raises(ParseError) as error:
        parse_references(data, "x.ris")

    assert str(error.value) == "the file is empty"


def test_it_rejects_a_png_renamed_ris() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256))

    with pytest.raises(ParseError) as error:
        parse_references(png, "picture.ris")

    assert error.value.line == 1
    assert "binary" in error.value.message


def test_it_rejects_a_word_document_renamed_csv() -> None:
    docx = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + b"[Content_Types].xml" * 20

    with pytest.raises(ParseError) as error:
        parse_references(docx, "refs.csv")

    assert error.value.line == 1


def test_it_rejects_a_file_with_only_unusable_records() -> None:
    with pytest.raises(ParseError, match="no records found"):
        parse_references(b"TY  - JOUR\nPY  - 2000\nER  - \n", "x.ris")


def test_it_rejects_a_csv_with_a_header_but_no_rows() -> None:
    with pytest.raises(ParseError, match="no records found"):
        parse_references(b"Title,Year\n", "x.csv")


@pytest.mark.parametrize("extension", sorted(SUPPORTED_EXTENSIONS))
def test_it_never_raises_anything_but_parse_error_on_garbage(extension: str) -> None:
    import random

    rng = random.Random(extension)
    samples = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 600))) for _ in range(60)]
    samples += [
        b"TY  - \n" * 3,
        b"@article{",
        b"<xml><records><record>",
        b'"unterminated,quote\n',
        b"\x00" * 10,
        b"PMID-",
        "\u2028TY  - JOUR\u2028".encode(),
        b"TY  - JOUR\nTI  - x\n\x00\x01\x02",
    ]
    for sample in samples:
        with contextlib.suppress(ParseError):
            parse_references(sample, f"x{extension}")
