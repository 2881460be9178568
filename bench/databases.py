"""The benchmark's own databases: created at the start of a run and dropped at its end.

PostgreSQL: two databases (one for Django: our engine and the peer; one for the
plain-SQL floor) on the server named by ``BENCH_DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/``, whose database, ``postgres`` when
empty, is only used to create and drop them). SQLite: two files in a
temporary directory.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/"


@dataclass
class BenchDatabases:
    vendor: str  # "postgresql" or "sqlite"
    django_url: str  # for dj-database-url (the portal's settings)
    floor_target: str  # a libpq URL, or a SQLite file path
    description: str
    _server_url: str = ""
    _names: tuple[str, ...] = ()
    _directory: str = ""

    def drop(self) -> None:
        if self.vendor == "sqlite":
            shutil.rmtree(self._directory, ignore_errors=True)
            return
        import psycopg

        with psycopg.connect(self._server_url, autocommit=True) as conn:
            for name in self._names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def create(vendor: str) -> BenchDatabases:
    if vendor == "sqlite":
        directory = tempfile.mkdtemp(prefix="wallet-bench-")
        django_file = Path(directory) / "bench.sqlite3"
        return BenchDatabases(
            vendor="sqlite",
            django_url=f"sqlite:///{django_file}",
            floor_target=str(Path(directory) / "floor.sqlite3"),
            description=f"SQLite files in {directory}",
            _directory=directory,
        )
    import psycopg

    server = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_SERVER_URL
    parts = urlsplit(server)
    admin_url = server if parts.path.strip("/") else _with_database(server, "postgres")
    stem = f"wallet_bench_{os.getpid()}_{secrets.token_hex(3)}"
    names = (stem, f"{stem}_floor")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    created = BenchDatabases(
        vendor="postgresql",
        django_url=_with_database(server, names[0]),
        floor_target=_with_database(server, names[1]),
        description=f"PostgreSQL {version.split()[0]} at {parts.hostname}:{parts.port or 5432}",
        _server_url=admin_url,
        _names=names,
    )
    try:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            for name in names:
                conn.execute(f'CREATE DATABASE "{name}"')
    except BaseException:
        created.drop()
        raise
    return created


def analyze_apps(*app_labels: str) -> None:
    """Refresh the planner's statistics of these Django apps' tables."""
    from django.apps import apps
    from django.db import connection

    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for label in app_labels:
            for model in apps.get_app_config(label).get_models():
                cursor.execute(f"ANALYZE {quote(model._meta.db_table)}")


def django_conninfo() -> str | None:
    """On PostgreSQL, a libpq connection string for the database Django
    uses (our engine's and the peer's), for ``bench.waits``; else None."""
    from django.db import connection
    from psycopg.conninfo import make_conninfo

    if connection.vendor != "postgresql":
        return None
    settings = connection.settings_dict
    given = {
        "dbname": settings["NAME"],
        "host": settings["HOST"],
        "port": str(settings["PORT"] or ""),
        "user": settings["USER"],
        "password": settings["PASSWORD"],
    }
    return make_conninfo("", **{key: value for key, value in given.items() if value})
