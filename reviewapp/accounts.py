"""Accounts: API tokens (named, several per user, only their digest stored), and the glue that
makes a password change revoke them and a login lockout answer in the caller's language.

Token writes are services: keyword-only and atomic; they return the plain token once, the only
time anyone sees it.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from knox.settings import knox_settings

from reviewapp.errors import DomainError
from reviewapp.models import ApiToken

MAX_TOKEN_NAME = 100


def _expiry(days: int | None) -> timedelta | None:
    if days is None:
        return knox_settings.TOKEN_TTL
    if days < 0 or days > 3650:
        raise DomainError("A token lasts between 1 and 3,650 days (0: never).", field="days")
    return timedelta(days=days) if days else None


@transaction.atomic
def api_token_create(*, user: Any, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """A new token for `user`, and its plain text (shown once; only a digest is stored)."""
    name = (name or "").strip()
    if not name:
        raise DomainError("Name the token after the script or machine that uses it.", field="name")
    if len(name) > MAX_TOKEN_NAME:
        raise DomainError(f"Keep the name under {MAX_TOKEN_NAME} characters.", field="name")
    live = ApiToken.objects.select_for_update().filter(user=user)
    live = [t for t in live if t.expiry is None or t.expiry > timezone.now()]
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    if limit is not None and len(live) >= limit:
        raise DomainError(f"You already hold {limit} tokens: revoke some first.", field="name")
    token, plain = ApiToken.objects.create(user=user, expiry=_expiry(days), name=name)
    return token, plain


@transaction.atomic
def api_token_revoke(*, user: Any, key: str) -> None:
    deleted, _ = ApiToken.objects.filter(user=user, token_key=key).delete()
    if not deleted:
        raise DomainError("You hold no token with that key.", field="key")


@transaction.atomic
def api_token_rotate(*, user: Any, key: str) -> tuple[ApiToken, str]:
    """Replace a token by a new one of the same name and lifetime; the old one stops at once."""
    old = ApiToken.objects.select_for_update().filter(user=user, token_key=key).first()
    if old is None:
        raise DomainError("You hold no token with that key.", field="key")
    lifetime = old.expiry - old.created if old.expiry else None
    name = old.name
    old.delete()
    return ApiToken.objects.create(user=user, expiry=lifetime, name=name)


@transaction.atomic
def api_tokens_revoke_all(*, user: Any) -> int:
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return deleted


class RevokeApiTokensOnPasswordChange:
    """A password 'validator' that validates nothing: Django calls `password_changed` on every
    validator whenever a user's password is saved (password change and reset forms, the admin,
    `changepassword`, `set_password()` then `save()`), so this is the one place that sees them
    all. Someone who changes a password because it leaked wants every token gone too."""

    def validate(self, password: str, user: Any = None) -> None:
        return None

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is not None and user.pk is not None:
            api_tokens_revoke_all(user=user)

    def get_help_text(self) -> str:
        return ""


def client_ip(request: HttpRequest) -> str:
    """The client's address as the throttles see it (DRF's rule): behind NUM_PROXIES trusted
    proxies, the address the outermost one saw; otherwise REMOTE_ADDR."""
    meta = getattr(request, "META", {})
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    proxies = settings.NUM_PROXIES
    if proxies and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return str(meta.get("REMOTE_ADDR", ""))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """What a locked-out login gets: JSON on the API, the login page's explanation elsewhere."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = (
        f"Too many failed logins for this account from your address: try again in {minutes} "
        "minutes, or reset your password."
    )
    status = settings.AXES_HTTP_RESPONSE_CODE
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=status)
    else:
        response = render(
            request, "registration/locked_out.html", {"message": message}, status=status
        )
    response["Retry-After"] = str(minutes * 60)
    return response
