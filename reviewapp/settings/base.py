"""Settings shared by every environment.

Every environment variable the project reads is read here, through the small typed helpers
below, and listed in `.env.example`. With nothing set, the app runs on SQLite with Celery tasks
executed in-process; with DATABASE_URL / CELERY_BROKER_URL it uses PostgreSQL, Redis and workers.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


SECRET_KEY = env_str("SECRET_KEY", "insecure-development-key-change-me")
# HTTPS, applied by the production settings only (docs/deployment.md): redirect plain HTTP,
# Strict-Transport-Security for this many seconds (0: none), and the header a TLS-terminating
# proxy sets to say the request came over HTTPS (e.g. X-Forwarded-Proto; empty: no proxy).
HTTPS_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
HTTPS_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
HTTPS_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
HTTPS_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
HTTPS_PROXY_HEADER = env_str("SECURE_PROXY_SSL_HEADER", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
# The login page lists the demo users once `load_demo` has run. Development settings turn it
# on; production settings force it off.
DEMO_LOGINS = env_bool("DEMO_LOGINS", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_htmx",
    "reviewapp",
    "reviewapp.archive",
    "screening",
    "extraction",
    "extraction.rob",
    "analysis",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "reviewapp.urls"
WSGI_APPLICATION = "reviewapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "reviewapp.context_processors.review",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
USING_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "review_list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "reviewapp" / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"
# Uploads (import files, full-text PDFs) go to MEDIA_ROOT, or to an S3-compatible bucket when
# S3_BUCKET is set (django-storages; S3_ENDPOINT_URL for MinIO, Ceph, R2 ...).
S3_BUCKET = env_str("S3_BUCKET", "")
FILE_STORAGE: dict[str, object] = (
    {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("S3_REGION", "") or None,
            "access_key": env_str("S3_ACCESS_KEY_ID", "") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY", "") or None,
            "default_acl": None,
            "file_overwrite": False,  # two uploads with one name never replace each other
            "querystring_auth": True,  # full texts are private: links expire
        },
    }
    if S3_BUCKET
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
)
STORAGES = {
    "default": FILE_STORAGE,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "reviewapp@localhost")

# Uploads: the import limit is ours; Django's in-memory limit only decides when to spool to disk.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_MB", 200) * 1024 * 1024
# A deleted review can be restored by its lead for this many days, then it is purged.
REVIEW_RETENTION_DAYS = env_int("REVIEW_RETENTION_DAYS", 30)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "")
# No broker configured: run tasks in-process so `make run` needs nothing but Python.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "reviewapp")
# A page hands its work to the broker after its transaction commits; when the broker is down
# the work waits in the outbox, so the page gives up quickly instead of retrying for seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
# Prioritised screening: where a worker caches records' text features (a cache, safe to delete;
# empty = the system's temporary directory).
RANKING_CACHE_DIR = env_str("RANKING_CACHE_DIR", "")
# Queue a training when labels change (off: only "Retrain now" trains; for load benchmarks
# without a broker, where a training would run inside the web request).
RANKING_AUTO_TRAIN = env_bool("RANKING_AUTO_TRAIN", True)
# The worker draws a result's download figures (PNG, SVG, PDF; needs Chromium) once it is
# computed. Off by default without a broker: the drawing would run inside the web request, so
# figures are drawn when first downloaded instead.
FIGURES_RENDER_ON_COMPUTE = env_bool("FIGURES_RENDER_ON_COMPUTE", not CELERY_TASK_ALWAYS_EAGER)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "reviewapp.common.drf.exception_handler",
    # The browsable API's own policy relaxes style-src for its templates (docs/security.md).
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "reviewapp.common.drf.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Reviewapp API",
    "DESCRIPTION": "Systematic reviews from database exports to forest plots.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Served from our static files: the app works on networks without CDN access.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One named enum per choice set that several fields share (otherwise the names collide).
    "ENUM_NAME_OVERRIDES": {
        "VerdictEnum": "screening.models.Verdict",
        "RobToolKindEnum": "extraction.rob.models.RobTool.Kind",
        "RobToolModeEnum": "extraction.rob.models.RobTool.Mode",
        "ExtractionFormModeEnum": "extraction.models.ExtractionForm.Mode",
        "GradeLevelEnum": "analysis.models.GradeRating.Level",
        "JobStatusEnum": "screening.models.ImportBatch.Status",  # also deletions and archives
    },
}

# Import progress lives in the cache (the import's own transaction hides it from the database).
REDIS_CACHE_URL = env_str(
    "REDIS_CACHE_URL", CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else ""
)
CACHES = {
    "default": (
        {
            # An unreachable Redis is a cache miss, not an error (reviewapp/common/cache.py).
            "BACKEND": "reviewapp.common.cache.TolerantRedisCache",
            "LOCATION": REDIS_CACHE_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
        if REDIS_CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- Accounts and access (docs/security.md) ------------------------------------------------
# Invitations are links signed with SECRET_KEY; they stop working after INVITATION_DAYS.
INVITATION_DAYS = env_int("INVITATION_DAYS", 14)
# Signed-in API clients hold named tokens (django-rest-knox: only a digest is stored). A token
# expires after API_TOKEN_DAYS (0: never) and every token goes when the password changes.
INSTALLED_APPS += ["knox", "axes"]
KNOX_TOKEN_MODEL = "reviewapp.ApiToken"
# knox's own AuthToken is swapped out for ApiToken; its migrations would still create a table
# (with a key to auth_user that stops test databases from being flushed).
MIGRATION_MODULES = {"knox": None}
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 90)
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_DAYS) if API_TOKEN_DAYS > 0 else None,
    "TOKEN_PREFIX": "rv_",  # lets secret scanners recognise a leaked token
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_LIMIT_PER_USER": 50,
}
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    "rest_framework.authentication.SessionAuthentication",
    "reviewapp.common.auth.TokenAuthentication",
]
# Clients behind NUM_PROXIES trusted reverse proxies are told apart by X-Forwarded-For (the
# throttles and the login lockout both use reviewapp.accounts.client_ip); 0: REMOTE_ADDR.
NUM_PROXIES = env_int("NUM_PROXIES", 0)
REST_FRAMEWORK["NUM_PROXIES"] = NUM_PROXIES
# Throttles (per user when signed in, per address otherwise; logins per address).
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "reviewapp.common.throttles.AnonThrottle",
    "reviewapp.common.throttles.UserThrottle",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "anon": env_str("API_THROTTLE_ANON", "60/minute"),
    "user": env_str("API_THROTTLE_USER", "1200/minute"),
    "login": env_str("LOGIN_THROTTLE", "60/minute"),
    # Content-Security-Policy violation reports (reviewapp/csp.py), per address
    "csp_report": env_str("CSP_REPORT_THROTTLE", "120/minute"),
}
# django-axes: LOGIN_FAILURE_LIMIT wrong passwords for one username from one address lock that
# pair out for LOGIN_LOCKOUT_MINUTES, on the login page and the token endpoint alike.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_CLIENT_IP_CALLABLE = "reviewapp.accounts.client_ip"
AXES_LOCKOUT_CALLABLE = "reviewapp.accounts.lockout_response"
# Every way a password is saved (forms, admin, changepassword) tells the validators: this one
# revokes the user's API tokens.
AUTH_PASSWORD_VALIDATORS += [{"NAME": "reviewapp.accounts.RevokeApiTokensOnPasswordChange"}]

# --- Content-Security-Policy (django-csp; docs/security.md) ---------------------------------
# Every script is a static file and every figure's data a JSON block, so no page needs inline
# script, inline style, eval or a third-party origin. img-src allows data: and blob: because
# plotly's and the PRISMA page's image downloads draw the figure through an <img> first.
# Browsers report violations to /csp-report/, which logs them (logger "reviewapp.csp").
INSTALLED_APPS += ["csp"]
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
                  "reviewapp.csp.CSPMiddleware")  # fmt: skip
CSP_SELF, CSP_NONE = "'self'", "'none'"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        # plotly adds its rules through CSSOM (allowed) to a <style> element it creates empty:
        # this hash is that of the empty string, so it admits empty <style> elements only.
        "style-src": [CSP_SELF, "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"],
        "img-src": [CSP_SELF, "data:", "blob:"],
        "font-src": [CSP_SELF],
        "connect-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        # The full-text screening page shows the report's PDF (served by this site) in a frame.
        "frame-src": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "form-action": [CSP_SELF],
        "report-uri": "/csp-report/",
        "report-to": "csp",
    }
}
