"""`{% load numbers %}{{ value|plain_number }}`: a stored number as a person typed it."""

from decimal import Decimal
from typing import Any

from django import template

register = template.Library()


@register.filter
def plain_number(value: Any) -> Any:
    """2.000000 -> 2, 0.500000 -> 0.5, 1E+1 -> 10; None and text are left as they are."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if not isinstance(value, Decimal) or not value.is_finite():
        return value
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
