"""DRF glue shared by every app's API."""

from collections.abc import Mapping
from typing import Any

from rest_framework import renderers
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


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's HTML view of the API, under a policy that also admits inline styles: its templates
    carry style attributes and a <style> block, which the app's own pages never do. Scripts stay
    limited to the app's static files (docs/security.md)."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> Any:
        response = (renderer_context or {}).get("response")
        if response is not None:
            response._csp_replace = {"style-src": ["'self'", "'unsafe-inline'"]}
        return super().render(data, accepted_media_type, renderer_context)
