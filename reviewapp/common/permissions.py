"""The one place review-scoped access is decided.

Non-members get 404, so that a review's existence is not revealed; members without the role an
action needs get 403. A deleted review answers 404 to everyone, on every page and endpoint,
except the leads' restore action (`include_deleted=True`). Pages use `review_view`, API views
inherit `ReviewScopedAPIMixin`; a test walks the URLconf and the API schema and fails on any
review-scoped route that skips both.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from rest_framework import permissions
from rest_framework.request import Request

from reviewapp.errors import RoleRequired
from reviewapp.models import Membership, Review, Role

REVIEW_KWARG = "review_pk"


def review_access(
    user: Any, review_pk: Any, role: str = Role.VIEWER, *, include_deleted: bool = False
) -> tuple[Review, Membership]:
    """The review and the user's membership, or Http404 / PermissionDenied.

    A deleted review is as absent as one the user is not on, unless `include_deleted` (the
    restore action, which checks the role first).
    """
    if not getattr(user, "is_authenticated", False):
        raise Http404("No such review.")
    try:
        membership = Membership.objects.select_related("review").get(
            review_id=int(review_pk), user=user
        )
    except (Membership.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404("No such review.") from exc
    if membership.review.deleted_at is not None and not include_deleted:
        raise Http404("No such review.")
    if not membership.has_role(role):
        raise RoleRequired(review=membership.review, membership=membership, role=role)
    return membership.review, membership


def review_view(role: str = Role.VIEWER, *, include_deleted: bool = False) -> Callable[..., Any]:
    """Decorate a page view taking `review_pk`: it receives `review` and `membership` instead."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            review, membership = review_access(
                request.user, kwargs.pop(REVIEW_KWARG), role, include_deleted=include_deleted
            )
            request.review = review  # type: ignore[attr-defined]  # templates read it
            request.membership = membership  # type: ignore[attr-defined]  # templates read it
            return view(request, *args, review=review, membership=membership, **kwargs)

        wrapped.review_role = role  # type: ignore[attr-defined]  # read by the URLconf test
        return wrapped

    return decorator


class ReviewScopedAPIMixin:
    """For DRF views under /api/reviews/{review_pk}/.

    `read_role` guards safe methods, `write_role` the others; `role_by_action` overrides per
    viewset action. Resolving the review in `initial` runs before any handler, so a view cannot
    forget the check.
    """

    read_role: str = Role.VIEWER
    write_role: str = Role.LEAD
    role_by_action: dict[str, str] = {}
    review_scoped = True
    # Row ids are integers: anything else in the URL is a 404 from the resolver, not a 500 from
    # int() deep in a queryset (found by schemathesis).
    lookup_value_regex = "[0-9]+"
    kwargs: dict[str, Any]

    def required_role(self, request: Request) -> str:
        action = getattr(self, "action", None)
        if action and action in self.role_by_action:
            return self.role_by_action[action]
        return self.read_role if request.method in permissions.SAFE_METHODS else self.write_role

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]  # cooperative mixin
        self.review, self.membership = review_access(
            request.user, self.kwargs.get(REVIEW_KWARG), self.required_role(request)
        )
