"""Posting transactions on locked wallets and writing their balances back."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, TypeVar

from django.db import connections, models, router
from django.db import transaction as db_transaction
from django.utils import timezone

from wallets import conf, signals
from wallets.amounts import check_in_range, exact
from wallets.exceptions import (
    InsufficientFunds,
    TextInvalid,
    TransactionExpired,
    TransactionNotPending,
    WalletError,
    WalletFrozen,
    WalletNotFound,
)
from wallets.fields import LIMIT, AmountField
from wallets.locking import locking_by_update
from wallets.swappable import get_transaction_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=models.Model)
State = Transaction.State
_AMOUNT = AmountField()
Type = Transaction.Type


def ensure_active(*wallets: Wallet) -> None:
    """Refuse frozen wallets, with the message the holder may read (never staff's note)."""
    for wallet in wallets:
        if wallet.is_frozen:
            raise WalletFrozen(
                f"The wallet '{wallet.name}' is frozen. {wallet.frozen_message_for_holder}",
                wallet=wallet,
            )


def clean_note(text: str, label: str = "note") -> str:
    """A reason or note as stored: PostgreSQL text cannot hold NUL characters."""
    text = str(text or "")
    if "\x00" in text:
        raise TextInvalid(f"The {label} contains a NUL character.")
    return text


def ensure_available(wallet: Wallet, amount: Decimal) -> None:
    """Refuse what the available funds (credit limit included) do not cover."""
    if wallet.available < amount:
        credit = f" (credit limit {wallet.credit_limit} included)" if wallet.credit_limit else ""
        raise InsufficientFunds(
            f"Insufficient funds in '{wallet.name}': {wallet.available} {wallet.unit} "
            f"available{credit}, {amount} {wallet.unit} needed."
        )


@exact
def entry(
    wallet: Wallet,
    amount: Decimal,
    *,
    confirmed: bool = True,
    meta: dict | None = None,
    reversal_of: Transaction | None = None,
    applied: bool = False,
) -> Transaction:
    """The unsaved transaction for a signed amount on a locked wallet, applied to
    the in-memory copy (unless ``applied``: the database already did it).

    A confirmed amount changes the balance; a pending withdrawal holds its
    amount; a pending deposit changes nothing until it is confirmed.
    """
    balance_after = None
    expires_at = None
    if confirmed:
        if not applied:
            wallet.balance += amount
            check_in_range(wallet.balance)
        balance_after = wallet.balance
    else:
        if amount < 0 and not applied:
            wallet.held -= amount
        expiry = conf.pending_expiry()
        expires_at = timezone.now() + expiry if expiry else None
    return build(
        Transaction,
        wallet=wallet,
        type=Type.DEPOSIT if amount > 0 else Type.WITHDRAW,
        amount=amount,
        state=State.CONFIRMED if confirmed else State.PENDING,
        balance_after=balance_after,
        meta=meta or {},
        reversal_of=reversal_of,
        expires_at=expires_at,
    )


def build(model: type[M], **values: Any) -> M:
    """A new, unsaved row of ``model``, built positionally.

    The ledger builds thousands of rows in a bulk operation, and Django's
    keyword construction costs twice as much. ``values`` are by field name;
    fields left out get their defaults, and related objects are cached on
    the row as ``Model(wallet=...)`` would."""
    args = []
    related = []
    for field in model._meta.concrete_fields:
        if field.name in values:
            value = values[field.name]
            if field.is_relation and value is not None:
                related.append((field, value))
                value = value.pk
            args.append(value)
        else:
            args.append(field.get_default())
    row = model(*args)
    for field, value in related:
        field.set_cached_value(row, value)
    return row


def post(wallet: Wallet, amount: Decimal, **options: Any) -> Transaction:
    """Record a signed amount on a locked wallet (see :func:`entry`)."""
    (tx,) = insert_rows([entry(wallet, amount, **options)])
    return tx


def post_all(entries: list[M]) -> list[M]:
    """Insert several transactions in one statement (their ids come back)."""
    return insert_rows(entries)


INSERT_CHUNK = 1000
# From this many rows on, PostgreSQL gets the rows by COPY, with ids drawn from
# the table's sequence first: no statement text grows with the batch.
COPY_FROM = 20


def insert_rows(rows: list[M]) -> list[M]:
    """Insert new rows of one model and set their ids.

    What ``bulk_create`` does, without rebuilding the ORM's statement each time:
    every money path inserts its ledger rows here. ``INSERT … RETURNING id``,
    1,000 rows a statement; on PostgreSQL a large batch is one COPY. No
    ``save()`` signals, as with ``bulk_create``; ledger rows have none."""
    if not rows:
        return rows
    meta = rows[0]._meta
    using = router.db_for_write(type(rows[0]))
    connection = connections[using]
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(rows) >= COPY_FROM:
            _copy_rows(cursor, connection, meta, fields, rows)
        else:
            _insert_rows(cursor, connection, meta, fields, rows)
    for row in rows:
        row._state.adding, row._state.db = False, using
    return rows


def _insert_rows(cursor: Any, connection: Any, meta: Any, fields: list, rows: list) -> None:
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    readers = [_column_reader(f, connection) for f in fields]
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        params = [read(row) for row in chunk for read in readers]
        cursor.execute(
            f"INSERT INTO {meta.db_table} ({columns}) VALUES "
            f"{', '.join([one_row] * len(chunk))} RETURNING {meta.pk.column}",
            params,
        )
        for row, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
            row.pk = pk


def _copy_rows(cursor: Any, connection: Any, meta: Any, fields: list, rows: list) -> None:
    pk = meta.pk.column
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [meta.db_table, pk, len(rows)],
    )
    for row, (new_id,) in zip(rows, cursor.fetchall(), strict=True):
        row.pk = new_id
    columns = ", ".join(connection.ops.quote_name(c) for c in [pk, *(f.column for f in fields)])
    readers = [_column_reader(f, connection) for f in fields]
    with cursor.copy(f"COPY {meta.db_table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row.pk, *(read(row) for read in readers)])


# Columns whose Python values psycopg sends as they are: the ORM's conversion
# would hand them back unchanged, one call per cell.
PLAIN_ON_POSTGRES = frozenset(
    {
        "AmountField",
        "BigAutoField",
        "CharField",
        "DateTimeField",
        "DecimalField",
        "ForeignKey",
        "OneToOneField",
        "PositiveIntegerField",
        "TextField",
        "UUIDField",
    }
)


def _column_reader(field: models.Field, connection: Any) -> Callable[[models.Model], Any]:
    """How one column's value is read off a new row, as a query parameter."""
    attname = field.attname
    automatic = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    plain = connection.vendor == "postgresql" and field.get_internal_type() in PLAIN_ON_POSTGRES

    def read(row: models.Model) -> Any:
        value = field.pre_save(row, True) if automatic else getattr(row, attname)
        # Most optional columns of a new ledger row are empty: nothing to convert.
        if value is None or plain:
            return value
        return field.get_db_prep_save(value, connection)

    return read


@exact
def apply_in_one_update(
    wallet: Wallet, signed: Decimal, *, confirmed: bool, check_funds: bool
) -> Wallet:
    """PostgreSQL's fast path for one wallet: a single conditional UPDATE locks
    the row, checks it (not frozen, funds, range) and applies the amount, and
    returns the row as it now is. Nothing else locks it first."""
    balance_delta = signed if confirmed else Decimal(0)
    held_delta = -signed if not confirmed and signed < 0 else Decimal(0)
    fields = Wallet._meta.concrete_fields
    using = router.db_for_write(Wallet)
    connection = connections[using]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    conditions = "id = %s AND NOT is_frozen AND abs(balance + %s) < %s"
    params: list[Any] = [balance_delta, held_delta, timezone.now(), wallet.pk, balance_delta, LIMIT]
    if check_funds:
        conditions += " AND balance - held + credit_limit >= %s"
        params.append(-signed)
    with locking_by_update(wallet.pk), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Wallet._meta.db_table} SET balance = balance + %s, held = held + %s, "
            f"updated_at = %s WHERE {conditions} RETURNING {columns}",
            params,
        )
        row = cursor.fetchone()
    if row is None:
        _explain_refusal(wallet, signed, check_funds)
    values = [
        f.from_db_value(v, None, connection) if hasattr(f, "from_db_value") else v
        for f, v in zip(fields, row, strict=True)
    ]
    return Wallet.from_db(using, [f.attname for f in fields], values)


