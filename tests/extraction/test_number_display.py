"""Issue 11, form builder: integers display as integers ("2", not "2.000000")."""

from decimal import Decimal

import pytest

from extraction.models import FormField
from reviewapp.templatetags.numbers import plain_number

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("2.000000"), "2"),
        (Decimal("0.500000"), "0.5"),
        (Decimal("1E+1"), "10"),
        (Decimal("-3.250000"), "-3.25"),
        (Decimal("0"), "0"),
        (4.0, "4"),
        (None, None),
        ("", ""),
    ],
)
def test_plain_number(value, shown):
    assert plain_number(value) == shown


def test_the_builder_shows_an_integer_minimum_as_typed(client_for, review, lead, sheet):
    field = FormField.objects.filter(form=sheet).first()
    FormField.objects.filter(pk=field.pk).update(
        field_type="integer", min_value=Decimal("2"), max_value=Decimal("10")
    )
    # The builder fetches a field's edit form when Edit is opened.
    body = (
        client_for(lead)
        .get(
            f"/reviews/{review.pk}/extraction/forms/{sheet.pk}/fields/{field.pk}/edit/",
            headers={"HX-Request": "true"},
        )
        .content
    )
    assert b"2.000000" not in body and b"10.000000" not in body
    assert b'value="2"' in body and b'value="10"' in body
