"""Template context every page gets."""

from typing import Any

from django.http import HttpRequest


def review(request: HttpRequest) -> dict[str, Any]:
    """`review` and `membership` of a review-scoped page: `review_view` resolved them (and put
    them on the request), so a view's own context does not repeat them. Outside a review,
    nothing."""
    found = getattr(request, "review", None)
    if found is None:
        return {}
    return {"review": found, "membership": getattr(request, "membership", None)}
