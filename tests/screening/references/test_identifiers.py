"""Identifiers only where the export says so (issue 9, "No study lost").

The first part reproduces each finding on records written in the shape each database exports;
the second reads the trimmed real exports listed in tests/fixtures/README.md (kept in
shared/data/references beside the checkout).
"""

from collections import Counter

import pytest

from screening.references.identifiers import (
    accession_list,
    accession_url,
    database_named,
    identifier_in_url,
    issns_in,
    labelled_pmid,
    record_database,
)
from screening.references.parsers import ParsedRecord, ParseError, parse_references
from tests.conftest import SHARED_REFERENCES, SHARED_SCREENING


def ris(*lines: str) -> ParsedRecord:
    text = "\n".join(("TY  - JOUR", "TI  - A title", *lines, "ER  - ", ""))
    return parse_references(text.encode(), "export.ris").records[0]


# --- the findings -----------------------------------------------------------------------------


def test_it_does_not_take_a_scopus_article_number_for_a_pmid() -> None:
    record = ris(
        "DB  - Scopus",
        "C7  - 107538",
        "UR  - https://www.scopus.com/inward/record.uri?eid=2-s2.0-85141483180&partnerID=40",
    )

    assert record.pmid == ""
    assert record.accession_numbers == {"scopus": "2-s2.0-85141483180"}
    assert record.raw["C7"] == "107538"  # the article number is kept as it was


def test_it_does_not_take_a_web_of_science_article_number_for_a_pmid() -> None:
    record = ris("SN  - 0951-8320", "SN  - 1879-0836", "C7  - 106558", "AN  - WOS:000491685000028")

    assert record.pmid == ""
    assert record.accession_numbers == {"wos": "WOS:000491685000028"}
    assert record.issn == "0951-8320; 1879-0836"


@pytest.mark.parametrize("tag", ["M1", "U1", "N1", "C7", "C2", "ID"])
def test_it_takes_no_pmid_from_a_bare_number_in_a_free_tag(tag: str) -> None:
    assert ris(f"{tag}  - 28691557").pmid == ""


@pytest.mark.parametrize(
    "line",
    [
        "N1  - PMID: 28691557",
        "M1  - PMID 28691557",
        "U1  - 28691557 [PMID]",
        "N1  - Accession Number: 2017-1234-001. PMID: 28691557 Partial author list",
        "L2  - https://pubmed.ncbi.nlm.nih.gov/28691557/",
        "UR  - https://www.ncbi.nlm.nih.gov/pubmed/28691557",
    ],
)
def test_it_takes_a_pmid_the_export_labels(line: str) -> None:
    assert ris(line).pmid == "28691557"


def test_a_note_citing_another_article_gives_no_pmid() -> None:
    record = ris("N1  - Comment in: Lancet. 2020;395(10):1. PMID: 31999999")

    assert record.pmid == ""


@pytest.mark.parametrize(
    ("database", "expected_pmid", "expected_accessions"),
    [
        (["DB  - Ovid MEDLINE(R) <2021>"], "28691557", {}),
        (["DB  - MEDLINE", "DP  - EBSCOhost"], "28691557", {}),
        (["DP  - NLM"], "28691557", {}),
        (["DB  - Embase"], "", {"embase": "28691557"}),
        (["DB  - APA PsycInfo", "DP  - Ovid Technologies"], "", {"psycinfo": "28691557"}),
        (["DB  - cin20", "DP  - EBSCOhost"], "", {"cinahl": "28691557"}),
        (["DB  - Academic Search Premier", "DP  - EBSCOhost"], "", {"ebsco": "28691557"}),
        ([], "", {"unknown": "28691557"}),
        (["DP  - Google Scholar"], "", {"unknown": "28691557"}),
        # A merged record naming two databases cannot say whose number it carries.
        (["DB  - Dimensions, LENS"], "", {"unknown": "28691557"}),
    ],
)
def test_an_accession_number_is_a_pmid_only_when_the_database_is_medline(
    database: list[str], expected_pmid: str, expected_accessions: dict[str, str]
) -> None:
    record = ris(*database, "AN  - 28691557")

    assert record.pmid == expected_pmid
    assert record.accession_numbers == expected_accessions


