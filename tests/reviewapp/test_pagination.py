import pytest

from reviewapp.common.pagination import DeferredJoinPaginator
from screening.models import Record
from tests.factories import RecordFactory

pytestmark = pytest.mark.django_db


def test_pages_keep_the_queryset_order_and_size(review):
    RecordFactory.create_batch(23, review=review)
    records = Record.objects.filter(review=review).order_by("-id")
    expected = list(records.values_list("id", flat=True))
    paginator = DeferredJoinPaginator(records, 10)
    pages = [[r.pk for r in paginator.page(n)] for n in paginator.page_range]
    assert pages == [expected[:10], expected[10:20], expected[20:]]


def test_the_library_shows_the_second_page(client, review, lead):
    RecordFactory.create_batch(55, review=review)
    client.force_login(lead)
    page = client.get(f"/reviews/{review.pk}/library/?page=2")
    shown = [r.pk for r in page.context["page"].object_list]
    assert shown == list(
        Record.objects.filter(review=review).order_by("id").values_list("id", flat=True)[50:]
    )
