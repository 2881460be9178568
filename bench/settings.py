"""Django settings of the benchmark: the portal's own, plus the peer and two bench apps.

The engine runs exactly as the portal configures it (``WALLETS`` with the risk
policy on). ``python -m bench`` sets ``BENCH_DJANGO_DATABASE_URL`` to the
database it created before Django starts.
"""

import os

from portal.settings import *  # noqa: F403
from portal.settings import INSTALLED_APPS, database_config

# No query log: Django's debug cursor would slow every ORM call we measure.
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
INSTALLED_APPS = [*INSTALLED_APPS, "dj_wallet", "bench.engineapp", "bench.peerapp"]
DATABASES = {"default": database_config(os.environ["BENCH_DJANGO_DATABASE_URL"])}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"handlers": [], "level": "ERROR"},
}
# dj-wallet's settings (its defaults; named here so the peer's setup is visible).
dj_wallet = {"MATH_SCALE": 8, "DEFAULT_CURRENCY": "USD"}
