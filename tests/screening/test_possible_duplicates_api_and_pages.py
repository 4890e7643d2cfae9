"""The possible-duplicates queue through the API and on the duplicates and PRISMA pages."""

import pytest

from screening import services
from screening.models import PossibleDuplicate, Record
from screening.references.dedup import PossiblePair
from tests.factories import RecordFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def pairs(review):
    """Two open pairs: the first differs in its pages only, the second in its title."""
    a = RecordFactory(review=review, title="Peer support after discharge", pages="321-326")
    b = RecordFactory(review=review, title="Peer support after discharge", pages="A39")
    c = RecordFactory(review=review, title="Peer mentors for psychosis")
    d = RecordFactory(review=review, title="Peer mentors for people with psychosis")
    services.possible_pairs_store(
        review_id=review.pk,
        pairs=[
            PossiblePair(a=a.pk, b=b.pk, reason="same title"),
            PossiblePair(a=c.pk, b=d.pk, reason="title 88% similar"),
        ],
    )
    return list(PossibleDuplicate.objects.filter(review=review).order_by("pk"))


def _url(review, tail=""):
    return f"/api/reviews/{review.pk}/possible-duplicates/{tail}"


def test_the_api_lists_pairs_by_status_with_both_records(api_for, review, viewer, pairs):
    api = api_for(viewer)
    listed = api.get(_url(review), {"status": "open"}).json()
    assert [p["id"] for p in listed["results"]] == [p.pk for p in pairs]
    first = listed["results"][0]
    assert (first["record_a"]["pages"], first["record_b"]["pages"]) == ("321-326", "A39")
    assert first["status"] == "open" and first["decided_by"] is None
    assert api.get(_url(review), {"status": "confirmed"}).json()["results"] == []
    refused = api.get(_url(review), {"status": "maybe"})
    assert refused.status_code == 400 and "status" in refused.json()


def test_a_reviewer_confirms_separates_and_undoes_through_the_api(
    api_for, review, screener_a, pairs
):
    api = api_for(screener_a)
    confirmed = api.post(_url(review, f"{pairs[0].pk}/confirm/"))
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["decided_by"] == "screener_a"
    assert Record.objects.get(pk=pairs[0].record_b_id).duplicate_of_id == pairs[0].record_a_id
    again = api.post(_url(review, f"{pairs[0].pk}/separate/"))
    assert again.status_code == 400 and "already decided" in str(again.json())

    separated = api.post(_url(review, f"{pairs[1].pk}/separate/")).json()
    assert separated["status"] == "separated"
    # Newest first: the confirmation cannot be undone before the separation.
    assert api.post(_url(review, f"{pairs[0].pk}/undo/")).status_code == 400
    assert api.post(_url(review, f"{pairs[1].pk}/undo/")).json()["status"] == "open"
    assert api.post(_url(review, f"{pairs[0].pk}/undo/")).json()["status"] == "open"
    assert Record.objects.get(pk=pairs[0].record_b_id).duplicate_of_id is None


def test_viewers_cannot_decide(api_for, client_for, review, viewer, pairs):
    assert api_for(viewer).post(_url(review, f"{pairs[0].pk}/confirm/")).status_code == 403
    page = client_for(viewer).get(f"/reviews/{review.pk}/duplicates/").content.decode()
    assert 'id="possible-queue"' in page and "possible-decide" not in page


def test_the_prisma_api_and_page_say_how_many_pairs_are_open(
    api_for, client_for, review, lead, pairs
):
    prisma = api_for(lead).get(f"/api/reviews/{review.pk}/screening/prisma/").json()
    assert prisma["pending"]["possible_duplicates"] == 2
    assert (prisma["duplicates_removed"], prisma["records_screened"]) == (0, 4)
    page = client_for(lead).get(f"/reviews/{review.pk}/prisma/").content.decode()
    assert "2 possible duplicates to decide" in page


def test_the_duplicates_page_shows_the_pairs_side_by_side_with_differences_marked(
    client_for, review, lead, pairs
):
    page = client_for(lead).get(f"/reviews/{review.pk}/duplicates/").content.decode()
    assert '<span class="badge dup" id="possible-count">2</span>' in page
    first = page.split(f'id="possible-{pairs[0].pk}"')[1].split("</article>")[0]
    assert '<tr class="differ" data-field="pages">' in first
    assert '<tr class="agree" data-field="title">' in first
    assert "screening/duplicates.js" in page
    assert "<script>" not in page and "onsubmit" not in page


def test_deciding_with_htmx_answers_the_queue_with_the_next_pair(client_for, review, lead, pairs):
    client = client_for(lead)
    url = f"/reviews/{review.pk}/duplicates/possible/{pairs[0].pk}/"
    answer = client.post(url, {"decision": "confirm"}, **HTMX).content.decode()
    assert answer.startswith('<section class="card possible-queue" id="possible-queue"')
    assert f'id="possible-{pairs[1].pk}"' in answer and f'id="possible-{pairs[0].pk}"' not in answer
    assert "are duplicates" in answer and 'id="possible-undo"' in answer
    assert 'id="dedup-summary" hx-swap-oob="true">1 duplicate record in 1 group' in answer

    undone = client.post(f"/reviews/{review.pk}/duplicates/possible/undo/", **HTMX)
    text = undone.content.decode()
    assert f'data-focus="{pairs[0].pk}"' in text and f'id="possible-{pairs[0].pk}"' in text
    assert Record.objects.get(pk=pairs[0].record_b_id).duplicate_of_id is None


def test_deciding_without_javascript_returns_to_the_page(client_for, review, lead, pairs):
    client = client_for(lead)
    url = f"/reviews/{review.pk}/duplicates/possible/{pairs[1].pk}/"
    response = client.post(url, {"decision": "separate"})
    assert response.status_code == 302 and response["Location"].endswith("/duplicates/")
    again = client.post(url, {"decision": "separate"}, follow=True).content.decode()
    assert "already decided" in again


def test_an_empty_queue_says_so(client_for, review, lead):
    page = client_for(lead).get(f"/reviews/{review.pk}/duplicates/").content.decode()
    assert 'id="possible-empty"' in page and "No possible duplicates to decide" in page


def test_an_unknown_decision_is_refused_with_a_message(client_for, review, lead, pairs):
    url = f"/reviews/{review.pk}/duplicates/possible/{pairs[0].pk}/"
    answer = client_for(lead).post(url, {"decision": "maybe"}, **HTMX).content.decode()
    assert "Choose duplicates or not duplicates" in answer
    assert PossibleDuplicate.objects.get(pk=pairs[0].pk).status == "open"


def test_the_import_summary_counts_the_pairs_it_brought(client_for, review, lead, pairs):
    batch = Record.objects.get(pk=pairs[0].record_a_id).import_batch
    batch.status = "done"
    batch.save()
    page = client_for(lead).get(f"/reviews/{review.pk}/imports/{batch.pk}/").content.decode()
    assert '<dd id="possible-found">1 to decide' in page
