"""Production settings validation.

Kept free of Django imports beyond the exception so ``portal.settings`` can call it
before Django is configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from portal.ops.db_timeouts import invalid_settings as invalid_timeouts

POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "pgsql", "postgis"})
# Django's own check --deploy threshold (security.W009).
MIN_SECRET_KEY_LENGTH = 50
TRUE_VALUES = frozenset({"1", "true", "yes", "on"})


def split_list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def production_problems(environ: Mapping[str, str], dev_secret_key: str = "") -> list[str]:
    """Every reason this environment cannot run in production, each naming its variable."""
    problems: list[str] = []

    if (environ.get("DEBUG") or "").strip().lower() in TRUE_VALUES:
        problems.append("DEBUG must be off in production (unset it or set DEBUG=false).")

    secret_key = environ.get("SECRET_KEY", "")
    if not secret_key:
        problems.append("SECRET_KEY is not set.")
    elif secret_key == dev_secret_key or secret_key.startswith("django-insecure"):
        problems.append("SECRET_KEY is the development key; generate a new one.")
    elif len(secret_key) < MIN_SECRET_KEY_LENGTH or len(set(secret_key)) < 5:
        problems.append(
            f"SECRET_KEY is too weak: use at least {MIN_SECRET_KEY_LENGTH} random characters."
        )

    database_url = environ.get("DATABASE_URL", "")
    if not database_url:
        problems.append("DATABASE_URL is not set (a postgres:// URL is required).")
    elif urlsplit(database_url).scheme.lower() not in POSTGRES_SCHEMES:
        problems.append("DATABASE_URL must point at PostgreSQL (postgres://...).")

    replica_url = environ.get("DATABASE_REPLICA_URL", "")
    if replica_url and urlsplit(replica_url).scheme.lower() not in POSTGRES_SCHEMES:
        problems.append("DATABASE_REPLICA_URL must point at PostgreSQL (postgres://...).")

    hosts = split_list(environ.get("ALLOWED_HOSTS"))
    if not hosts:
        problems.append("ALLOWED_HOSTS is not set (comma-separated host names).")
    elif any("*" in host or host.startswith(".") for host in hosts):
        problems.append("ALLOWED_HOSTS must list exact host names; wildcards are refused.")

    proxies = (environ.get("TRUSTED_PROXY_COUNT") or "0").strip()
    if not proxies.isdigit():
        problems.append("TRUSTED_PROXY_COUNT must be a whole number (0 = no proxy in front).")

    if (environ.get("WEBHOOK_ALLOW_LOCALHOST_HTTP") or "").strip().lower() in TRUE_VALUES:
        problems.append(
            "WEBHOOK_ALLOW_LOCALHOST_HTTP is for development only; unset it in production."
        )
    problems.extend(invalid_timeouts(environ))

    origins = split_list(environ.get("CSRF_TRUSTED_ORIGINS"))
    if not origins:
        problems.append("CSRF_TRUSTED_ORIGINS is not set (e.g. https://wallet.example.com).")
    elif any("*" in origin or "://" not in origin for origin in origins):
        problems.append(
            "CSRF_TRUSTED_ORIGINS must list exact origins with a scheme; wildcards are refused."
        )
    return problems


def require_production_environment(environ: Mapping[str, str], dev_secret_key: str = "") -> None:
    """Refuse to start in production mode with a missing or unsafe setting."""
    problems = production_problems(environ, dev_secret_key)
    if problems:
        raise ImproperlyConfigured(
            "Production mode (DJANGO_ENV=production or DEBUG=false) cannot start:\n- "
            + "\n- ".join(problems)
        )
