"""The plain-SQL floor: the least a correct transfer can cost on the same database.

Two tables of its own, in a database of its own. A transfer locks both rows by
id in one statement, checks the funds, runs 2 UPDATEs and 2 INSERTs and
commits: 7 statements with BEGIN and COMMIT. psycopg (its defaults) on
PostgreSQL; the sqlite3 module with ``BEGIN IMMEDIATE`` on SQLite, where
amounts are integers of cents so that sums stay exact.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bench.contender import Product

POSTGRES_SCHEMA = [
    "CREATE TABLE floor_wallet (id bigserial PRIMARY KEY, balance numeric(38, 18) NOT NULL)",
    "CREATE TABLE floor_tx (id bigserial PRIMARY KEY, "
    "wallet_id bigint NOT NULL REFERENCES floor_wallet (id), "
    "amount numeric(38, 18) NOT NULL, balance_after numeric(38, 18) NOT NULL, "
    "created_at timestamptz NOT NULL DEFAULT now())",
    "CREATE INDEX floor_tx_history ON floor_tx (wallet_id, created_at DESC, id DESC)",
]
SQLITE_SCHEMA = [
    "CREATE TABLE floor_wallet (id integer PRIMARY KEY, balance integer NOT NULL)",
    "CREATE TABLE floor_tx (id integer PRIMARY KEY, "
    "wallet_id integer NOT NULL REFERENCES floor_wallet (id), "
    "amount integer NOT NULL, balance_after integer NOT NULL, "
    "created_at text NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')))",
    "CREATE INDEX floor_tx_history ON floor_tx (wallet_id, created_at DESC, id DESC)",
]


class FloorInsufficientFunds(Exception):
    pass


@dataclass
class Tally:
    """Statements the floor ran, BEGIN and COMMIT included."""

    total: int = 0
    commit_seconds: float = 0.0


class Floor:
    name = "floor"
    refused = (FloorInsufficientFunds,)

    def __init__(self, vendor: str, target: str) -> None:
        self.sqlite = vendor == "sqlite"
        self.target = target
        self.label = "plain SQL (sqlite3)" if self.sqlite else "plain SQL (psycopg)"
        self._local = threading.local()
        self._tally: Tally | None = None
        self.mark = "?" if self.sqlite else "%s"
        conn = self.connection
        for statement in SQLITE_SCHEMA if self.sqlite else POSTGRES_SCHEMA:
            conn.execute(statement)
        if not self.sqlite:
            conn.commit()

    # Connections: one per thread

    @property
    def connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self.sqlite:
                conn = sqlite3.connect(
                    self.target, isolation_level=None, timeout=20, check_same_thread=False
                )
            else:
                import psycopg

                conn = psycopg.connect(self.target)
            self._local.conn = conn
        return conn

    def thread_started(self) -> None:
        self.connection  # noqa: B018 (opens it)

    def thread_finished(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def close(self) -> None:
        self.thread_finished()

    # Amounts: Decimal in numeric columns, or integer cents on SQLite

    def to_db(self, amount: Decimal) -> Any:
        if not self.sqlite:
            return amount
        cents = amount * 100
        if cents != cents.to_integral_value():
            raise ValueError(f"{amount} has more than 2 decimal places")
        return int(cents)

    def from_db(self, value: Any) -> Decimal:
        return Decimal(value) / 100 if self.sqlite else Decimal(value)

    # Transactions

    def _execute(self, cursor: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        if self._tally is not None:
            self._tally.total += 1
        return cursor.execute(sql.replace("%s", self.mark), params)

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        conn = self.connection
        cursor = conn.cursor()
        if self.sqlite:
            self._execute(cursor, "BEGIN IMMEDIATE")
        elif self._tally is not None:
            self._tally.total += 1  # psycopg sends BEGIN before the first statement
        try:
            yield cursor
        except BaseException:
            conn.rollback()
            if self._tally is not None:
                self._tally.total += 1
            raise
        else:
            start = time.perf_counter()
            conn.commit()
            if self._tally is not None:
                self._tally.total += 1
                self._tally.commit_seconds += time.perf_counter() - start

    def _lock(self, cursor: Any, ids: list[int]) -> dict[int, Decimal]:
        ids = sorted(set(ids))
        if self.sqlite:  # BEGIN IMMEDIATE already holds the database's write lock
            marks = ", ".join("?" * len(ids))
            sql = f"SELECT id, balance FROM floor_wallet WHERE id IN ({marks})"
            self._execute(cursor, sql, ids)
        else:
            sql = "SELECT id, balance FROM floor_wallet WHERE id = ANY(%s) ORDER BY id FOR UPDATE"
            self._execute(cursor, sql, [ids])
        return {pk: self.from_db(balance) for pk, balance in cursor.fetchall()}

    def _post(self, cursor: Any, wallet: int, balance_after: Decimal) -> None:
        self._execute(
            cursor,
            "UPDATE floor_wallet SET balance = %s WHERE id = %s",
            [self.to_db(balance_after), wallet],
        )

    def _insert(self, cursor: Any, wallet: int, amount: Decimal, balance_after: Decimal) -> None:
        self._execute(
            cursor,
            "INSERT INTO floor_tx (wallet_id, amount, balance_after) VALUES (%s, %s, %s)",
            [wallet, self.to_db(amount), self.to_db(balance_after)],
        )

    # Setting up

    def open_wallets(self, tag: str, count: int, balance: Decimal) -> list[int]:
        ids = []
        with self._transaction() as cursor:
            for _ in range(count):
                self._execute(cursor, "INSERT INTO floor_wallet (balance) VALUES (0) RETURNING id")
                ids.append(cursor.fetchone()[0])
        if balance:
            for wallet in ids:
                self.deposit(wallet, balance)
        return ids

    def reload(self, wallet: int) -> int:
        return wallet

    def open_product(self, tag: str, price: Decimal, *, own_wallet: bool) -> Product:
        if not own_wallet:  # nobody receives the price: the buyer is charged
            return Product(item=tag, price=price, receiver=None)
        (merchant,) = self.open_wallets(f"{tag}-merchant", 1, Decimal(0))
        return Product(item=tag, price=price, receiver=merchant)

    # The operations measured

    def deposit(self, wallet: int, amount: Decimal) -> None:
        with self._transaction() as cursor:
            after = self._lock(cursor, [wallet])[wallet] + amount
            self._post(cursor, wallet, after)
            self._insert(cursor, wallet, amount, after)

    def transfer(self, source: int, destination: int, amount: Decimal) -> None:
        with self._transaction() as cursor:
            balances = self._lock(cursor, [source, destination])
            if balances[source] < amount:
                raise FloorInsufficientFunds(f"wallet {source} has {balances[source]}")
            source_after = balances[source] - amount
            destination_after = balances[destination] + amount
            self._post(cursor, source, source_after)
            self._post(cursor, destination, destination_after)
            self._insert(cursor, source, -amount, source_after)
            self._insert(cursor, destination, amount, destination_after)

    def pay(self, buyer: int, product: Product) -> None:
        if product.receiver is not None:
            self.transfer(buyer, product.receiver, product.price)
            return
        with self._transaction() as cursor:
            balance = self._lock(cursor, [buyer])[buyer]
            if balance < product.price:
                raise FloorInsufficientFunds(f"wallet {buyer} has {balance}")
            self._post(cursor, buyer, balance - product.price)
            self._insert(cursor, buyer, -product.price, balance - product.price)

    def last_transactions(self, wallet: int, count: int) -> list[Any]:
        cursor = self.connection.cursor()
        self._execute(
            cursor,
            "SELECT id, amount, balance_after, created_at FROM floor_tx WHERE wallet_id = %s "
            "ORDER BY created_at DESC, id DESC LIMIT %s",
            [wallet, count],
        )
        rows = cursor.fetchall()
        self._end_read()
        return rows

    def balance(self, wallet: int) -> Decimal:
        cursor = self.connection.cursor()
        self._execute(cursor, "SELECT balance FROM floor_wallet WHERE id = %s", [wallet])
        value = self.from_db(cursor.fetchone()[0])
        self._end_read()
        return value

    def _end_read(self) -> None:
        if not self.sqlite:  # psycopg opened a transaction for the read
            self.connection.commit()

    def bulk_deposit(self, items: list[tuple[int, Decimal]]) -> None:
        with self._transaction() as cursor:
            balances = self._lock(cursor, [wallet for wallet, _ in items])
            rows = []
            for wallet, amount in items:
                balances[wallet] += amount
                rows.append((wallet, amount, balances[wallet]))
            self._bulk_write(cursor, rows, balances)

    def bulk_transfer(self, items: list[tuple[int, int, Decimal]]) -> None:
        with self._transaction() as cursor:
            balances = self._lock(cursor, [w for s, d, _ in items for w in (s, d)])
            rows = []
            for source, destination, amount in items:
                if balances[source] < amount:
                    raise FloorInsufficientFunds(f"wallet {source} has {balances[source]}")
                balances[source] -= amount
                balances[destination] += amount
                rows.append((source, -amount, balances[source]))
                rows.append((destination, amount, balances[destination]))
            self._bulk_write(cursor, rows, balances)

    def _bulk_write(
        self, cursor: Any, rows: list[tuple[int, Decimal, Decimal]], balances: dict[int, Decimal]
    ) -> None:
        """All ledger rows in one batched INSERT, all balances in one UPDATE."""
        if self._tally is not None:
            self._tally.total += 2
        cursor.executemany(
            "INSERT INTO floor_tx (wallet_id, amount, balance_after) VALUES (%s, %s, %s)".replace(
                "%s", self.mark
            ),
            [(w, self.to_db(a), self.to_db(b)) for w, a, b in rows],
        )
        cases = " ".join(f"WHEN {int(pk)} THEN {self.mark}" for pk in balances)
        marks = ", ".join(str(int(pk)) for pk in balances)
        cursor.execute(
            f"UPDATE floor_wallet SET balance = CASE id {cases} END WHERE id IN ({marks})",
            [self.to_db(b) for b in balances.values()],
        )

    # History of a wallet, written directly (for the ledger-sum comparison)

    def fill_history(self, rows: int) -> int:
        """A wallet with ``rows`` deposits of 1.25 and its matching balance."""
        (wallet,) = self.open_wallets("history", 1, Decimal(0))
        total = Decimal("1.25") * rows
        with self._transaction() as cursor:
            if self.sqlite:
                sql = (
                    "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq "
                    "WHERE i < ?) INSERT INTO floor_tx (wallet_id, amount, balance_after) "
                    "SELECT ?, 125, 125 * i FROM seq"
                )
                self._execute(cursor, sql, [rows, wallet])
            else:
                sql = (
                    "INSERT INTO floor_tx (wallet_id, amount, balance_after) "
                    "SELECT %s, 1.25, 1.25 * i FROM generate_series(1, %s) AS i"
                )
                self._execute(cursor, sql, [wallet, rows])
            self._execute(
                cursor,
                "UPDATE floor_wallet SET balance = %s WHERE id = %s",
                [self.to_db(total), wallet],
            )
        self.refresh_statistics()
        return wallet

    def refresh_statistics(self) -> None:
        conn = self.connection
        conn.execute("ANALYZE")
        if not self.sqlite:
            conn.commit()

    def sum_amounts(self, wallet: int) -> Decimal:
        cursor = self.connection.cursor()
        self._execute(cursor, "SELECT SUM(amount) FROM floor_tx WHERE wallet_id = %s", [wallet])
        value = self.from_db(cursor.fetchone()[0])
        self._end_read()
        return value

    # Checking

    def balances(self, wallets: list[int]) -> list[Decimal]:
        return [self.balance(wallet) for wallet in wallets]

    def ledger_mismatches(self) -> list[str]:
        cursor = self.connection.cursor()
        cursor.execute(
            "SELECT w.id, w.balance, COALESCE(SUM(t.amount), 0) FROM floor_wallet w "
            "LEFT JOIN floor_tx t ON t.wallet_id = w.id GROUP BY w.id, w.balance "
            "HAVING w.balance <> COALESCE(SUM(t.amount), 0) ORDER BY w.id"
        )
        rows = cursor.fetchall()
        self._end_read()
        return [
            f"floor wallet {pk}: balance {self.from_db(b)}, transactions say {self.from_db(s)}"
            for pk, b, s in rows
        ]

    @contextmanager
    def counting(self) -> Iterator[Tally]:
        self._tally = Tally()
        try:
            yield self._tally
        finally:
            self._tally = None

    def activity_conninfo(self) -> str | None:
        return None if self.sqlite else self.target
