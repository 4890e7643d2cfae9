"""DRF glue shared by every app's API."""

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from reviewapp.errors import DomainError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """A service's DomainError is a 400 naming the field, like a serializer's errors, so API
    views call services without wrapping each call."""
    if isinstance(exc, DomainError):
        exc = ValidationError({exc.field or "detail": [exc.message]})
    return drf_exception_handler(exc, context)
