"""Deposits, withdrawals, pending confirmation, reversal and freezing."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction as db_transaction
from django.db.models import Q
from django.utils import timezone

from wallets import idempotency, signals
from wallets.amounts import Amount, exact, parse_amount
from wallets.exceptions import (
    AlreadyReversed,
    TransactionExpired,
    TransactionNotPending,
    TransactionNotReversible,
)
from wallets.ledger import (
    after_commit,
    announce_transactions,
    clean_note,
    ensure_active,
    ensure_available,
    post,
    write_balances,
)
from wallets.locking import lock_wallets, sync_instance
from wallets.models import Transaction, Transfer, Wallet

State = Transaction.State


class WalletService:
    """Single-wallet operations. Swap it with ``WALLETS["WALLET_SERVICE_CLASS"]``."""

    @classmethod
    def deposit(
        cls,
        wallet: Wallet,
        amount: Amount,
        meta: dict | None = None,
        confirmed: bool = True,
        idempotency_key: str | None = None,
    ) -> Transaction:
        value = parse_amount(amount, wallet.decimal_places)
        return cls._single(wallet, value, meta, confirmed, idempotency_key, "deposit")

    @classmethod
    def withdraw(
        cls,
        wallet: Wallet,
        amount: Amount,
        meta: dict | None = None,
        confirmed: bool = True,
        idempotency_key: str | None = None,
    ) -> Transaction:
        value = parse_amount(amount, wallet.decimal_places)
        return cls._single(wallet, -value, meta, confirmed, idempotency_key, "withdraw")

    @classmethod
    def force_withdraw(
        cls,
        wallet: Wallet,
        amount: Amount,
        meta: dict | None = None,
        confirmed: bool = True,
        idempotency_key: str | None = None,
    ) -> Transaction:
        """Withdraw even past the available funds: the balance may go negative."""
        value = parse_amount(amount, wallet.decimal_places)
        return cls._single(wallet, -value, meta, confirmed, idempotency_key, "force_withdraw")

    @classmethod
    def _single(
        cls,
        wallet: Wallet,
        signed: Decimal,
        meta: dict | None,
        confirmed: bool,
        key: str | None,
        operation: str,
    ) -> Transaction:
        meta = dict(meta or {})
        parts = [str(wallet.uuid), str(signed), meta, bool(confirmed)]
        with db_transaction.atomic():
            (locked,) = lock_wallets(wallet)

            def perform() -> Transaction:
                ensure_active(locked)
                if signed > 0:
                    signals.pre_deposit.send(sender=Wallet, wallet=locked, amount=signed, meta=meta)
                else:
                    if operation == "withdraw":
                        ensure_available(locked, -signed)
                    signals.pre_withdraw.send(
                        sender=Wallet, wallet=locked, amount=-signed, meta=meta
                    )
                tx = post(locked, signed, confirmed=confirmed, meta=meta)
                if confirmed or signed < 0:
                    write_balances(locked)
                announce_transactions([tx])
                return tx

            result = idempotency.run_once(key, locked, operation, parts, perform)
        sync_instance(wallet, locked)
        return result

    @classmethod
    @exact
    def confirm_transaction(cls, transaction: Transaction, note: str = "") -> Transaction:
        """Post a pending transaction: deposits credit, withdrawals take their hold."""
        note = clean_note(note)
        with db_transaction.atomic():
            (wallet,) = lock_wallets(transaction.wallet)
            tx = Transaction.objects.get(pk=transaction.pk)
            cls._ensure_pending(tx)
            if tx.expires_at is not None and tx.expires_at <= timezone.now():
                raise TransactionExpired(
                    f"The pending {tx.get_type_display().lower()} expired at {tx.expires_at:%c}."
                )
            ensure_active(wallet)
            if tx.amount < 0:
                wallet.held += tx.amount
            wallet.balance += tx.amount
            tx.state = State.CONFIRMED
            tx.balance_after = wallet.balance
            tx.resolved_at = timezone.now()
            tx.resolution_note = note
            tx.save(update_fields=["state", "balance_after", "resolved_at", "resolution_note"])
            write_balances(wallet)
            tx.wallet = wallet
            after_commit(signals.transaction_confirmed, Transaction, transaction=tx)
            after_commit(signals.balance_changed, Wallet, wallet=wallet, transaction=tx)
        cls._copy_resolution(transaction, tx)
        sync_instance(transaction.wallet, wallet)
        return tx

    @classmethod
    def reject_transaction(
        cls, transaction: Transaction, reason: str = "", state: str = State.REJECTED
    ) -> Transaction:
        """Refuse a pending transaction; a withdrawal's hold is released.

        ``state`` may be ``rejected`` (staff), ``canceled`` (the holder) or
        ``expired``. Nothing moves, so this works on frozen wallets too.
        """
        if state not in (State.REJECTED, State.CANCELED, State.EXPIRED):
            raise ValueError(f"{state!r} is not a way to resolve a pending transaction")
        reason = clean_note(reason, "reason")
        with db_transaction.atomic():
            (wallet,) = lock_wallets(transaction.wallet)
            tx = Transaction.objects.get(pk=transaction.pk)
            cls._ensure_pending(tx)
            cls._release(wallet, tx, state, reason)
            write_balances(wallet)
        cls._copy_resolution(transaction, tx)
        sync_instance(transaction.wallet, wallet)
        return tx

    @classmethod
    def expire_pending(cls, now: datetime | None = None) -> int:
        """Expire every pending transaction past its ``expires_at``; returns how many."""
        now = now or timezone.now()
        due = Transaction.objects.filter(state=State.PENDING, expires_at__lte=now)
        wallet_ids = sorted(set(due.values_list("wallet_id", flat=True)))
        expired = 0
        for wallet_id in wallet_ids:
            with db_transaction.atomic():
                (wallet,) = lock_wallets(Wallet(pk=wallet_id))
                for tx in due.filter(wallet_id=wallet_id):
                    cls._release(wallet, tx, State.EXPIRED, "Expired")
                    expired += 1
                write_balances(wallet)
        return expired

    @classmethod
    def reverse_transaction(
        cls,
        transaction: Transaction,
        meta: dict | None = None,
        force: bool = False,
        idempotency_key: str | None = None,
    ) -> Transaction:
        """Post the opposite of a confirmed transaction, once.

        Reversing a deposit needs the funds to be available unless ``force``.
        Transfers are undone by refunding them, not by reversing one leg.
        """
        meta = dict(meta or {})
        with db_transaction.atomic():
            (wallet,) = lock_wallets(transaction.wallet)
            parts = [str(transaction.uuid), meta, bool(force)]

            def perform() -> Transaction:
                tx = Transaction.objects.get(pk=transaction.pk)
                cls._ensure_reversible(tx)
                ensure_active(wallet)
                opposite = -tx.amount
                if opposite < 0:
                    if not force:
                        ensure_available(wallet, -opposite)
                    signals.pre_withdraw.send(
                        sender=Wallet, wallet=wallet, amount=-opposite, meta=meta
                    )
                else:
                    signals.pre_deposit.send(
                        sender=Wallet, wallet=wallet, amount=opposite, meta=meta
                    )
                reversal = post(
                    wallet,
                    opposite,
                    meta={**meta, "reversal_of": str(tx.uuid)},
                    reversal_of=tx,
                )
                write_balances(wallet)
                announce_transactions([reversal])
                return reversal

            result = idempotency.run_once(idempotency_key, wallet, "reverse", parts, perform)
        sync_instance(transaction.wallet, wallet)
        return result

    @classmethod
    def freeze(cls, wallet: Wallet, reason: str = "", by: Any = None) -> Wallet:
        """Block every operation into or out of the wallet until it is unfrozen."""
        reason = clean_note(reason, "reason")
        with db_transaction.atomic():
            (locked,) = lock_wallets(wallet)
            locked.is_frozen = True
            locked.frozen_reason = reason
            locked.frozen_at = timezone.now()
            locked.frozen_by = by
            locked.save(
                update_fields=["is_frozen", "frozen_reason", "frozen_at", "frozen_by", "updated_at"]
            )
        sync_instance(wallet, locked)
        return locked

    @classmethod
    def unfreeze(cls, wallet: Wallet, by: Any = None) -> Wallet:
        with db_transaction.atomic():
            (locked,) = lock_wallets(wallet)
            history = locked.meta.get("freeze_history", [])
            if locked.is_frozen:
                history.append(
                    {
                        "reason": locked.frozen_reason,
                        "frozen_at": locked.frozen_at.isoformat() if locked.frozen_at else None,
                        "frozen_by": locked.frozen_by_id,
                        "unfrozen_at": timezone.now().isoformat(),
                        "unfrozen_by": getattr(by, "pk", None),
                    }
                )
            locked.meta = {**locked.meta, "freeze_history": history}
            locked.is_frozen = False
            locked.frozen_reason = ""
            locked.frozen_at = None
            locked.frozen_by = None
            locked.save(
                update_fields=[
                    "is_frozen",
                    "frozen_reason",
                    "frozen_at",
                    "frozen_by",
                    "meta",
                    "updated_at",
                ]
            )
        sync_instance(wallet, locked)
        wallet.meta = locked.meta
        return locked

    # Helpers for subclasses and the other services.

    @staticmethod
    def _ensure_pending(tx: Transaction) -> None:
        if tx.state != State.PENDING:
            raise TransactionNotPending(
                f"The {tx.get_type_display().lower()} is {tx.get_state_display().lower()}, "
                "not pending."
            )

    @staticmethod
    @exact
    def _release(wallet: Wallet, tx: Transaction, state: str, reason: str) -> None:
        if tx.amount < 0:
            wallet.held += tx.amount
        tx.state = state
        tx.resolved_at = timezone.now()
        tx.resolution_note = reason
        tx.save(update_fields=["state", "resolved_at", "resolution_note"])

    @staticmethod
    def _ensure_reversible(tx: Transaction) -> None:
        if tx.state != State.CONFIRMED:
            raise TransactionNotReversible("Only confirmed transactions can be reversed.")
        if tx.reversal_of_id is not None:
            raise TransactionNotReversible("A reversal cannot itself be reversed.")
        if Transaction.objects.filter(reversal_of=tx).exists():
            raise AlreadyReversed("The transaction has already been reversed.")
        if Transfer.objects.filter(Q(withdraw=tx) | Q(deposit=tx)).exists():
            raise TransactionNotReversible(
                "The transaction is one leg of a transfer; refund the transfer instead."
            )

    @staticmethod
    def _copy_resolution(target: Transaction, source: Transaction) -> None:
        if target is not source:
            for field in ("state", "balance_after", "resolved_at", "resolution_note"):
                setattr(target, field, getattr(source, field))
