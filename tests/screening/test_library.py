import pytest

from screening import selectors
from screening.services import record_search_refresh
from tests.factories import ImportBatchFactory, RecordFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(review):
    medline = ImportBatchFactory(review=review, source_database="MEDLINE")
    embase = ImportBatchFactory(review=review, source_database="Embase")
    kept = RecordFactory(
        review=review,
        import_batch=medline,
        title="Peer support and hospital admissions",
        abstract="Randomised trial of peer workers.",
        authors=["Chinman, M"],
        year=2015,
    )
    RecordFactory(
        review=review,
        import_batch=embase,
        title="Peer support and hospital admissions",
        authors=["Chinman, M"],
        year=2015,
        duplicate_of=kept,
    )
    RecordFactory(
        review=review,
        import_batch=embase,
        title="Exercise for depression",
        abstract="Aerobic exercise.",
        authors=["Blumenthal, J"],
        year=2007,
    )
    record_search_refresh(record_ids=review.records.values_list("id", flat=True))
    return medline, embase


def _titles(records):
    return sorted(r.title for r in records)


def test_it_searches_titles_abstracts_and_authors(review, library):
    assert len(selectors.library_records(review=review, query="hospital")) == 2
    assert _titles(selectors.library_records(review=review, query="aerobic")) == [
        "Exercise for depression"
    ]
    assert len(selectors.library_records(review=review, query="Blumenthal")) == 1


def test_it_filters_by_source_year_and_duplicate_status(review, library):
    medline, embase = library
    assert len(selectors.library_records(review=review, source=str(embase.pk))) == 2
    assert len(selectors.library_records(review=review, year="2007")) == 1
    assert len(selectors.library_records(review=review, status="duplicate")) == 1
    assert len(selectors.library_records(review=review, status="primary")) == 1
    assert _titles(selectors.library_records(review=review, status="unique")) == [
        "Exercise for depression"
    ]
    assert len(selectors.library_records(review=review, year="not-a-year")) == 0


def test_the_library_page_shows_records_and_an_empty_state(client, review, lead, library):
    client.force_login(lead)
    page = client.get(f"/reviews/{review.pk}/library/?q=hospital")
    assert page.status_code == 200
    assert page.content.count(b"Peer support and hospital admissions") == 2
    none = client.get(f"/reviews/{review.pk}/library/?q=zebrafish")
    assert b"No records match these filters" in none.content


def test_the_record_page_links_doi_and_pubmed(client, review, lead):
    record = RecordFactory(review=review, doi="10.1186/s12888-020-02923-3", pmid="33160289")
    client.force_login(lead)
    page = client.get(f"/reviews/{review.pk}/records/{record.pk}/")
    assert b"https://doi.org/10.1186/s12888-020-02923-3" in page.content
    assert b"https://pubmed.ncbi.nlm.nih.gov/33160289/" in page.content


def test_a_record_of_another_review_is_not_found(client, review, lead):
    foreign = RecordFactory()
    client.force_login(lead)
    assert client.get(f"/reviews/{review.pk}/records/{foreign.pk}/").status_code == 404


def test_the_duplicates_page_shows_groups_side_by_side_and_undoes(client, review, lead, library):
    client.force_login(lead)
    page = client.get(f"/reviews/{review.pk}/duplicates/")
    assert len(page.context["groups"]) == 1
    duplicate = page.context["groups"][0].duplicates[0]
    client.post(f"/reviews/{review.pk}/duplicates/{duplicate.pk}/", {"action": "split"})
    assert len(client.get(f"/reviews/{review.pk}/duplicates/").context["groups"]) == 0
    undoable = client.get(f"/reviews/{review.pk}/duplicates/").context["undoable"]
    client.post(f"/reviews/{review.pk}/duplicates/undo/{undoable.pk}/")
    assert len(client.get(f"/reviews/{review.pk}/duplicates/").context["groups"]) == 1


def test_a_viewer_cannot_change_duplicates(client, review, viewer, library):
    client.force_login(viewer)
    record = review.records.filter(duplicate_of__isnull=False).first()
    response = client.post(f"/reviews/{review.pk}/duplicates/{record.pk}/", {"action": "split"})
    assert response.status_code == 403
    record.refresh_from_db()
    assert record.duplicate_of_id is not None