def test_an_accession_number_repeating_the_labelled_pmid_is_that_pmid() -> None:
    # This app's own RIS export writes AN and a "PMID:" note; reading it back gives one PMID.
    record = ris("AN  - 28691557", "N1  - PMID: 28691557")

    assert (record.pmid, record.accession_numbers) == ("28691557", {})


def test_a_second_accession_number_of_the_same_database_stays_in_raw() -> None:
    record = ris("AN  - 111", "AN  - 222")

    assert record.accession_numbers == {"unknown": "111"}
    assert record.raw["AN"] == ["111", "222"]


def test_scopus_c2_is_the_pubmed_id_and_endnote_c2_the_pmcid() -> None:
    assert ris("DB  - Scopus", "C2  - 39549413").pmid == "39549413"
    endnote = ris("DP  - NLM", "AN  - 29657938", "C2  - PMC5887696")
    assert endnote.pmid == "29657938"
    assert endnote.accession_numbers == {"pmcid": "PMC5887696"}


def test_it_reads_dimensions_labels_and_ids() -> None:
    record = ris(
        "AN  - pub.1149029839",
        "U1  - 35957633 [PMID]",
        "U1  - PMC9359172 [PMCID]",
        "UR  - https://app.dimensions.ai/details/publication/pub.1149029839",
    )

    assert record.pmid == "35957633"
    assert record.accession_numbers == {"dimensions": "pub.1149029839", "pmcid": "PMC9359172"}


def test_it_reads_the_database_of_an_ebscohost_or_ovid_link() -> None:
    psycinfo = ris(
        "AN  - 2007-17475-001",
        "DP  - EBSCOhost",
        "UR  - https://search.ebscohost.com/login.aspx?direct=true&db=psyh&AN=2007-17475-001",
    )
    medline = ris("L2  - http://ovidsp.ovid.com/ovidweb.cgi?T=JS&D=med22&NEWS=N&AN=36123456")

    assert psycinfo.accession_numbers == {"psycinfo": "2007-17475-001"}
    assert (medline.pmid, medline.accession_numbers) == ("36123456", {})


def test_it_keeps_an_isbn_in_raw_and_drops_an_issn_with_a_bad_check_digit() -> None:
    book = ris("SN  - 978-0-19-968267-6")
    wrong = ris("SN  - 1999-7777")

    assert book.issn == "" and book.raw["SN"] == "978-0-19-968267-6"
    assert wrong.issn == ""


def test_it_reads_medline_pmc_and_issn_tags() -> None:
    text = (
        "PMID- 29657938\nIS  - 2277-9175 (Print)\nIS  - 2277-9175 (Linking)\n"
        "TI  - A title.\nPMC - PMC5887696\n"
    )

    record = parse_references(text.encode(), "x.nbib").records[0]

    assert (record.pmid, record.issn) == ("29657938", "2277-9175")
    assert record.accession_numbers == {"pmcid": "PMC5887696"}


def test_it_reads_ovid_tagged_exports() -> None:
    text = (
        "<1. >\nVN  - Ovid Technologies\nDB  - Embase\nUI  - 621381829\n"
        "TI  - Quality of life: a review.\nAB  - Background: short.\nMethod(s): not indented.\n"
        "IS  - 1753-6561\nDO  - http://dx.doi.org/10.1186/s12919-018-0099-8\nYR  - 2018\n\n"
        "<2. >\nVN  - Ovid Technologies\nDB  - Ovid MEDLINE(R)\nUI  - 28691557\nTI  - Two.\n"
    )

    first, second = parse_references(text.encode(), "ovid.txt").records

    assert first.accession_numbers == {"embase": "621381829"} and first.pmid == ""
    assert first.abstract == "Background: short. Method(s): not indented."
    assert (first.doi, first.issn, first.year) == ("10.1186/s12919-018-0099-8", "1753-6561", 2018)
    assert second.pmid == "28691557" and second.accession_numbers == {}


