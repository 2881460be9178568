"""Settings for the wallet portal.

Everything comes from the environment; with nothing set the portal runs on a
SQLite file in the project directory with debug on.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url

from portal.ops import db_timeouts

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit():
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"{name} must be a whole number, 0 or more.")
    return int(value)


DEV_SECRET_KEY = "insecure-development-key-change-me"
DJANGO_ENV = os.environ.get("DJANGO_ENV", "").strip().lower()
# DJANGO_ENV=build: collectstatic while building the image, before any secret
# exists. DEBUG is off so files get hashed names; with no ALLOWED_HOSTS a server
# started this way by mistake answers nothing.
BUILD = DJANGO_ENV == "build"
# Production mode: DJANGO_ENV=production, or DEBUG explicitly off. It refuses to
# start on development defaults rather than run a wallet insecurely.
PRODUCTION = not BUILD and (DJANGO_ENV == "production" or not env_bool("DEBUG", True))
if PRODUCTION:
    from portal.ops.env import require_production_environment

    require_production_environment(os.environ, DEV_SECRET_KEY)
DEBUG = not PRODUCTION and not BUILD and env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY") or DEV_SECRET_KEY
ALLOWED_HOSTS = (
    [] if BUILD else env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_tables2",
    "django_filters",
    "crispy_forms",
    "crispy_bootstrap5",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "wallets",
    "shop",
    "portal",
]

MIDDLEWARE = [
    # First: the client's address behind our proxies (TRUSTED_PROXY_COUNT), for
    # everything after it: logs, rate limits, the staff audit log.
    "portal.ops.client_ip.TrustedProxyMiddleware",
    # Database failures become a 503 (a money form's page says the outcome is
    # unknown); high up so the others' process_exception hooks run before it.
    "portal.ops.errors.DatabaseErrorsMiddleware",
    # Every log line gets the request id; probes and scrapes skip the rest.
    "portal.ops.request_id.RequestIdMiddleware",
    "portal.ops.metrics.RequestMetricsMiddleware",
    "portal.ops.middleware.OpsEndpointsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
            ],
        },
    },
]


# Database timeouts for this kind of process (web, command, worker): see
# portal.ops.db_timeouts and .env.production.example.
DB_TIMEOUT_ROLE = db_timeouts.process_role(sys.argv, os.environ, PRODUCTION)
DB_TIMEOUTS = db_timeouts.timeouts(DB_TIMEOUT_ROLE, os.environ)


def database_config(url: str, role: str | None = None) -> dict:
    # Persistent connections, checked before reuse: one per gunicorn worker.
    config = dj_database_url.parse(
        url, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "600")), conn_health_checks=True
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Concurrent writers queue on the write lock instead of failing with
        # "database is locked" half-way through a money operation.
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    elif "postgresql" in config["ENGINE"]:
        values = DB_TIMEOUTS if role is None else db_timeouts.timeouts(role, os.environ)
        config["OPTIONS"] = db_timeouts.postgres_options(values, config.get("OPTIONS", {}))
        # The engine's hot statements are prepared once per connection
        # (wallets.prepared); Django's own cursors never prepare. Off for a
        # transaction-pooling PgBouncer that cannot keep prepared statements.
        if env_bool("DB_PREPARED_STATEMENTS", True):
            config["OPTIONS"].setdefault("prepare_threshold", 5)
    return config


DATABASES = {
    "default": database_config(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
# A streaming read replica for history pages and reports (portal.ops.db).
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = {
        **database_config(os.environ["DATABASE_REPLICA_URL"]),
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["portal.ops.db.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
# Uploaded product images. The development server serves them; in production
# put MEDIA_ROOT on shared storage served by the load balancer or a bucket.
MEDIA_URL = "media/"
MEDIA_ROOT = BASE_DIR / "media"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# The product's name: page titles, the navigation, account emails.
SITE_NAME = "Tally"

# django-allauth
LOGIN_REDIRECT_URL = "/"
# Account emails are signed with SITE_NAME (templates/account/email/), never with the
# host name the request came in on.
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# allauth's defaults, tightened for a money site: per IP and per account. The
# IP is the client's (TRUSTED_PROXY_COUNT below), so one address failing logins
# locks out only itself, and an account only after its own failures.
ACCOUNT_RATE_LIMITS = {
    "login": "20/m/ip",
    "login_failed": "5/300s/key,20/m/ip",
    "signup": "5/h/ip",
    "reset_password": "5/h/ip,3/h/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
}
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
# How many proxies we run in front of the portal (0: clients connect directly).
# portal.ops.client_ip.TrustedProxyMiddleware takes the client's address from
# X-Forwarded-For with it; allauth's rate limits read the same header the same
# way. Behind the documented load balancer this is 1.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
# Transfers at or above this amount (per unit; "*" for any other unit) ask for the
# password again unless the user re-authenticated in the last few minutes.
PORTAL_REAUTH_THRESHOLD = {"USD": "1000", "EUR": "1000", "*": "100000"}

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"{SITE_NAME} <wallet@localhost>")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"

# The wallet engine
WALLETS = {
    "DEFAULT_SLUG": "default",
    "DEFAULT_UNIT": "USD",
    "DEFAULT_DECIMAL_PLACES": 2,
    "EXCHANGE_RATES": {
        ("USD", "EUR"): "0.92",
        ("EUR", "USD"): "1.08",
        ("USD", "PTS"): "100",
        ("PTS", "USD"): "0.01",
    },
    "PENDING_EXPIRY_SECONDS": 7 * 24 * 3600,
    # Transfers pass the staff's risk rules (limits per holder and unit), which
    # the transfer operation evaluates under its locks.
    "TRANSFER_POLICY_CLASS": "wallets.risk.RiskRulePolicy",
}

# Webhooks go to https URLs whose host resolves only to public addresses
# (shop.webhook_targets). Development may send them to a receiver on loopback
# over http; production mode refuses to start with this on.
WEBHOOK_ALLOW_LOCALHOST_HTTP = env_bool("WEBHOOK_ALLOW_LOCALHOST_HTTP", DEBUG)

# Security headers. Production turns on HTTPS-only behaviour; the CSP applies
# everywhere so a page that needs an inline script fails in development too.
from csp.constants import NONE, SELF  # noqa: E402

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
        # The checkout page replaces this per response: portal.ops.security.allow_framing.
        "frame-ancestors": [NONE],
    },
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # TLS ends at the load balancer; trust its X-Forwarded-Proto only when it is
    # the sole way in (turn off if gunicorn is reachable directly).
    if env_bool("TRUST_X_FORWARDED_PROTO", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Cache and sessions shared by every web process when Redis is there; allauth's
# login rate limits use this cache. Sessions stay in the database (read through
# the cache), so they survive a Redis flush and work with any number of processes.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "portal"),
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Observability: JSON log lines with the request id; /metrics for Prometheus.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if PRODUCTION else "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "portal.ops.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "portal.ops.logs.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.server": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}

# Outgoing mail (allauth's verification and reset emails) through SMTP in production.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
