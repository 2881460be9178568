"""Writes that PostgreSQL takes as one statement: a round trip saved on every operation.

- A transfer's two legs, both balances and the transfer row (:func:`write_transfer`),
  or a purchase's leg, the buyer's balance and the purchase row (:func:`write_linked`).
- A deposit's or withdrawal's conditional balance UPDATE and its ledger row
  (:func:`apply_and_post`).

Each write is a data-modifying ``WITH`` clause of the one statement; PostgreSQL
runs each exactly once, and later clauses read earlier ones' ``RETURNING``.
Elsewhere (SQLite, where a round trip costs nothing) the writes run in turn.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from django.db import connections, router

from wallets.amounts import exact
from wallets.ledger import (
    balances_update,
    conditional_update,
    entry,
    explain_refusal,
    wallet_from_row,
    write_balances,
)
from wallets.locking import locking_by_update
from wallets.prepared import statement_cursor
from wallets.row_values import row_reader
from wallets.rows import insert_rows, relate
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()


def write_transfer(withdraw: Any, deposit: Any, transfer: Any, wallets: list[Wallet]) -> None:
    """Insert the two new legs and the new transfer joining them, and write the
    locked ``wallets``' balances back; every row gets its id."""
    write_linked([withdraw, deposit], wallets, transfer, withdraw=withdraw, deposit=deposit)


def write_linked(legs: list[Any], wallets: list[Wallet], row: Any, **links: Any) -> None:
    """Insert new ledger ``legs``, write the locked ``wallets``' balances back,
    and insert the new ``row`` whose foreign keys ``links`` (field name: leg)
    point at the legs: a transfer, a purchase. Every row gets its id."""
    using = router.db_for_write(type(row))
    connection = connections[using]
    if connection.vendor != "postgresql":
        insert_rows(legs)
        write_balances(*wallets)
        for name, leg in links.items():
            setattr(row, name, leg)
        insert_rows([row])
        return
    quote = connection.ops.quote_name
    legs_pk = quote(Transaction._meta.pk.column)
    uuid_column = quote(Transaction._meta.get_field("uuid").column)
    leg_fields = insert_fields(Transaction)
    read_leg = row_reader(leg_fields, connection)
    one_leg = "(" + ", ".join(["%s"] * len(leg_fields)) + ")"
    params: list[Any] = [value for leg in legs for value in read_leg(leg)]

    balances_sql, balances_params = balances_update(*wallets)
    params += balances_params

    leg_id = new_leg_id(connection)
    row_fields = insert_fields(type(row))
    placeholders = []
    for field, value in zip(row_fields, row_reader(row_fields, connection)(row), strict=True):
        linked = links.get(field.name)
        placeholders.append(leg_id if linked is not None else "%s")
        params.append(linked.uuid if linked is not None else value)
    params += [leg.uuid for leg in legs]

    row_pk = quote(row._meta.pk.column)
    with statement_cursor(connection) as cursor:
        cursor.execute(
            f"WITH legs AS (INSERT INTO {Transaction._meta.db_table} "
            f"({', '.join(quote(f.column) for f in leg_fields)}) "
            f"VALUES {', '.join([one_leg] * len(legs))} RETURNING {legs_pk}, {uuid_column}), "
            f"balances AS ({balances_sql}), "
            f"linked AS (INSERT INTO {row._meta.db_table} "
            f"({', '.join(quote(f.column) for f in row_fields)}) "
            f"VALUES ({', '.join(placeholders)}) RETURNING {row_pk}) "
            f"SELECT {', '.join([leg_id] * len(legs))}, (SELECT {row_pk} FROM linked)",
            params,
        )
        *leg_ids, row.pk = cursor.fetchone()
    for leg, leg_pk in zip(legs, leg_ids, strict=True):
        leg.pk = leg_pk
    for name, leg in links.items():
        setattr(row, name, leg)
    for written in (*legs, row):
        written._state.adding, written._state.db = False, using


def typed_selection(
    row: Any,
    computed: dict[str, tuple[str, list[Any]]],
    params: list[Any],
    connection: Any,
) -> str:
    """The SELECT list that inserts the new ``row`` (its :func:`insert_fields`):
    for the fields ``computed`` names, an SQL expression and its parameters; for the others,
    a typed parameter (a bare one in a SELECT list would be read as text), or
    a typed NULL. The parameters are added to ``params`` in order.

    NULLs are written into the text: with fewer parameters, a transfer's
    statement stays under the size psycopg keeps parsed between calls. The
    text is worked out once per shape (which columns are computed, which
    NULL): only the parameters are read off each row."""
    fields = insert_fields(type(row))
    values = row_reader(fields, connection)(row)
    empty = []
    for field, value in zip(fields, values, strict=True):
        if field.name in computed:
            params.extend(computed[field.name][1])
        elif value is None:
            empty.append(field.name)
        else:
            params.append(value)
    shape = (
        type(row),
        connection.alias,
        tuple(computed),
        tuple(sql for sql, _ in computed.values()),
        tuple(empty),
    )
    text = _selections.get(shape)
    if text is None:
        text = _selections[shape] = ", ".join(
            computed[field.name][0]
            if field.name in computed
            else f"NULL::{field.db_type(connection)}"
            if field.name in empty
            else f"%s::{field.db_type(connection)}"
            for field in fields
        )
    return text


