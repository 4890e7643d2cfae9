from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403 -- settings modules extend the base namespace
from .base import (
    FILE_STORAGE,
    HTTPS_HSTS_INCLUDE_SUBDOMAINS,
    HTTPS_HSTS_PRELOAD,
    HTTPS_HSTS_SECONDS,
    HTTPS_PROXY_HEADER,
    HTTPS_REDIRECT,
    SECRET_KEY,
    env_bool,
)

# Keys that have been published (our defaults and examples): anyone could forge sessions,
# invitation links and password resets with them.
KNOWN_KEYS = {
    "insecure-development-key-change-me",
    "change-me",
    "change-me-in-production-please",
}


def check_secret_key(key: str) -> None:
    """Refuse to start with a missing, published or weak SECRET_KEY (Django's own rule for a
    strong key: at least 50 characters, at least 5 different ones)."""
    if key in KNOWN_KEYS or key.startswith(("insecure", "django-insecure")):
        raise ImproperlyConfigured(
            "SECRET_KEY is missing or a published example. Set it to a long random value: "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    if len(key) < 50 or len(set(key)) < 5:
        raise ImproperlyConfigured(
            "SECRET_KEY is too weak (at least 50 characters, not repetitive). Generate one: "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )


check_secret_key(SECRET_KEY)

DEBUG = False
DEMO_LOGINS = False  # a public install never advertises logins, whatever the environment says
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
SECURE_SSL_REDIRECT = HTTPS_REDIRECT
# The container's health check asks over plain HTTP from inside.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = HTTPS_HSTS_SECONDS
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS_HSTS_INCLUDE_SUBDOMAINS
SECURE_HSTS_PRELOAD = HTTPS_HSTS_PRELOAD
if HTTPS_PROXY_HEADER:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + HTTPS_PROXY_HEADER.upper().replace("-", "_"), "https")
STORAGES = {
    "default": FILE_STORAGE,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