def test_it_reads_identifier_columns_of_a_csv() -> None:
    data = (
        b"Title,Art. No.,PubMed ID,ISSN,EID,accession_wos,Accession Number\n"
        b"A,107538,,20552076,2-s2.0-105030721984,WOS:000491685000028,123\n"
        b"B,5,28691557,,,,\n"
    )

    first, second = parse_references(data, "scopus.csv").records

    assert first.pmid == "" and first.raw["Art. No."] == "107538"
    assert first.issn == "2055-2076"
    assert first.accession_numbers == {
        "scopus": "2-s2.0-105030721984",
        "wos": "WOS:000491685000028",
        "unknown": "123",
    }
    assert second.pmid == "28691557"


def test_it_reads_identifier_fields_of_bibtex() -> None:
    data = (
        b"@article{a, title={One}, unique-id={WOS:000424022700066}, issn={1935-2735},"
        b" pmid={29377890}}\n@article{b, title={Two}, note={PMID: 123}, number={5}}\n"
    )

    first, second = parse_references(data, "x.bib").records

    assert (first.pmid, first.issn) == ("29377890", "1935-2735")
    assert first.accession_numbers == {"wos": "WOS:000424022700066"}
    assert second.pmid == "123"


def test_an_endnote_accession_number_follows_its_remote_database() -> None:
    record = (
        "<record><ref-type name='Journal Article'>17</ref-type><titles><title>{title}</title>"
        "</titles><accession-num>{an}</accession-num><isbn>0028-4793</isbn>{db}</record>"
    )
    data = (
        "<xml><records>"
        + record.format(
            title="A", an="620123456", db="<remote-database-name>Embase</remote-database-name>"
        )
        + record.format(
            title="B", an="28691557", db="<remote-database-provider>NLM</remote-database-provider>"
        )
        + record.format(title="C", an="28691557", db="")
        + "</records></xml>"
    ).encode()

    embase, pubmed, unnamed = parse_references(data, "x.xml").records

    assert (embase.pmid, embase.accession_numbers) == ("", {"embase": "620123456"})
    assert (pubmed.pmid, pubmed.issn) == ("28691557", "0028-4793")
    assert (unnamed.pmid, unnamed.accession_numbers) == ("", {"unknown": "28691557"})


def test_it_reads_web_of_science_tagged_exports() -> None:
    text = (
        "\ufeffFN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nAU Asampong, E\n"
        "   Gyeke, MDP\nAF Asampong, Emmanuel\n   Gyeke, Mavis Dako Plusminus\n"
        "TI Caregivers' views on stigmatization of people\n   affected by leprosy in Ghana\n"
        "SO PLOS NEGLECTED TROPICAL DISEASES\nSN 1935-2735\nPY 2018\nVL 12\nIS 1\n"
        "AR e0006219\nDI 10.1371/journal.pntd.0006219\nUT WOS:000424022700066\nPM 29377890\n"
        "ER\n\nPT J\nAU Zhang, X\nTI A MEDLINE record found through All Databases\n"
        "UT MEDLINE:31858815\nPM 31858815\nER\n\nEF\n"
    )

    result = parse_references(text.encode(), "savedrecs.txt")
    first, second = result.records

    assert result.format == "wos"
    assert (
        first.title == "Caregivers' views on stigmatization of people affected by leprosy in Ghana"
    )
    assert first.authors == ["Asampong, Emmanuel", "Gyeke, Mavis Dako Plusminus"]
    assert (first.journal, first.year, first.volume, first.issue) == (
        "PLOS NEGLECTED TROPICAL DISEASES",
        2018,
        "12",
        "1",
    )
    assert (first.doi, first.pmid, first.issn) == (
        "10.1371/journal.pntd.0006219",
        "29377890",
        "1935-2735",
    )
    assert first.accession_numbers == {"wos": "WOS:000424022700066"}
    assert first.raw["AR"] == "e0006219"
    assert (second.pmid, second.accession_numbers) == ("31858815", {})


def test_it_names_the_line_where_a_web_of_science_file_breaks() -> None:
    text = "FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nTI One\n<b>oops</b>\nER\n"

    with pytest.raises(ParseError) as error:
        parse_references(text.encode(), "savedrecs.ciw")

    assert error.value.line == 5