# SELECT lists by shape: a handful per model (a row's optional columns are
# either empty or not).
_selections: dict[tuple, str] = {}


@exact
def apply_and_post(
    wallet: Wallet,
    signed: Decimal,
    *,
    confirmed: bool,
    check_funds: bool,
    meta: dict,
    linked: tuple[Any, str] | None = None,
) -> tuple[Wallet, Any]:
    """PostgreSQL only: the conditional UPDATE of ``ledger.conditional_update``
    and the INSERT of the transaction it applies, in one statement. The row is
    inserted only if the UPDATE passed its checks; otherwise nothing is written
    and the refusal is explained. Returns the locked wallet as it now is and
    the new transaction.

    ``linked``: a new row (a purchase) and the name of its foreign key to the
    transaction, inserted by the same statement; it gets its id."""
    using = router.db_for_write(Transaction)
    connection = connections[using]
    update_sql, params = conditional_update(
        wallet, signed, confirmed=confirmed, check_funds=check_funds
    )
    tx = entry(wallet, signed, confirmed=confirmed, meta=meta, applied=True)
    # From the updated row: whose it is, and (confirmed) the balance it leaves.
    from_update = {"wallet": ("w.id", [])}
    if confirmed:
        from_update["balance_after"] = ("w.balance", [])
    selected = typed_selection(tx, from_update, params, connection)
    linked_shape = None
    if linked is not None:
        row, link = linked
        pk = connection.ops.quote_name(Transaction._meta.pk.column)
        row_selected = typed_selection(row, {link: (f"t.{pk}", [])}, params, connection)
        linked_shape = (type(row), row_selected)
    shape = (using, update_sql, selected, linked_shape)
    sql = _statements.get(shape)
    if sql is None:
        sql = _statements[shape] = _apply_and_post_sql(connection, *shape[1:])
    with locking_by_update(wallet.pk), statement_cursor(connection) as cursor:
        cursor.execute(sql, params)
        row_values = cursor.fetchone()
    if row_values is None:
        explain_refusal([(wallet, signed)], check_funds=check_funds)
    *wallet_values, tx.pk = row_values if linked is None else row_values[:-1]
    locked = wallet_from_row(wallet_values, connection)
    relate(tx, "wallet", locked)
    if confirmed:
        tx.balance_after = locked.balance
    tx._state.adding, tx._state.db = False, using
    if linked is not None:
        row.pk = row_values[-1]
        setattr(row, link, tx)
        row._state.adding, row._state.db = False, using
    return locked, tx


# apply_and_post's statements by shape: the few a site's operations take.
_statements: dict[tuple, str] = {}


def new_leg_id(connection: Any) -> str:
    """A new leg's id, found by its uuid (the parameter) among the rows a
    statement's ``legs`` clause inserted."""
    quote = connection.ops.quote_name
    pk, uuid = quote(Transaction._meta.pk.column), quote(Transaction._meta.get_field("uuid").column)
    return f"(SELECT {pk} FROM legs WHERE {uuid} = %s)"


@functools.cache
def insert_fields(model: type) -> tuple:
    """The fields a new row of ``model`` is inserted with: all but its id."""
    return tuple(f for f in model._meta.concrete_fields if not f.primary_key)


def _apply_and_post_sql(
    connection: Any, update_sql: str, selected: str, linked: tuple[type, str] | None
) -> str:
    quote = connection.ops.quote_name
    fields = insert_fields(Transaction)
    wallet_columns = ", ".join(f"w.{quote(f.column)}" for f in Wallet._meta.concrete_fields)
    pk = quote(Transaction._meta.pk.column)
    sql = (
        f"WITH w AS ({update_sql}), "
        f"t AS (INSERT INTO {Transaction._meta.db_table} "
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"SELECT {selected} FROM w RETURNING {pk})"
    )
    if linked is None:
        return sql + f" SELECT {wallet_columns}, t.{pk} FROM w, t"
    model, row_selected = linked
    row_pk = quote(model._meta.pk.column)
    return sql + (
        f", linked AS (INSERT INTO {model._meta.db_table} "
        f"({', '.join(quote(f.column) for f in insert_fields(model))}) "
        f"SELECT {row_selected} FROM t RETURNING {row_pk}) "
        f"SELECT {wallet_columns}, t.{pk}, linked.{row_pk} FROM w, t, linked"
    )