def _explain_refusal(wallet: Wallet, signed: Decimal, check_funds: bool) -> None:
    """Why the conditional UPDATE changed nothing, as the engine's error."""
    current = Wallet.objects.filter(pk=wallet.pk).first()
    if current is None:
        raise WalletNotFound(f"Wallet {wallet.pk} does not exist.")
    ensure_active(current)
    if check_funds:
        ensure_available(current, -signed)
    check_in_range(current.balance + signed)
    raise WalletError("The wallet changed while the operation ran; try again.")


@exact
def settle_pending(wallet: Wallet, tx: Transaction, note: str = "") -> Transaction:
    """Apply a pending transaction to its locked wallet: deposits credit,
    withdrawals take the amount they held."""
    if tx.expires_at is not None and tx.expires_at <= timezone.now():
        raise TransactionExpired(
            f"The pending {tx.get_type_display().lower()} expired at {tx.expires_at:%c}."
        )
    if tx.amount < 0:
        wallet.held += tx.amount
    wallet.balance += tx.amount
    check_in_range(wallet.balance)
    tx.state = State.CONFIRMED
    tx.balance_after = wallet.balance
    tx.resolved_at = timezone.now()
    tx.resolution_note = note
    tx.save(update_fields=["state", "balance_after", "resolved_at", "resolution_note"])
    tx.wallet = wallet
    after_commit(signals.transaction_confirmed, Transaction, transaction=tx)
    after_commit(signals.balance_changed, Wallet, wallet=wallet, transaction=tx)
    return tx


