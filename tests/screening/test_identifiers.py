"""Identifiers from an import to the database, the pages, the API and the exports."""

import csv
import importlib
import io

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile

from screening import services
from screening.models import ImportBatch, Record
from screening.references.parsers import parse_references
from tests.factories import ImportBatchFactory, RecordFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Three records in the shape Scopus, Web of Science and Ovid Embase export them.
EXPORT = b"""TY  - JOUR
TI  - Gambling harms in Australian households
T2  - Addictive Behaviors
PY  - 2023
DO  - 10.1016/j.addbeh.2022.107538
DB  - Scopus
C7  - 107538
UR  - https://www.scopus.com/inward/record.uri?eid=2-s2.0-85141483180&partnerID=40
ER  -

TY  - JOUR
TI  - Forest fire induced Natech risk assessment
T2  - RELIABILITY ENGINEERING & SYSTEM SAFETY
SN  - 0951-8320
SN  - 1879-0836
PY  - 2019
C7  - 106558
DO  - 10.1016/j.ress.2019.106558
AN  - WOS:000491685000028
ER  -

TY  - JOUR
DB  - Embase
AN  - 620123456
TI  - Emicizumab prophylaxis in haemophilia A
M1  - PMID: 28691557
PY  - 2017
ER  -
"""


def _import(review, lead, data=EXPORT, name="export.ris"):
    batch = services.import_create(
        review=review,
        created_by=lead,
        upload=SimpleUploadedFile(name, data),
        source_database="Scopus, Web of Science, Embase",
    )
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DONE, batch.error
    return batch


def _by_title(review):
    return {r.title.split()[0]: r for r in Record.objects.filter(review=review)}


def test_an_import_stores_accession_numbers_and_issns_and_no_article_number_pmid(review, lead):
    _import(review, lead)

    records = _by_title(review)
    scopus, wos, embase = records["Gambling"], records["Forest"], records["Emicizumab"]
    assert (scopus.pmid, scopus.accession_numbers) == ("", {"scopus": "2-s2.0-85141483180"})
    assert (wos.pmid, wos.accession_numbers) == ("", {"wos": "WOS:000491685000028"})
    assert wos.issn == "0951-8320; 1879-0836"
    assert (embase.pmid, embase.accession_numbers) == ("28691557", {"embase": "620123456"})


def test_article_numbers_no_longer_merge_unrelated_records(review, lead):
    # Two unrelated papers whose article numbers are the same number: the old reader gave
    # both that number as a PMID, and PMID matching grouped them.
    first = b"TY  - JOUR\nTI  - Exercise for depression\nDB  - Scopus\nC7  - 101129\nER  - \n"
    second = (
        b"TY  - JOUR\nTI  - Salt intake in cats\nAN  - WOS:000222233334444\nC7  - 101129\nER  - \n"
    )

    _import(review, lead, first + b"\n" + second)

    assert Record.objects.filter(review=review, duplicate_of__isnull=False).count() == 0


def test_the_record_page_names_each_database_and_links_only_public_pages(client, review, lead):
    record = RecordFactory(
        review=review,
        issn="0951-8320",
        accession_numbers={
            "wos": "WOS:000491685000028",
            "pmcid": "PMC7417126",
            "unknown": "27148843",
        },
    )
    client.force_login(lead)

    page = client.get(f"/reviews/{review.pk}/records/{record.pk}/").content.decode()

    assert "<dt>Web of Science</dt>" in page and "WOS:000491685000028" in page
    assert "webofscience.com" not in page  # no public page to link to
    assert '<a href="https://pmc.ncbi.nlm.nih.gov/articles/PMC7417126/"' in page
    assert "<dt>Accession number (database not named in the file)</dt>" in page
    assert "<dt>ISSN</dt><dd>0951-8320</dd>" in page


def test_the_library_shows_accession_numbers_with_the_database_name(client, review, lead):
    RecordFactory(review=review, title="Scopus paper", accession_numbers={"scopus": "2-s2.0-1"})
    client.force_login(lead)

    page = client.get(f"/reviews/{review.pk}/library/").content.decode()

    assert 'data-key="scopus">Scopus 2-s2.0-1</span>' in page


