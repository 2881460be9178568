"""The engine's hot statements, prepared once per PostgreSQL connection.

Django's psycopg cursors bind parameters on the client: every statement
reaches PostgreSQL as new text, to be parsed and planned again. For a
one-statement deposit that was about half of the server's time. The few
statements the engine runs on every operation (``wallets.one_statement``,
``wallets.one_statement_transfer``, the newest-rows read, ``holder.balance``)
are instead sent with server-side binding and prepared by psycopg the first
time a connection runs them; psycopg keeps at most ``prepared_max`` of them
per connection and starts again after a rollback or a schema change on that
connection. A migration elsewhere that changes the type of a column they
return makes PostgreSQL refuse their plans; outside a transaction the
statements are then prepared again (:class:`PreparedCursor`). One cursor per
connection sends them (:class:`KeptCursor`).

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
    from django.db.backends.postgresql.base import Database, ServerBindingCursor
except ImportError:  # psycopg is not installed: only other databases can be in use
    ServerBindingCursor = None


if ServerBindingCursor is not None:
    # psycopg, as Django's backend imported it.
    FeatureNotSupported = Database.errors.FeatureNotSupported
    IDLE = Database.pq.TransactionStatus.IDLE

    class PreparedCursor(ServerBindingCursor):
        """Server-side binding, and every statement prepared on its first run."""

        def execute(self, query: Any, params: Any = None, *, prepare: Any = None, **kwargs: Any):
            try:
                return super().execute(query, params, prepare=True, **kwargs)
            except FeatureNotSupported as error:
                if not self._stale_outside_a_transaction(error):
                    raise
            # A migration changed the type of a column the statement returns,
            # and PostgreSQL refuses to run its old plan (nothing ran). In a
            # transaction, the rollback makes psycopg forget its statements;
            # outside one, nothing would, so they are dropped here and the
            # statement is prepared again.
            super().execute("DEALLOCATE ALL")
            return super().execute(query, params, prepare=True, **kwargs)

        def _stale_outside_a_transaction(self, error: Exception) -> bool:
            return (
                "cached plan must not change result type" in str(error)
                and self.connection.info.transaction_status == IDLE
            )


class KeptCursor(CursorWrapper):
    """Django's cursor wrapper around the connection's one prepared cursor,
    which leaving the ``with`` block does not close: the next statement reuses
    it, with the adapters it has already looked up for each parameter type
    (a new cursor for each statement made a deposit take half as long again)."""

    def __exit__(self, type: Any, value: Any, traceback: Any) -> None:
        pass


def _load_timestamps_in_c(connection: Any, cursor: Any) -> bool:
    """Load ``cursor``'s (a psycopg cursor's) timestamps with psycopg's own
    loader, written in C, instead of Django's subclass of its Python one, and
    tell whether it did.

    Django's loader only sets each value's zone to the connection's; psycopg's
    gives the session's zone. Where that is the same object (a UTC session and
    ``USE_TZ``, as in every deployment of the portal) the values are identical,
    at a tenth of the cost: timestamps were a third of a history read."""
    try:  # psycopg 3; Django's loader stays with psycopg2
        from django.db.backends.postgresql.psycopg_any import TimestamptzLoader
    except ImportError:
        return False
    if cursor.connection.info.timezone is not connection.timezone:
        return False
    cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
    return True


def _load_timestamps_as_django_does(connection: Any, cursor: Any) -> None:
    """What Django's ``create_cursor()`` does for its own cursors: a timestamp
    loader in the connection's zone when the connection's adapters have another."""
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, Format, register_tzloader

    loader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    if connection.timezone != loader.timezone:
        register_tzloader(connection.timezone, cursor)


def statement_cursor(connection: Any) -> CursorWrapper:
    """A cursor of ``connection`` whose statements are prepared where the
    connection allows it (see the module's notes); otherwise its usual cursor.
    On PostgreSQL either one loads timestamps in C where that gives the same
    values (:func:`_load_timestamps_in_c`).

    Wrapped as Django wraps its own, so execute wrappers and the translation
    of database errors apply."""
    if connection.vendor != "postgresql" or ServerBindingCursor is None:
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    database = connection.connection
    if database.prepare_threshold is None or connection.queries_logged:
        # A logged query is sent as Django sends any, so the log shows its
        # text with its values (a prepared one would be logged as nothing).
        cursor = connection.cursor()
        _load_timestamps_in_c(connection, cursor.cursor)
        return cursor
    connection.validate_thread_sharing()
    zone = connection.timezone
    kept = getattr(connection, "_wallets_prepared_cursor", None)
    if kept is None or kept[0] is not database or kept[1] is not zone or kept[2].closed:
        # The first statement on this connection, or on the new one Django
        # reconnected with, or since the project's time zone changed (tests).
        with connection.wrap_database_errors:
            cursor = PreparedCursor(database)
        if not _load_timestamps_in_c(connection, cursor):
            _load_timestamps_as_django_does(connection, cursor)
        kept = connection._wallets_prepared_cursor = (database, zone, cursor)
    return KeptCursor(kept[2], connection)
