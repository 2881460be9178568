"""Reconciling the ledger: every stored balance equals the sum of its transactions.

This runs exactly when something may have gone wrong, so it reads stored
values as they are, never through the model's converters: a value that is
not a valid amount (a hand-made ``UPDATE`` on SQLite leaves a number where
the engine writes its text encoding; PostgreSQL's numeric can hold ``NaN``)
is reported for its wallet, and reconciliation goes on with the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from django.db import connections, router

from wallets.fields import decode_sortable, tidy
from wallets.selectors import ledger_totals
from wallets.swappable import get_transaction_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()

# The engine's text encoding of an amount on SQLite (see wallets.fields).
SQLITE_AMOUNT = re.compile(r"[PN][0-9]{38}")
SQLITE_VALID_SQL = (
    "typeof({col}) = 'text' AND length({col}) = 39 AND substr({col}, 1, 1) IN ('P', 'N') "
    "AND substr({col}, 2) NOT GLOB '*[^0-9]*'"
)


@dataclass(frozen=True)
class Discrepancy:
    """One thing about one wallet that does not add up."""

    wallet_uuid: str
    holder: str
    slug: str
    field: str
    stored: Any
    expected: Any

    def __str__(self) -> str:
        where = f"wallet {self.wallet_uuid} ({self.holder}, '{self.slug}')"
        if self.field == "transactions":
            return f"{where}: {self.stored} transaction amount(s) cannot be read"
        return f"{where}: {self.field} is {self.stored}, transactions say {self.expected}"


def read_amount(raw: Any, vendor: str) -> Decimal:
    """A stored amount as it is, or ValueError when it is not a valid amount."""
    if vendor == "sqlite":
        if not isinstance(raw, str) or not SQLITE_AMOUNT.fullmatch(raw):
            raise ValueError(raw)
        return decode_sortable(raw)
    try:
        value = Decimal(raw)
    except (InvalidOperation, TypeError):
        raise ValueError(raw) from None
    if not value.is_finite():
        raise ValueError(raw)
    return tidy(value)


def _stored_wallets(connection: Any) -> list[tuple]:
    wallet_table = Wallet._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT w.id, w.uuid, w.slug, w.holder_id, ct.app_label, ct.model, w.balance, w.held "
            f"FROM {wallet_table} w JOIN django_content_type ct ON ct.id = w.holder_type_id "
            "ORDER BY w.id"
        )
        return cursor.fetchall()


def _unreadable_transactions(connection: Any) -> dict[int, int]:
    """Per wallet, how many transaction amounts are not valid amounts."""
    table = Transaction._meta.db_table
    if connection.vendor == "sqlite":
        invalid = f"NOT ({SQLITE_VALID_SQL.format(col='amount')})"
    else:
        invalid = "amount = 'NaN'"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT wallet_id, COUNT(*) FROM {table} WHERE {invalid} GROUP BY wallet_id"
        )
        return dict(cursor.fetchall())


def reconcile_wallets() -> list[Discrepancy]:
    connection = connections[router.db_for_read(Wallet)]
    unreadable = _unreadable_transactions(connection)
    totals = ledger_totals()
    problems: list[Discrepancy] = []
    for row in _stored_wallets(connection):
        problems += _check_wallet(row, unreadable, totals, connection.vendor)
    return problems


def _check_wallet(
    row: tuple, unreadable: dict[int, int], totals: dict, vendor: str
) -> list[Discrepancy]:
    pk, uuid, slug, holder_id, app_label, model, raw_balance, raw_held = row
    where = (str(UUID(str(uuid))), f"{app_label}.{model} {holder_id}", slug)
    if pk in unreadable:
        # Their sum means nothing: say so rather than compare it.
        return [Discrepancy(*where, "transactions", unreadable[pk], "")]
    balance, held = totals.get(pk, (Decimal(0), Decimal(0)))
    problems = []
    for field, raw, expected in (("balance", raw_balance, balance), ("held", raw_held, held)):
        try:
            stored: Any = read_amount(raw, vendor)
        except ValueError:
            stored = f"unreadable ({raw!r})"
        if stored != expected:
            problems.append(Discrepancy(*where, field, stored, expected))
    return problems