def test_the_api_exposes_issn_and_accession_numbers(api_for, review, lead):
    record = RecordFactory(
        review=review, issn="1935-2735", accession_numbers={"cochrane": "CN-01234567"}
    )

    body = api_for(lead).get(f"/api/reviews/{review.pk}/records/{record.pk}/").json()

    assert body["issn"] == "1935-2735"
    assert body["accession_numbers"] == {"cochrane": "CN-01234567"}
    assert body["accessions"] == [
        {
            "key": "cochrane",
            "name": "Cochrane Library",
            "value": "CN-01234567",
            "url": "https://www.cochranelibrary.com/central/doi/10.1002/central/CN-01234567/full",
        }
    ]


def test_the_schema_documents_the_identifier_fields(api_for, lead):
    schema = api_for(lead).get("/api/schema/?format=json").json()

    record = schema["components"]["schemas"]["Record"]["properties"]
    assert {"issn", "accession_numbers", "accessions"} <= record.keys()


def test_the_exports_write_identifiers_back_and_read_them_again(client, review, lead):
    _import(review, lead)
    client.force_login(lead)
    base = f"/reviews/{review.pk}/screening/ta/export/"

    table = list(csv.DictReader(io.StringIO(client.get(base).content.decode())))
    ris = client.get(f"{base}?format=ris").content

    by_title = {row["title"].split()[0]: row for row in table}
    assert by_title["Forest"]["accession_wos"] == "WOS:000491685000028"
    assert by_title["Forest"]["issn"] == "0951-8320; 1879-0836"
    assert by_title["Gambling"]["accession_scopus"] == "2-s2.0-85141483180"
    assert by_title["Emicizumab"]["pmid"] == "28691557"
    assert "Web of Science accession number: WOS:000491685000028" in ris.decode()
    again = {r.title.split()[0]: r for r in parse_references(ris, "again.ris").records}
    for name, record in _by_title(review).items():
        assert (again[name].pmid, again[name].accession_numbers) == (
            record.pmid,
            record.accession_numbers,
        )
        assert again[name].issn == record.issn
    from_csv = parse_references(client.get(base).content, "again.csv").records
    assert {r.title.split()[0]: r.accession_numbers for r in from_csv} == {
        name: r.accession_numbers for name, r in _by_title(review).items()
    }


def test_the_migration_drops_article_number_pmids_of_earlier_imports(review):
    # Records as the old RIS reader stored them: AN removed from raw when it became the PMID.
    batch = ImportBatchFactory(review=review, file_format="ris")
    scopus = RecordFactory(
        review=review, import_batch=batch, pmid="107538", raw={"C7": "107538", "AN": "x"}
    )
    labelled = RecordFactory(
        review=review, import_batch=batch, pmid="5", raw={"N1": "PMID: 5", "AN": "x"}
    )
    medline = RecordFactory(review=review, import_batch=batch, pmid="7", raw={"DB": "MEDLINE"})
    embase = RecordFactory(review=review, import_batch=batch, pmid="9", raw={"DB": "Embase"})
    unnamed = RecordFactory(review=review, import_batch=batch, pmid="11", raw={"ID": "W1"})
    other_format = RecordFactory(review=review, pmid="13", raw={})
    migration = importlib.import_module(
        "screening.migrations.0006_record_pmids_only_where_labelled"
    )

    migration.forwards(apps, None)

    for record in (scopus, labelled, medline, embase, unnamed, other_format):
        record.refresh_from_db()
    assert scopus.pmid == "" and scopus.accession_numbers == {}
    assert (labelled.pmid, medline.pmid, other_format.pmid) == ("5", "7", "13")
    assert (embase.pmid, embase.accession_numbers) == ("", {"embase": "9"})
    assert (unnamed.pmid, unnamed.accession_numbers) == ("", {"unknown": "11"})
