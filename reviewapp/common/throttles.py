"""DRF throttles whose rates are read from settings at each request.

DRF's own classes copy DEFAULT_THROTTLE_RATES into a class attribute at import, so a rate
changed in settings (or by a test) would be ignored until restart.
"""

from typing import Any

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle


def _rate(scope: str) -> str | None:
    rates = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
    rate = rates.get(scope) if isinstance(rates, dict) else None
    return str(rate) if rate else None


class AnonThrottle(AnonRateThrottle):
    def get_rate(self) -> str | None:
        return _rate(self.scope)


class UserThrottle(UserRateThrottle):
    def get_rate(self) -> str | None:
        return _rate(self.scope)


class LoginThrottle(SimpleRateThrottle):
    """Password attempts per client address, whoever they name (guessing across many
    usernames from one address; django-axes locks out one username from one address)."""

    scope = "login"

    def get_rate(self) -> str | None:
        return _rate(self.scope)

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class CspReportThrottle(SimpleRateThrottle):
    """Content-Security-Policy reports per client address: anyone may post one, and each is a
    log line, so a flood is cut off rather than filling the log."""

    scope = "csp_report"

    def get_rate(self) -> str | None:
        return _rate(self.scope)

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
