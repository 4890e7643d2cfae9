"""The duplicates page's merge by record number: the number is checked before anything runs."""

import pytest

from screening.models import Record
from tests.factories import RecordFactory

pytestmark = pytest.mark.django_db


def _messages(response):
    return [str(m) for m in response.context["messages"]]


def test_a_merge_names_a_record_of_this_review_by_number(review, lead, client_for):
    one, two = RecordFactory(review=review), RecordFactory(review=review)
    foreign = RecordFactory()  # in a review of its own
    client = client_for(lead)
    url = f"/reviews/{review.pk}/duplicates/{one.pk}/"

    typo = client.post(url, {"action": "merge", "other": "12a"}, follow=True)
    elsewhere = client.post(url, {"action": "merge", "other": str(foreign.pk)}, follow=True)
    confirm = client.get(
        f"{url}confirm/", {"action": "merge", "other": str(foreign.pk)}, follow=True
    )

    assert _messages(typo) == ["Give the number of the record this one duplicates."]
    assert _messages(elsewhere) == [f"There is no record {foreign.pk} in this review."]
    assert confirm.redirect_chain[-1][0].endswith(f"/reviews/{review.pk}/duplicates/")
    assert _messages(confirm) == _messages(elsewhere)
    assert not Record.objects.filter(duplicate_of__isnull=False).exists()
    merged = client.post(url, {"action": "merge", "other": f" {two.pk} "}, follow=True)
    assert _messages(merged) == [f"Record {one.pk} merged with record {two.pk}."]
    assert Record.objects.filter(pk__in=[one.pk, two.pk], duplicate_of__isnull=False).count() == 1
