"""The engine's hot statements, prepared once per PostgreSQL connection.

Django's psycopg cursors bind parameters on the client: every statement
reaches PostgreSQL as new text, to be parsed and planned again. For a
one-statement deposit that was about half of the server's time. The few
statements the engine runs on every operation (``wallets.one_statement``,
``wallets.one_statement_transfer``, the newest-rows read) are instead sent
with server-side binding and prepared by psycopg the first time a connection
runs them; psycopg keeps at most ``prepared_max`` of them per connection and
forgets them when PostgreSQL does.

This follows the connection's own ``prepare_threshold``, the psycopg option a
site sets in ``DATABASES[...]["OPTIONS"]``: ``None`` (Django's default, and
the setting for a transaction-pooling PgBouncer that cannot keep prepared
statements) leaves these statements as Django sends any other. Django's
cursors never prepare whatever the threshold, so turning it on changes only
these statements. Elsewhere (SQLite) the connection's usual cursor is used.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.utils import CursorWrapper

try:
    from django.db.backends.postgresql.base import ServerBindingCursor
except ImportError:  # psycopg is not installed: only other databases can be in use
    ServerBindingCursor = None


if ServerBindingCursor is not None:

    class PreparedCursor(ServerBindingCursor):
        """Server-side binding, and every statement prepared on its first run."""

        def execute(self, query: Any, params: Any = None, *, prepare: Any = None, **kwargs: Any):
            return super().execute(query, params, prepare=True, **kwargs)


def _read_timestamps_as_django_does(connection: Any, cursor: Any) -> None:
    """What Django's ``create_cursor()`` does for its own cursors: a timestamp
    loader in the connection's zone when the connection's adapters have another."""
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, Format, register_tzloader

    loader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    if connection.timezone != loader.timezone:
        register_tzloader(connection.timezone, cursor)


def statement_cursor(connection: Any) -> CursorWrapper:
    """A cursor of ``connection`` whose statements are prepared where the
    connection allows it (see the module's notes); otherwise its usual cursor.

    It is wrapped as Django wraps its own, so execute wrappers and the
    translation of database errors apply."""
    if connection.vendor != "postgresql" or ServerBindingCursor is None:
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    if connection.connection.prepare_threshold is None or connection.queries_logged:
        # A logged query is sent as Django sends any, so the log shows its
        # text with its values (a prepared one would be logged as nothing).
        return connection.cursor()
    with connection.wrap_database_errors:
        raw = PreparedCursor(connection.connection)
        _read_timestamps_as_django_does(connection, raw)
        return connection._prepare_cursor(raw)
