"""A lead imports a Web of Science RIS export in the browser and finds each record's accession
number under the database's name, with no PubMed ID made up from its article number."""

import pytest

from screening.models import Record
from tests.browser.test_screening import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Two records in the shape Web of Science exports them: C7 holds the article number.
WOS_EXPORT = """TY  - JOUR
AU  - Naderpour, M
TI  - Forest fire induced Natech risk assessment
T2  - RELIABILITY ENGINEERING & SYSTEM SAFETY
SN  - 0951-8320
PY  - 2019
C7  - 106558
DO  - 10.1016/j.ress.2019.106558
AN  - WOS:000491685000028
ER  -

TY  - JOUR
AU  - Asampong, E
TI  - Caregivers' views on stigmatization of people affected by leprosy
T2  - PLOS NEGLECTED TROPICAL DISEASES
PY  - 2018
C7  - 29377890
U1  - PMC5805335 [PMCID]
AN  - WOS:000424022700066
ER  -
"""


def test_a_lead_sees_accession_numbers_by_database_after_an_import(
    browser, live_server, review, lead, tmp_path
):
    export = tmp_path / "savedrecs.ris"
    export.write_text(WOS_EXPORT)
    context, page = log_in(browser, live_server, lead.username)

    page.goto(f"{live_server.url}/reviews/{review.pk}/imports/")
    page.set_input_files("input[type=file]", str(export))
    page.fill("#id_source_database", "Web of Science Core Collection")
    page.click("button:has-text('Upload and import')")
    page.wait_for_selector("text=2 imported", timeout=30_000)

    page.goto(f"{live_server.url}/reviews/{review.pk}/library/")
    library = page.locator("#records")
    assert library.locator("[data-key=wos]").count() == 2
    assert "Web of Science WOS:000491685000028" in library.inner_text()
    assert library.locator("[data-key=pubmed]").count() == 0

    page.click("text=Caregivers' views on stigmatization")
    fields = page.locator("dl.fields").first
    assert fields.locator("dt", has_text="Web of Science").count() == 1
    pmc = fields.locator("dd[data-key=pmcid] a")
    assert pmc.get_attribute("href") == "https://pmc.ncbi.nlm.nih.gov/articles/PMC5805335/"
    assert fields.locator("a[href*='pubmed.ncbi']").count() == 0  # C7 is no PubMed ID
    assert not Record.objects.filter(review=review).exclude(pmid="").exists()
    context.close()
