from .base import *  # noqa: F403 -- settings modules extend the base namespace
from .base import FILE_STORAGE, SECRET_KEY, env_bool

if SECRET_KEY.startswith("insecure"):
    raise RuntimeError("Set SECRET_KEY in production.")

DEBUG = False
DEMO_LOGINS = False  # a public install never advertises logins, whatever the environment says
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
STORAGES = {
    "default": FILE_STORAGE,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
