from .base import *  # noqa: F403 -- settings modules extend the base namespace
from .base import env_bool

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Unit tests run tasks in-process even when a broker is configured; the integration tests start
# a real worker and switch this off for themselves.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
# Drawing with Chromium after every computation would slow every analysis test by seconds; the
# tests of figure files turn it on.
FIGURES_RENDER_ON_COMPUTE = env_bool("FIGURES_RENDER_ON_COMPUTE", False)
# Tests never collect static files; WhiteNoise serves from the finders.
STATIC_ROOT = None  # type: ignore[assignment]  # base types it as a Path
WHITENOISE_USE_FINDERS = True
# The suite walks hundreds of routes as one user and one address: throttles stay on, with room
# for that; tests of throttling set their own rates.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405 -- from the base settings
    "DEFAULT_THROTTLE_RATES": {
        "anon": "100000/minute",
        "user": "100000/minute",
        "login": "1000/minute",
    },
}