@exact
def release_pending(wallet: Wallet, tx: Transaction, state: str, note: str) -> Transaction:
    """Resolve a pending transaction without posting it; a withdrawal frees its hold."""
    if tx.amount < 0:
        wallet.held += tx.amount
    tx.state = state
    tx.resolved_at = timezone.now()
    tx.resolution_note = note
    tx.save(update_fields=["state", "resolved_at", "resolution_note"])
    tx.wallet = wallet
    return tx


def ensure_pending(tx: Transaction) -> None:
    if tx.state != State.PENDING:
        raise TransactionNotPending(
            f"The {tx.get_type_display().lower()} is {tx.get_state_display().lower()}, not pending."
        )


def write_balances(*wallets: Wallet) -> None:
    """Write the locked wallets' balances and holds back, in one UPDATE.

    Plain SQL (``UPDATE … FROM (VALUES …)``): it runs on every money path, and
    building the same statement with ORM expressions costs more than running it."""
    now = timezone.now()
    unique = {w.pk: w for w in wallets}
    connection = connections[router.db_for_write(Wallet)]
    rows: list[Any] = []
    for pk, wallet in unique.items():
        rows += [
            pk,
            _AMOUNT.get_db_prep_value(wallet.balance, connection),
            _AMOUNT.get_db_prep_value(wallet.held, connection),
        ]
    updated_at = Wallet._meta.get_field("updated_at").get_db_prep_value(now, connection)
    values = ", ".join(["(%s, %s, %s)"] * len(unique))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Wallet._meta.db_table} SET balance = v.balance, held = v.held, "
            f"updated_at = %s FROM (SELECT column1 AS id, column2 AS balance, column3 AS held "
            f"FROM (VALUES {values}) AS r) AS v WHERE {Wallet._meta.db_table}.id = v.id",
            [updated_at, *rows],
        )
    for wallet in wallets:
        wallet.updated_at = now


def after_commit(signal, sender: type, **kwargs: Any) -> None:
    db_transaction.on_commit(lambda: signal.send(sender=sender, **kwargs), robust=True)


def announce_transactions(transactions: Iterable[Transaction]) -> None:
    """Queue the after-commit signals for newly written transactions: one
    commit hook for all of them, each signal sent on its own (robustly)."""
    sends: list[tuple[Any, type, dict[str, Any]]] = []
    for tx in transactions:
        sends.append((signals.transaction_created, Transaction, {"transaction": tx}))
        if tx.state == State.CONFIRMED:
            changed = {"wallet": tx.wallet, "transaction": tx}
            sends.append((signals.balance_changed, Wallet, changed))

    def send_all() -> None:
        for signal, sender, kwargs in sends:
            try:
                signal.send(sender=sender, **kwargs)
            except Exception:
                # As on_commit(robust=True) would: one failing receiver must not
                # silence the signals of the other transactions.
                logger.exception("A %s receiver failed", signal)

    if sends:
        db_transaction.on_commit(send_all)
