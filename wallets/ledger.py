"""Posting transactions on locked wallets and writing their balances back."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from django.db import connections, models, router
from django.utils import timezone

from wallets import conf, outbox, signals
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
from wallets.rows import build, insert_rows, loaded
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

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


def transfer_row(
    withdraw: Transaction,
    deposit: Transaction,
    *,
    kind: str,
    meta: dict,
    rate: Decimal | None = None,
    refund_of: Any = None,
) -> Any:
    """The unsaved transfer joining two new legs (see :func:`entry`): from the
    withdrawal's wallet to the deposit's, for the amounts the legs carry."""
    return build(
        Transfer,
        kind=kind,
        from_wallet=withdraw.wallet,
        to_wallet=deposit.wallet,
        withdraw=withdraw,
        deposit=deposit,
        amount=-withdraw.amount,
        received=deposit.amount,
        rate=rate,
        refund_of=refund_of,
        meta=meta,
    )


def post(wallet: Wallet, amount: Decimal, **options: Any) -> Transaction:
    """Record a signed amount on a locked wallet (see :func:`entry`)."""
    (tx,) = insert_rows([entry(wallet, amount, **options)])
    return tx


def post_all(entries: list[M]) -> list[M]:
    """Insert several transactions in one statement (their ids come back)."""
    return insert_rows(entries)


def conditional_update(
    wallet: Wallet, signed: Decimal, *, confirmed: bool, check_funds: bool
) -> tuple[str, list[Any]]:
    """PostgreSQL's fast path for one wallet: a single conditional UPDATE locks
    the row, checks it (not frozen, funds, range), applies the amount and
    returns every column of the row as it now is. Nothing else locks it first;
    ``wallets.one_statement.apply_and_post`` runs it."""
    balance_delta = signed if confirmed else Decimal(0)
    held_delta = -signed if not confirmed and signed < 0 else Decimal(0)
    params: list[Any] = [balance_delta, held_delta, timezone.now(), wallet.pk, balance_delta, LIMIT]
    if check_funds:
        params.append(-signed)
    return _conditional_update_sql(router.db_for_write(Wallet), check_funds), params


@functools.cache
def _conditional_update_sql(using: str, check_funds: bool) -> str:
    connection = connections[using]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in Wallet._meta.concrete_fields)
    conditions = "id = %s AND NOT is_frozen AND abs(balance + %s) < %s"
    if check_funds:
        conditions += " AND balance - held + credit_limit >= %s"
    return (
        f"UPDATE {Wallet._meta.db_table} SET balance = balance + %s, held = held + %s, "
        f"updated_at = %s WHERE {conditions} RETURNING {columns}"
    )


def wallet_from_row(row: Sequence[Any], connection: Any = None) -> Wallet:
    """A wallet from every column of its row, in field order, as the ORM reads
    it from ``connection`` (by default, the wallets' database for writes)."""
    if connection is None:
        connection = connections[router.db_for_write(Wallet)]
    using = connection.alias
    values = list(row)
    for index, field in _converted_wallet_columns():
        values[index] = field.from_db_value(values[index], None, connection)
    return loaded(Wallet, using, _wallet_attnames(), values)


@functools.cache
def _converted_wallet_columns() -> tuple[tuple[int, Any], ...]:
    fields = Wallet._meta.concrete_fields
    return tuple((i, f) for i, f in enumerate(fields) if hasattr(f, "from_db_value"))


@functools.cache
def _wallet_attnames() -> tuple[str, ...]:
    return tuple(f.attname for f in Wallet._meta.concrete_fields)


def explain_refusal(changes: list[tuple[Wallet, Decimal]], *, check_funds: bool) -> None:
    """Why a statement that checks and applies signed ``changes`` (wallet,
    amount) under its own locks changed nothing, as the engine's error: the
    checks the locking path makes, on the wallets as they are now."""
    current = Wallet.objects.in_bulk([wallet.pk for wallet, _ in changes])
    for wallet, _ in changes:
        if wallet.pk not in current:
            raise WalletNotFound(f"Wallet {wallet.pk} does not exist.")
    ensure_active(*(current[wallet.pk] for wallet, _ in changes))
    for wallet, signed in changes:
        if check_funds and signed < 0:
            ensure_available(current[wallet.pk], -signed)
    for wallet, signed in changes:
        check_in_range(current[wallet.pk].balance + signed)
    subject = "wallet" if len(changes) == 1 else "wallets"
    raise WalletError(f"The {subject} changed while the operation ran; try again.")


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
    """Write the locked wallets' balances and holds back, in one UPDATE."""
    sql, params = balances_update(*wallets)
    with connections[router.db_for_write(Wallet)].cursor() as cursor:
        cursor.execute(sql, params)


def balances_update(*wallets: Wallet) -> tuple[str, list[Any]]:
    """The UPDATE that writes the wallets' balances and holds back, with its
    parameters; the wallets' ``updated_at`` is set as it will be stored.

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
    for wallet in wallets:
        wallet.updated_at = now
    sql = (
        f"UPDATE {Wallet._meta.db_table} SET balance = v.balance, held = v.held, "
        f"updated_at = %s FROM (SELECT column1 AS id, column2 AS balance, column3 AS held "
        f"FROM (VALUES {values}) AS r) AS v WHERE {Wallet._meta.db_table}.id = v.id"
    )
    return sql, [updated_at, *rows]


def after_commit(signal: Any, sender: type, **kwargs: Any) -> None:
    """Send ``signal`` once the operation's transaction commits (``wallets.outbox``)."""
    outbox.queue(signal, sender, **kwargs)


def announce_transactions(transactions: Iterable[Transaction]) -> None:
    """Queue the after-commit signals for newly written transactions."""
    outbox.queue_transactions(list(transactions))


def announce_transfers(transfers: Iterable[Any]) -> None:
    """Queue ``transfer_completed`` for newly written transfers."""
    outbox.queue_transfers(list(transfers))
