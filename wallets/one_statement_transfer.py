"""A transfer as one PostgreSQL statement: lock both wallets, check them, move the money.

For a transfer that nothing in Python has to judge under the locks (no fee,
no ``pre_withdraw``/``pre_deposit`` receivers, no risk rule for the source),
the whole operation is one statement:

1. ``locked``: both wallet rows, ``FOR UPDATE`` in primary-key order (the
   engine's lock order), as they are once the locks are held;
2. ``ok``: one row if both are active, the source's available funds (credit
   limit included) cover the amount and both balances stay in range;
3. ``moved``: both balances changed, only if ``ok`` has its row;
4. ``legs`` and ``linked``: the two ledger rows, with the balances ``moved``
   left, and the transfer row joining them.

A refused transfer writes nothing and is explained afterwards, by the same
checks the locking path makes. One statement is atomic by itself, so the
operation needs no transaction of its own (``Operation.one_statement``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import connections, router
from django.utils import timezone

from wallets.amounts import exact
from wallets.fields import LIMIT
from wallets.ledger import (
    entry,
    explain_refusal,
    transfer_row,
    wallet_from_row,
)
from wallets.locking import locking_by_update
from wallets.one_statement import insert_fields, new_leg_id, typed_selection
from wallets.prepared import statement_cursor
from wallets.rows import relate
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()


@exact
def transfer_in_one_statement(
    source: Wallet, destination: Wallet, amount: Decimal, *, kind: str, meta: dict
) -> tuple[Transfer, Wallet, Wallet]:
    """Move ``amount`` between two unlocked wallets of one unit in one statement.

    Returns the transfer and both wallets as the statement left them."""
    using = router.db_for_write(Transfer)
    connection = connections[using]
    withdraw = entry(source, -amount, meta=meta, applied=True)
    deposit = entry(destination, amount, meta=meta, applied=True)
    transfer = transfer_row(withdraw, deposit, kind=kind, meta=meta)
    params: list[Any] = [
        *sorted([source.pk, destination.pk]),
        source.pk,
        destination.pk,
        amount,
        amount,
        LIMIT,
        amount,
        LIMIT,
        timezone.now(),
        source.pk,
        -amount,
        destination.pk,
        amount,
    ]
    leg_selections = []
    for leg, wallet in ((withdraw, source), (deposit, destination)):
        # Whose it is and the balance it leaves, from the row ``moved`` wrote.
        computed = {"wallet": ("m.id", []), "balance_after": ("m.balance", [])}
        leg_selections.append(typed_selection(leg, computed, params, connection))
        params.append(wallet.pk)
    leg_id = new_leg_id(connection)
    computed = {"withdraw": (leg_id, [withdraw.uuid]), "deposit": (leg_id, [deposit.uuid])}
    selection = typed_selection(transfer, computed, params, connection)
    params += [withdraw.uuid, deposit.uuid]
    shape = (using, *leg_selections, selection)
    sql = _statements.get(shape)
    if sql is None:
        sql = _statements[shape] = _transfer_sql(connection, leg_selections, selection)
    with locking_by_update(source.pk, destination.pk), statement_cursor(connection) as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if len(rows) != 2:
        explain_refusal([(source, -amount), (destination, amount)], check_funds=True)
    fresh = {row[0]: row for row in rows}
    columns = len(Wallet._meta.concrete_fields)
    locked_source = wallet_from_row(fresh[source.pk][:columns], connection)
    locked_destination = wallet_from_row(fresh[destination.pk][:columns], connection)
    withdraw.pk, deposit.pk, transfer.pk = rows[0][columns:]
    for leg, locked in ((withdraw, locked_source), (deposit, locked_destination)):
        relate(leg, "wallet", locked)
        leg.balance_after = locked.balance
    relate(transfer, "from_wallet", locked_source)
    relate(transfer, "to_wallet", locked_destination)
    transfer.withdraw, transfer.deposit = withdraw, deposit
    for written in (withdraw, deposit, transfer):
        written._state.adding, written._state.db = False, using
    return transfer, locked_source, locked_destination


# The statement's text by shape (which optional columns are empty): a few per site.
_statements: dict[tuple, str] = {}


def _transfer_sql(connection: Any, leg_selections: list[str], selection: str) -> str:
    quote = connection.ops.quote_name
    wallets, ledger, transfers = (
        Wallet._meta.db_table,
        Transaction._meta.db_table,
        Transfer._meta.db_table,
    )
    pk, uuid = quote(Transaction._meta.pk.column), quote(Transaction._meta.get_field("uuid").column)
    leg_id = new_leg_id(connection)
    legs = [f"SELECT {selected} FROM moved m WHERE m.id = %s" for selected in leg_selections]
    leg_columns = ", ".join(quote(f.column) for f in insert_fields(Transaction))
    transfer_columns = ", ".join(quote(f.column) for f in insert_fields(Transfer))
    wallet_columns = [quote(f.column) for f in Wallet._meta.concrete_fields]
    transfer_pk = quote(Transfer._meta.pk.column)
    return (
        f"WITH locked AS (SELECT id, balance, held, credit_limit, is_frozen FROM {wallets} "
        f"WHERE id IN (%s, %s) ORDER BY id FOR UPDATE), "
        f"ok AS (SELECT 1 FROM locked s, locked d WHERE s.id = %s AND d.id = %s "
        f"AND NOT s.is_frozen AND NOT d.is_frozen AND s.balance - s.held + s.credit_limit >= %s "
        f"AND abs(s.balance - %s) < %s AND abs(d.balance + %s) < %s), "
        f"moved AS (UPDATE {wallets} AS w SET balance = w.balance + v.delta, updated_at = %s "
        f"FROM (VALUES (%s, %s::numeric), (%s, %s::numeric)) AS v (id, delta), ok "
        f"WHERE w.id = v.id RETURNING {', '.join(f'w.{c}' for c in wallet_columns)}), "
        f"legs AS (INSERT INTO {ledger} ({leg_columns}) "
        f"{' UNION ALL '.join(legs)} RETURNING {pk}, {uuid}), "
        f"linked AS (INSERT INTO {transfers} ({transfer_columns}) "
        f"SELECT {selection} FROM ok RETURNING {transfer_pk}) "
        f"SELECT {', '.join(f'moved.{c}' for c in wallet_columns)}, {leg_id}, {leg_id}, "
        f"(SELECT {transfer_pk} FROM linked) FROM moved"
    )
