"""DRF glue shared by every app's API."""

from collections.abc import Mapping
from typing import Any

from rest_framework import renderers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from reviewapp.errors import DomainError, StaleVersion


def stale_body(exc: StaleVersion, view: Any) -> dict[str, Any]:
    """`detail` and `version` carry the message; `current` the stored object in the view's
    serializer (None when there is none); `yours` what was sent (`submitted` repeats it for
    clients of the risk-of-bias API written before the answers were one)."""
    serializer = getattr(view, "serializer_class", None)
    current = None
    if exc.current is not None and serializer is not None:
        current = serializer(exc.current).data
    body = {"detail": exc.message, "version": [exc.message], "current": current}
    return {**body, "yours": exc.yours, "submitted": exc.yours}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """A service's DomainError is a 400 naming the field, like a serializer's errors, so API
    views call services without wrapping each call. A StaleVersion ("someone saved first") is
    the one 409 of every API: the message, what is stored now (in the view's serializer) and
    what was sent."""
    if isinstance(exc, StaleVersion):
        return Response(stale_body(exc, context.get("view")), status=status.HTTP_409_CONFLICT)
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