# --- the helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("Ovid MEDLINE(R) and Epub Ahead of Print <1946 to 2024>", "pubmed"),
        ("Embase Classic+Embase", "embase"),
        ("EBM Reviews - Cochrane Central Register of Controlled Trials", "cochrane"),
        ("PubMed Central", "pmcid"),
        ("CINAHL (EBSCOhost)", "cinahl"),
        ("Web of Science Core Collection", "wos"),
        ("psyh", "psycinfo"),
        ("Google Scholar", None),
        ("Scopus and Embase", None),
    ],
)
def test_it_names_the_database_a_label_names(label: str, key: str | None) -> None:
    assert database_named(label) == key


def test_a_provider_counts_only_when_the_database_tag_names_nothing() -> None:
    assert record_database(["Embase"], ["NLM"]) == "embase"
    assert record_database(["CrossRef"], ["NLM"]) == "pubmed"
    assert record_database([], ["EBSCOhost"]) == "ebsco"


@pytest.mark.parametrize(
    ("url", "found"),
    [
        (
            "https://proxy.example/login?url=http://search.ebscohost.com/login.aspx?db=ccm&AN=1040",
            ("cinahl", "1040"),
        ),
        (
            "https://www.cochranelibrary.com/central/doi/10.1002/central/CN-01234567/full",
            ("cochrane", "CN-01234567"),
        ),
        ("https://www.proquest.com/docview/1751982281?accountid=1", ("proquest", "1751982281")),
        ("<Go to ISI>://WOS:000636318200032", ("wos", "WOS:000636318200032")),
        ("https://lens.org/000-454-299-663-964", ("lens", "000-454-299-663-964")),
        ("https://www.ncbi.nlm.nih.gov/pmc/articles/PMC7417126", ("pmcid", "PMC7417126")),
        ("https://doi.org/10.1056/nejmoa1703068", None),
    ],
)
def test_it_reads_identifiers_in_links(url: str, found: tuple[str, str] | None) -> None:
    assert identifier_in_url(url) == found


def test_pubmed_is_a_label_only_with_an_id_or_a_colon() -> None:
    assert labelled_pmid("Indexed in PubMed 2019") == ""
    assert labelled_pmid("PubMed: 123") == "123"


def test_issns_are_normalised_and_checked() -> None:
    assert issns_in("1660-4601 1661-7827") == ["1660-4601", "1661-7827"]
    assert issns_in("20964129 (ISSN)") == ["2096-4129"]
    assert issns_in("0-11-241166-5; 9780199682676") == []


def test_accessions_are_named_and_linked_only_where_a_public_page_exists() -> None:
    shown = accession_list(
        {"unknown": "1", "scopus": "2-s2.0-1", "cochrane": "CN-01234567", "pmcid": "PMC1"}
    )

    assert [(a.key, a.name) for a in shown] == [
        ("scopus", "Scopus"),
        ("cochrane", "Cochrane Library"),
        ("pmcid", "PubMed Central"),
        ("unknown", "Accession number (database not named in the file)"),
    ]
    assert [bool(a.url) for a in shown] == [False, True, True, False]
    assert accession_url("wos", "WOS:000491685000028") == ""


# --- real exports ----------------------------------------------------------------------------

