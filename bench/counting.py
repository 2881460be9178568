"""Counting SQL statements and database time on a Django connection.

Statements are counted with ``connection.execute_wrapper``. Transaction control
is counted too, and the same way on both databases:

- BEGIN: the SQLite backend sends ``BEGIN IMMEDIATE`` through the cursor, so
  the wrapper sees it. psycopg never sends BEGIN through Django: it opens the
  transaction itself just before the first statement run while autocommit is
  off and no transaction is open. The wrapper counts a BEGIN exactly then.
- COMMIT / ROLLBACK: counted by wrapping the backend's ``_commit`` and
  ``_rollback`` (what ``atomic`` calls) while a transaction is open.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper


def _transaction_open(connection: BaseDatabaseWrapper) -> bool:
    raw = connection.connection
    if raw is None:
        return False
    if connection.vendor == "postgresql":
        from psycopg.pq import TransactionStatus

        return raw.info.transaction_status != TransactionStatus.IDLE
    return bool(raw.in_transaction)


@dataclass
class StatementCounter:
    """``with StatementCounter(connection) as counter: ...`` then ``counter.total``."""

    connection: BaseDatabaseWrapper
    begins: int = 0
    statements: int = 0
    commits: int = 0
    rollbacks: int = 0
    commit_seconds: float = 0.0  # spent in COMMIT (PostgreSQL checks deferred keys there)
    sql: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.begins + self.statements + self.commits + self.rollbacks

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip()[:5].upper() == "BEGIN":
            self.begins += 1
        else:
            connection = self.connection
            raw = connection.connection
            if (
                connection.vendor == "postgresql"
                and not raw.autocommit
                and not _transaction_open(connection)
            ):
                self.begins += 1
            self.statements += 1
        self.sql.append(sql)
        return execute(sql, params, many, context)

    def _wrap(self, name: str, counter: str) -> None:
        original = getattr(self.connection, name)

        def counted() -> Any:
            if _transaction_open(self.connection):
                setattr(self, counter, getattr(self, counter) + 1)
            start = time.perf_counter()
            try:
                return original()
            finally:
                if counter == "commits":
                    self.commit_seconds += time.perf_counter() - start

        setattr(self.connection, name, counted)

    def __enter__(self) -> StatementCounter:
        self.connection.ensure_connection()
        self.connection.execute_wrappers.append(self)
        self._wrap("_commit", "commits")
        self._wrap("_rollback", "rollbacks")
        return self

    def __exit__(self, *exc: object) -> None:
        self.connection.execute_wrappers.remove(self)
        # The wrappers were set on the instance: removing them uncovers the methods.
        del self.connection._commit
        del self.connection._rollback


@dataclass
class QueryTimer:
    """Sums the time spent in the database by the statements run inside the block."""

    connection: BaseDatabaseWrapper
    seconds: float = 0.0
    queries: int = 0
    slowest: tuple[float, str] = (0.0, "")

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - start
            self.seconds += took
            self.queries += 1
            self.slowest = max(self.slowest, (took, sql))

    def __enter__(self) -> QueryTimer:
        self.connection.execute_wrappers.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.connection.execute_wrappers.remove(self)
