"""Glue shared by every app's page views: the one "call a service, report its error, redirect"
shape (POST, then redirect, then GET), so each view states only what it calls and where it goes."""

from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from reviewapp.errors import DomainError, StaleVersion

T = TypeVar("T")


def call_and_redirect(
    request: HttpRequest,
    call: Callable[[], T],
    *,
    to: str | Callable[[T], str],
    success: str | Callable[[T], str] = "",
    error_to: str | None = None,
    error_prefix: str = "",
    on_success: Callable[[T], object] | None = None,
) -> HttpResponse:
    """Run `call` (one service call); on a DomainError flash its message (after `error_prefix`)
    and redirect to `error_to` (default: `to`); on success flash `success` (a text, or a function
    of the service's result), call `on_success(result)` (what else a success says, e.g.
    `outbox_notice` after queueing work) and redirect to `to` (a URL, or a function of the
    result). Nothing else is caught: a bug stays a 500."""
    try:
        result = call()
    except DomainError as exc:
        messages.error(request, f"{error_prefix}{exc.message}")
        if error_to is not None:
            return HttpResponseRedirect(error_to)
        if callable(to):
            raise TypeError("A redirect computed from the result needs error_to.") from exc
        return HttpResponseRedirect(to)
    text = success(result) if callable(success) else success
    if text:
        messages.success(request, text)
    if on_success is not None:
        on_success(result)
    return HttpResponseRedirect(to(result) if callable(to) else to)


def refused_status(exc: DomainError) -> int:
    """The status of a page shown again after a refused save: 409 when someone saved first
    (StaleVersion, the same error the APIs answer 409), else 400."""
    return 409 if isinstance(exc, StaleVersion) else 400