# name: (records, records with a PMID, accession keys counted)
REAL_EXPORTS: dict[str, tuple[int, int, dict[str, int]]] = {
    "scopus.ris": (40, 0, {"scopus": 40}),
    "scopus_asysd.ris": (10, 5, {"scopus": 10}),
    "scopus.csv": (8, 4, {"scopus": 8}),
    "wos.ris": (40, 0, {"wos": 40}),
    "wos_zotero.ris": (20, 0, {"wos": 20}),
    "wos_tagged.txt": (8, 2, {"wos": 8}),
    "wos_synthesisr.ciw": (5, 2, {"wos": 3}),
    "pubmed.nbib": (25, 25, {"pmcid": 11}),
    "pubmed_synthesisr.nbib": (3, 3, {"pmcid": 1}),
    "pubmed.ris": (25, 0, {}),
    "pubmed_endnote.ris": (33, 33, {"pmcid": 12}),
    "endnote.xml": (15, 15, {"pmcid": 3}),
    "endnote_mixed.ris": (33, 8, {"scopus": 15, "pmcid": 2}),
    "ovid_medline.ris": (25, 25, {}),
    "ovid_embase.txt": (2, 0, {"embase": 2}),
    "psycinfo_ebsco.ris": (33, 22, {"psycinfo": 33}),
    "ebsco_criminal_justice.ris": (15, 0, {"ebsco": 15}),
    "dimensions.ris": (33, 33, {"dimensions": 33, "pmcid": 10}),
    "lens.ris": (33, 14, {"lens": 30, "pmcid": 8}),
    "lens.csv": (8, 4, {"lens": 8, "pmcid": 4}),
    "proquest_econlit.ris": (20, 0, {"proquest": 20}),
    "google_scholar_zotero.ris": (13, 0, {"psycinfo": 2}),
}


def real(name: str) -> list[ParsedRecord]:
    path = SHARED_REFERENCES / name
    if not path.is_file():
        pytest.skip(f"{path} is not beside this checkout (see tests/fixtures/README.md)")
    return parse_references(path.read_bytes(), name).records


@pytest.mark.parametrize("name", sorted(REAL_EXPORTS))
def test_it_reads_the_identifiers_of_a_real_export(name: str) -> None:
    count, pmids, keys = REAL_EXPORTS[name]

    records = real(name)

    assert len(records) == count
    assert sum(1 for r in records if r.pmid) == pmids
    assert Counter(k for r in records for k in r.accession_numbers) == Counter(keys)
    assert all(r.pmid.isdigit() for r in records if r.pmid)


def test_the_real_scopus_export_keeps_its_article_numbers_out_of_pmids() -> None:
    records = real("scopus.ris")
    numbered = [r for r in records if "C7" in r.raw]

    assert len(numbered) >= 10
    assert all(r.pmid == "" for r in numbered)
    first = records[0]
    assert first.doi == "10.1016/j.addbeh.2022.107538"
    assert first.accession_numbers == {"scopus": "2-s2.0-85141483180"}


def test_the_real_web_of_science_export_gives_ut_and_issn() -> None:
    first = real("wos.ris")[0]

    assert (first.pmid, first.raw["C7"]) == ("", "106558")
    assert first.accession_numbers == {"wos": "WOS:000491685000028"}
    assert (first.doi, first.issn) == ("10.1016/j.ress.2019.106558", "0951-8320; 1879-0836")


def test_the_real_psycinfo_export_takes_only_labelled_pmids() -> None:
    records = real("psycinfo_ebsco.ris")

    for record in records:
        note = str(record.raw.get("N1", ""))
        assert (record.pmid != "") == ("PMID:" in note)
    assert records[0].accession_numbers == {"psycinfo": "2023-15354-001"}
    assert records[0].issn == "0028-3932; 1873-3514"


def test_the_real_pubmed_exports_give_their_pmids_and_dois() -> None:
    first = real("pubmed.nbib")[0]
    endnote = real("pubmed_endnote.ris")[0]

    assert (first.pmid, first.doi, first.issn) == ("29657938", "10.4103/abr.abr_99_17", "2277-9175")
    assert first.accession_numbers == {"pmcid": "PMC5887696"}
    assert (endnote.pmid, endnote.accession_numbers) == (first.pmid, first.accession_numbers)


@pytest.mark.parametrize("name", ["Donners_2021", "Sep_2021", "Nelson_2002", "Meijboom_2021"])
def test_an_unlabelled_an_of_the_shared_datasets_is_kept_but_not_claimed(name: str) -> None:
    path = SHARED_SCREENING / f"{name}.ris"
    if not path.is_file():
        pytest.skip("shared screening data not available")

    records = parse_references(path.read_bytes(), path.name).records

    assert all(r.pmid == "" for r in records)
    with_an = [r for r in records if r.accession_numbers]
    assert with_an and all(set(r.accession_numbers) == {"unknown"} for r in with_an)
    assert all(r.accession_numbers["unknown"].isdigit() for r in with_an)
