"""Engine-only settings: Django's own apps, the wallet engine and the test app.

The wallet, transaction and transfer models are swapped for the project's
own (``tests.ledgerapp``), as ``AUTH_USER_MODEL`` swaps the user model.
Neither the portal nor the shop nor any third-party app is installed, which
proves the engine stands on Django alone (``pytest --ds=tests.engine_settings
tests/wallets``)."""

import os
from urllib.parse import urlsplit

SECRET_KEY = "engine-tests-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "wallets",
    "tests.testapp",
    "tests.ledgerapp",
]
AUTH_USER_MODEL = "testapp.Person"
# The project's own ledger models, extending the engine's abstract ones: every
# engine test in this run works on them (see tests/ledgerapp/models.py).
WALLETS_WALLET_MODEL = "ledgerapp.CostCenterWallet"
WALLETS_TRANSACTION_MODEL = "ledgerapp.ChannelTransaction"
WALLETS_TRANSFER_MODEL = "ledgerapp.BatchTransfer"
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "tests.engine_urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        # A file when a test needs several real connections (see
        # tests/wallets/sqlite_writers.py); in memory otherwise.
        "NAME": os.environ.get("ENGINE_SQLITE_PATH", ":memory:"),
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
}
# The same run on PostgreSQL (the race tests need it): DATABASE_URL=postgres://...
_url = urlsplit(os.environ.get("DATABASE_URL", ""))
if _url.scheme in ("postgres", "postgresql"):
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _url.path.lstrip("/") or "postgres",
        "USER": _url.username or "",
        "PASSWORD": _url.password or "",
        "HOST": _url.hostname or "",
        "PORT": str(_url.port or ""),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATIC_URL = "static/"
WALLETS = {"EXCHANGE_RATES": {("USD", "EUR"): "0.92"}}
