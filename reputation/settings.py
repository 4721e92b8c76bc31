"""Settings for Reputation desk.

Everything that differs between machines comes from environment variables, parsed
strictly: a malformed value stops the process with a message naming the variable.
Defaults are for a developer machine with the private cluster from `scripts/pg.sh`.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true/false (got {raw!r})")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer (got {raw!r})") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
# Development defaults of secrets: production refuses to start with any of them (see the
# checks at the end of this file).
DEV_SECRETS = {
    "SECRET_KEY": "dev-only-insecure-key-change-me",
    "META_APP_SECRET": "dev-meta-app-secret",
    "META_VERIFY_TOKEN": "dev-meta-verify-token",
    "GOOGLE_PUBSUB_TOKEN": "dev-google-pubsub-token",
    "CUSTOMER_HASH_KEY": "dev-customer-hash-key",
    "TOKEN_ENCRYPTION_KEY": "dev-token-encryption-key",
}
SECRET_KEY = env_str("SECRET_KEY", DEV_SECRETS["SECRET_KEY"])

# Practices live on subdomains of BASE_DOMAIN (dental.localhost). Browsers resolve
# *.localhost to the loopback address, so this works with no DNS or /etc/hosts setup.
BASE_DOMAIN = env_str("BASE_DOMAIN", "localhost")


def _running_port() -> int:
    """The port `make run` serves on (scripts/run.sh writes it), so commands run beside it
    (create_api_key) print URLs that work."""
    try:
        return int((BASE_DIR / ".run-port").read_text().strip())
    except (OSError, ValueError):
        return 8000


SITE_PORT = env_int("PORT", _running_port())
SITE_SCHEME = env_str("SITE_SCHEME", "http")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [BASE_DOMAIN, f".{BASE_DOMAIN}", "127.0.0.1"])

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "drf_spectacular_sidecar",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    "django_q",
    "reputation",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "reputation.audit",
    "inbox",
    "escalation",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Practice"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "reputation.urls_public"
ROOT_URLCONF = "reputation.urls_tenant"
# New practices are cloned from this kept-migrated template (tenants.provisioning
# migrates it first, so a stale template can never be cloned).
TENANT_BASE_SCHEMA = "practice_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# Skip the redundant `SET search_path` before every query (~20% per query).
TENANT_LIMIT_SET_CALLS = True

MIDDLEWARE = [
    "django_tenants.middleware.main.TenantMainMiddleware",
    "tenants.middleware.practice_timezone",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who, from where: the request's address, user agent and id for the audit trail.
    "reputation.audit.context.AuditRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
if not DEBUG:
    # Static files from the app itself in production (collectstatic, then WhiteNoise);
    # in development runserver serves them from the apps.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "reputation" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.practice",
                "inbox.context_processors.sources",
            ],
        },
    },
]

WSGI_APPLICATION = "reputation.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django_tenants.postgresql_backend",
        "NAME": env_str("DATABASE_NAME", "repdesk"),
        "USER": env_str("DATABASE_USER", "repdesk"),
        "PASSWORD": env_str("DATABASE_PASSWORD", ""),
        "HOST": env_str("DATABASE_HOST", str(BASE_DIR / ".pg" / "run")),
        "PORT": env_str("DATABASE_PORT", "5432"),
        # Persistent connections: the django-q2 ORM broker is ~10x faster with them.
        "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
    }
}
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "tenants.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Host-only session cookies: a session on dental.localhost is never sent to
# aesthetics.localhost (django-tenants #306). Agency staff move between clients
# through a signed, single-use hand-off (tenants.handoff).
SESSION_COOKIE_DOMAIN = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HTTPS in production, settable for a deployment behind a proxy that already redirects.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("TRUST_X_FORWARDED_PROTO", False):  # only behind a proxy that sets it
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

# Throttles and rate limits must hold across every gunicorn worker and machine: a shared
# cache (the database, no extra server) unless CACHE_BACKEND=locmem (one process).
CACHE_BACKEND = env_str("CACHE_BACKEND", "locmem" if DEBUG else "db")
if CACHE_BACKEND not in {"locmem", "db"}:
    raise ImproperlyConfigured(f"CACHE_BACKEND must be locmem or db (got {CACHE_BACKEND!r})")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache"
        if CACHE_BACKEND == "locmem"
        else "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "repdesk_cache",  # the table `createcachetable` makes (in public)
        # Tenant-aware keys: without it tenants share cache entries (django-tenants #1052).
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    },
    # Always declared, so `createcachetable` (run by setup_db) makes the table whichever
    # backend is the default: switching to CACHE_BACKEND=db then needs no extra step.
    "shared": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "repdesk_cache",
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed names in production: cached for ever by browsers, safe to change.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", EMAIL_PORT == 465)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "alerts@reputation-desk.local")
# For django.core.mail.backends.filebased.EmailBackend (used by the worker tests).
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / ".mail"))

# Inbound payloads larger than this are refused with 413 before they are parsed.
MAX_PAYLOAD_BYTES = env_int("MAX_PAYLOAD_BYTES", 1_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_PAYLOAD_BYTES

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenants.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tenants.auth.IsPracticeMember"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "reputation.core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.ScopedRateThrottle",
        "tenants.auth.ApiKeyRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "ingest": env_str("INGEST_RATE", "6000/min"),
        "api_key": env_str("API_KEY_RATE", "6000/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Reputation desk API",
    "DESCRIPTION": "Per-practice API: push mentions in, read the inbox. "
    "Authenticate with `Authorization: Api-Key <key>` (python manage.py create_api_key).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from our own static files (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status" or "kind": one named enum each.
    "ENUM_NAME_OVERRIDES": {
        "EscalationStatusEnum": "escalation.models.Escalation.Status",
        "EscalationKindEnum": "escalation.models.Escalation.Kind",
        "PlatformReportStatusEnum": "escalation.models.PlatformReport.Status",
        "CustomerCheckStatusEnum": "escalation.models.CustomerCheck.Status",
        "CustomerListStatusEnum": "escalation.models.CustomerList.Status",
    },
}

Q_CLUSTER = {
    "name": "repdesk",
    "orm": "default",  # the database is the broker: no Redis needed
    "workers": env_int("Q_WORKERS", 2),
    "timeout": 120,
    "retry": 180,  # longer than timeout, or a task can run twice at once
    "max_attempts": 5,
    # Workers x bulk: a crashed cluster strands at most this many claimed tasks.
    "queue_limit": 20,
    "bulk": 10,
    "catch_up": False,
    # Keep no successful results: pruning 1,000 of them after every task capped the
    # worker near 60 tasks/s (bench/README.md). Failures are still kept, and each
    # webhook's outcome is on WebhookDelivery / RawPayload anyway.
    "save_limit": -1,
    "poll": 0.05,
    # A new worker process loads the analyser's language model (~1 s of CPU).
    "recycle": 5000,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        # httpx logs request URLs at INFO, and Tripadvisor's API key travels in the URL.
        "httpx": {"level": "WARNING"},
    },
}

# Dotted path of the analyser class; empty means the built-in default.
REPUTATION_ANALYSER = env_str("REPUTATION_ANALYSER", "")

# Platform webhooks (one URL each for the whole service; see inbox/webhooks.py).
META_APP_SECRET = env_str("META_APP_SECRET", DEV_SECRETS["META_APP_SECRET"])
META_VERIFY_TOKEN = env_str("META_VERIFY_TOKEN", DEV_SECRETS["META_VERIFY_TOKEN"])
GOOGLE_PUBSUB_TOKEN = env_str("GOOGLE_PUBSUB_TOKEN", DEV_SECRETS["GOOGLE_PUBSUB_TOKEN"])
# The key customer lists are hashed with (each practice's key is derived from it). Never
# stored in the database; changing it means importing the customer lists again.
CUSTOMER_HASH_KEY = env_str("CUSTOMER_HASH_KEY", DEV_SECRETS["CUSTOMER_HASH_KEY"])
# Meta batches up to 1,000 changes in one POST: allow more than the API's 1 MB.
WEBHOOK_MAX_BYTES = env_int("WEBHOOK_MAX_BYTES", 10_000_000)
# Platform API credentials for polling (per-account tokens in SocialAccount.poll_state win).
GOOGLE_API_TOKEN = env_str("GOOGLE_API_TOKEN", "")
YELP_API_KEY = env_str("YELP_API_KEY", "")
TRIPADVISOR_API_KEY = env_str("TRIPADVISOR_API_KEY", "")
X_BEARER_TOKEN = env_str("X_BEARER_TOKEN", "")
# Where the platform APIs are (tests and staging point them at a fake server).
GOOGLE_API_BASE = env_str("GOOGLE_API_BASE", "https://mybusiness.googleapis.com/v4/")
GRAPH_API_BASE = env_str("GRAPH_API_BASE", "https://graph.facebook.com/v25.0/")
X_API_BASE = env_str("X_API_BASE", "https://api.x.com/2/")
# Platform tokens (AccountCredential) are encrypted with Fernet under a key derived from
# this value. Several values separated by commas: the first encrypts, all decrypt (key
# rotation: put the new value first and keep the old ones listed; a token is written
# under the new key whenever it is refreshed or reconnected).
TOKEN_ENCRYPTION_KEY = env_str("TOKEN_ENCRYPTION_KEY", DEV_SECRETS["TOKEN_ENCRYPTION_KEY"])
# Connecting accounts from the Accounts page (OAuth 2.0). Missing ids: the connect
# button says which variable to set. The callback URL to register with each platform is
# https://<practice>.<BASE_DOMAIN>/inbox/accounts/connect/<google|facebook|x>/callback/
GOOGLE_OAUTH_CLIENT_ID = env_str("GOOGLE_OAUTH_CLIENT_ID", "")
GOOGLE_OAUTH_CLIENT_SECRET = env_str("GOOGLE_OAUTH_CLIENT_SECRET", "")
META_APP_ID = env_str("META_APP_ID", "")
X_OAUTH_CLIENT_ID = env_str("X_OAUTH_CLIENT_ID", "")
# Empty for a public client (PKCE only); set for a confidential one (HTTP Basic).
X_OAUTH_CLIENT_SECRET = env_str("X_OAUTH_CLIENT_SECRET", "")
# Authorization and API servers of the connect flows (tests point them at a fake server).
GOOGLE_OAUTH_AUTHORIZE_URL = env_str(
    "GOOGLE_OAUTH_AUTHORIZE_URL", "https://accounts.google.com/o/oauth2/v2/auth"
)
GOOGLE_OAUTH_TOKEN_URL = env_str("GOOGLE_OAUTH_TOKEN_URL", "https://oauth2.googleapis.com/token")
GOOGLE_ACCOUNTS_API_BASE = env_str(
    "GOOGLE_ACCOUNTS_API_BASE", "https://mybusinessaccountmanagement.googleapis.com/v1/"
)
GOOGLE_LOCATIONS_API_BASE = env_str(
    "GOOGLE_LOCATIONS_API_BASE", "https://mybusinessbusinessinformation.googleapis.com/v1/"
)
META_DIALOG_URL = env_str("META_DIALOG_URL", "https://www.facebook.com/v25.0/dialog/oauth")
X_OAUTH_AUTHORIZE_URL = env_str("X_OAUTH_AUTHORIZE_URL", "https://twitter.com/i/oauth2/authorize")
X_OAUTH_TOKEN_URL = env_str("X_OAUTH_TOKEN_URL", "https://api.twitter.com/2/oauth2/token")
# Feeds are fetched only from public addresses (SSRF guard). `true` turns that off, for
# development against a feed on localhost or the LAN; never in production.
FEED_ALLOW_PRIVATE = env_bool("FEED_ALLOW_PRIVATE", False)

# Domain events (reputation.core.events): what the floors above run, in the same
# transaction, when the inbox says something happened. Dotted paths of handlers.
DOMAIN_EVENT_HANDLERS: dict[str, list[str]] = {
    # Authors checked against the customer list on arrival.
    "mentions.created": ["escalation.handlers.mentions_created"],
    # A police escalation draft, once per mention, and the owners told.
    "mention.threat": ["escalation.handlers.mention_threat"],
    # A platform report waiting for a decision on it becomes "removed".
    "mention.removed_on_platform": ["escalation.handlers.mention_removed_on_platform"],
}

# How often an open inbox page asks for new mentions (seconds).
INBOX_POLL_SECONDS = env_int("INBOX_POLL_SECONDS", 20)


def _production_problems() -> list[str]:
    """What would make a production deployment unsafe or silently broken. Production
    fails closed: it does not start until each is fixed."""
    problems = []
    for name, dev_value in DEV_SECRETS.items():
        value = globals()[name]
        if not value or value == dev_value:
            problems.append(
                f"{name} is {'not set' if not value else 'the development default'}: set it"
                f' to a long random value (e.g. `python -c "import secrets;'
                f' print(secrets.token_urlsafe(50))"`).'
            )
    quiet = {"console", "locmem", "dummy", "filebased"}
    if any(f".{kind}." in EMAIL_BACKEND for kind in quiet):
        problems.append(
            f"EMAIL_BACKEND is {EMAIL_BACKEND}: threat alerts would never reach anyone. Use"
            " django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST (and EMAIL_PORT,"
            " EMAIL_HOST_USER, EMAIL_HOST_PASSWORD)."
        )
    elif EMAIL_BACKEND.endswith("smtp.EmailBackend") and not EMAIL_HOST:
        problems.append("EMAIL_HOST is not set: the mail server that sends threat alerts.")
    if FEED_ALLOW_PRIVATE:
        problems.append("FEED_ALLOW_PRIVATE is on: feeds could reach internal addresses.")
    return problems


if not DEBUG and (_problems := _production_problems()):
    raise ImproperlyConfigured(
        "Refusing to start with DEBUG off:\n  - "
        + "\n  - ".join(_problems)
        + "\nSee README, section Deploying, for every variable."
    )

# History files uploaded from the web wait here until a worker imports them (a folder
# every web and worker machine shares, on more than one machine).
IMPORT_UPLOAD_DIR = env_str("IMPORT_UPLOAD_DIR", str(BASE_DIR / ".uploads"))
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 200_000_000)

# Audit events older than this expire (the chain stays verifiable from a checkpoint).
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 6 * 365)

# Failed sign-ins: past either limit, sign-in waits LOGIN_LOCKOUT_SECONDS.
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 5)
LOGIN_FAILURES_PER_IP = env_int("LOGIN_FAILURES_PER_IP", 30)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900)
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 3600)
