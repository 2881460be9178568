"""Posting transactions on locked wallets and writing their balances back."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction as db_transaction
from django.utils import timezone

from wallets import conf, signals
from wallets.amounts import check_in_range, exact
from wallets.exceptions import (
    InsufficientFunds,
    TextInvalid,
    TransactionExpired,
    TransactionNotPending,
    WalletFrozen,
)
from wallets.models import Transaction, Wallet

State = Transaction.State
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
    if wallet.available < amount:
        raise InsufficientFunds(
            f"Insufficient funds in '{wallet.name}': {wallet.available} {wallet.unit} "
            f"available, {amount} {wallet.unit} needed."
        )


@exact
def post(
    wallet: Wallet,
    amount: Decimal,
    *,
    confirmed: bool = True,
    meta: dict | None = None,
    reversal_of: Transaction | None = None,
) -> Transaction:
    """Record a signed amount on a locked wallet and apply it to the in-memory copy.

    A confirmed amount changes the balance; a pending withdrawal holds its
    amount; a pending deposit changes nothing until it is confirmed.
    """
    tx_type = Type.DEPOSIT if amount > 0 else Type.WITHDRAW
    balance_after = None
    expires_at = None
    if confirmed:
        wallet.balance += amount
        check_in_range(wallet.balance)
        balance_after = wallet.balance
    else:
        if amount < 0:
            wallet.held -= amount
        expiry = conf.pending_expiry()
        expires_at = timezone.now() + expiry if expiry else None
    return Transaction.objects.create(
        wallet=wallet,
        type=tx_type,
        amount=amount,
        state=State.CONFIRMED if confirmed else State.PENDING,
        balance_after=balance_after,
        meta=meta or {},
        reversal_of=reversal_of,
        expires_at=expires_at,
    )


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
    now = timezone.now()
    for wallet in wallets:
        Wallet.objects.filter(pk=wallet.pk).update(
            balance=wallet.balance, held=wallet.held, updated_at=now
        )
        wallet.updated_at = now


def after_commit(signal, sender: type, **kwargs: Any) -> None:
    db_transaction.on_commit(lambda: signal.send(sender=sender, **kwargs), robust=True)


def announce_transactions(transactions: Iterable[Transaction]) -> None:
    """Queue the after-commit signals for newly written transactions."""
    for tx in transactions:
        after_commit(signals.transaction_created, Transaction, transaction=tx)
        if tx.state == State.CONFIRMED:
            after_commit(signals.balance_changed, Wallet, wallet=tx.wallet, transaction=tx)
