"""Single-wallet operations: deposits, withdrawals, pending resolution, and the entry
point for reversals (``wallets.services.reversals``).

Each method is one engine operation (:func:`wallets.operations.run`). Given a
``StaffActor`` it is a staff action (manual credit or debit, confirmation,
rejection, reversal) with its audit entry; without one it is the holder's own.
Freezing, renaming and opening wallets live in :mod:`wallets.services.wallet_state`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from wallets import fees, signals
from wallets.amounts import Amount, parse_amount
from wallets.audit import AuditDraft
from wallets.exceptions import (
    FeeNotSupported,
    TransactionHeld,
)
from wallets.fee_ledger import withdraw_with_fee
from wallets.ledger import (
    announce_transactions,
    clean_note,
    ensure_active,
    ensure_available,
    ensure_pending,
    post,
    release_pending,
    settle_pending,
    write_balances,
)
from wallets.models import AuditEntry, TransferHold
from wallets.one_statement import apply_and_post
from wallets.operations import Context, Operation, run
from wallets.services import bulk, holds, reversals
from wallets.services.wallet_state import WalletStateService
from wallets.staff import StaffActor
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

State = Transaction.State
Action = AuditEntry.Action


def resolution_audit(tx: Transaction, wallet: Wallet) -> AuditDraft:
    """The audit entry of a pending transaction's move out of pending."""
    return AuditDraft(
        target=tx,
        amount=tx.amount,
        unit=wallet.unit,
        before={"state": State.PENDING},
        after={"state": tx.state},
    )


class WalletService(WalletStateService):
    """Single-wallet operations. Swap it with ``WALLETS["WALLET_SERVICE_CLASS"]``."""

    @classmethod
    def deposit(
        cls,
        wallet: Wallet,
        amount: Amount,
        meta: dict | None = None,
        confirmed: bool = True,
        idempotency_key: str | None = None,
        *,
        actor: StaffActor | None = None,
    ) -> Transaction:
        """Credit the wallet (pending until confirmed with ``confirmed=False``).

        With ``actor``, a manual credit by staff."""
        value = parse_amount(amount, wallet.decimal_places)
        return cls._single(wallet, value, meta, confirmed, idempotency_key, "deposit", actor)

    @classmethod
    def withdraw(
        cls,
        wallet: Wallet,
        amount: Amount,
        meta: dict | None = None,
        confirmed: bool = True,
        idempotency_key: str | None = None,
        *,
        actor: StaffActor | None = None,
    ) -> Transaction:
        """Debit the wallet within its available funds (a pending one holds them).

        With ``actor``, a manual debit by staff."""
        value = parse_amount(amount, wallet.decimal_places)
        return cls._single(wallet, -value, meta, confirmed, idempotency_key, "withdraw", actor)

    @classmethod
    def force_withdraw(
        cls,
        wallet: Wallet,
        amount: Amount,
        meta: dict | None = None,
        confirmed: bool = True,
        idempotency_key: str | None = None,
        *,
        actor: StaffActor | None = None,
    ) -> Transaction:
        """Withdraw even past the available funds: the balance may go negative."""
        value = parse_amount(amount, wallet.decimal_places)
        return cls._single(
            wallet, -value, meta, confirmed, idempotency_key, "force_withdraw", actor
        )

    @classmethod
    def _single(
        cls,
        wallet: Wallet,
        signed: Decimal,
        meta: dict | None,
        confirmed: bool,
        key: str | None,
        operation: str,
        actor: StaffActor | None,
    ) -> Transaction:
        meta = dict(meta or {})
        action = Action.CREDIT if signed > 0 else Action.DEBIT
        pre_signal = signals.pre_deposit if signed > 0 else signals.pre_withdraw
        check_funds = operation == "withdraw"
        # The holder's own withdrawals carry fees; staff debits and forced ones do not.
        fee_plan = fees.plan_for(fees.WITHDRAWAL, wallet) if check_funds and not actor else None
        if fee_plan is not None and not confirmed:
            raise FeeNotSupported(
                f"The fee policy '{fee_plan.policy.name}' applies to this withdrawal; "
                "pending withdrawals cannot charge fees: withdraw it confirmed."
            )

        def perform(context: Context) -> Transaction:
            tx_meta = {**meta, **context.staff_meta(action)}
            if fee_plan is not None:
                locked = context.locked[0]
                tx = withdraw_with_fee(locked, fee_plan.under_lock(context), -signed, tx_meta)
            elif not context.locked:
                # One statement locks, checks, applies and records (PostgreSQL).
                locked, tx = apply_and_post(
                    wallet, signed, confirmed=confirmed, check_funds=check_funds, meta=tx_meta
                )
                context.adopt(locked)
            else:
                (locked,) = context.locked
                ensure_active(locked)
                if check_funds:
                    ensure_available(locked, -signed)
                pre_signal.send(sender=Wallet, wallet=locked, amount=abs(signed), meta=tx_meta)
                tx = post(locked, signed, confirmed=confirmed, meta=tx_meta)
                if confirmed or signed < 0:
                    write_balances(locked)
            announce_transactions([tx])
            context.audit = AuditDraft(
                target=locked,
                amount=signed,
                unit=locked.unit,
                after={"transaction": str(tx.uuid), "state": tx.state},
            )
            return tx

        return run(
            Operation(
                operation,
                wallets=[wallet, *([fee_plan.fee_wallet] if fee_plan else [])],
                idempotency_key=key,
                fingerprint=[str(wallet.uuid), str(signed), meta, bool(confirmed)],
                actor=actor,
                action=action,
                # Staff actions lock first (the audit entry records the state
                # before), and so do wallets whose pre-signals have receivers
                # and withdrawals that pay a fee (two wallets).
                one_statement=actor is None
                and fee_plan is None
                and not pre_signal.has_listeners(Wallet),
            ),
            perform,
        )

    @classmethod
    def bulk_deposit(cls, items: Iterable[Any]) -> list[Transaction]:
        """Many confirmed deposits in one operation, all or nothing
        (``wallets.services.bulk``). Items are ``(wallet, amount)`` or ``bulk.Deposit``."""
        return bulk.bulk_single(items, withdraw=False)

    @classmethod
    def bulk_withdraw(cls, items: Iterable[Any]) -> list[Transaction]:
        """Many confirmed withdrawals, each within the funds left by the ones before."""
        return bulk.bulk_single(items, withdraw=True)

    @classmethod
    def confirm_transaction(
        cls,
        transaction: Transaction,
        note: str = "",
        *,
        actor: StaffActor | None = None,
        idempotency_key: str | None = None,
    ) -> Transaction:
        """Post a pending transaction: deposits credit, withdrawals take their hold.

        A withdrawal that reserves a held transfer is released through the hold
        instead (``TransferService.release_hold``)."""
        note = clean_note(note)

        def perform(context: Context) -> Transaction:
            (wallet,) = context.locked
            tx = Transaction.objects.get(pk=transaction.pk)
            ensure_pending(tx)
            if TransferHold.objects.filter(reservation=tx).exists():
                raise TransactionHeld(
                    "This withdrawal reserves a transfer held for review: release or reject "
                    "the held transfer."
                )
            ensure_active(wallet)
            settle_pending(wallet, tx, note or context.reason)
            write_balances(wallet)
            context.audit = resolution_audit(tx, wallet)
            return tx

        result = run(
            Operation(
                "confirm",
                wallets=[transaction.wallet],
                idempotency_key=idempotency_key,
                fingerprint=[str(transaction.uuid)],
                actor=actor,
                action=Action.CONFIRM,
            ),
            perform,
        )
        cls._copy_resolution(transaction, result)
        return result

    @classmethod
    def reject_transaction(
        cls,
        transaction: Transaction,
        reason: str = "",
        state: str = State.REJECTED,
        *,
        actor: StaffActor | None = None,
        idempotency_key: str | None = None,
    ) -> Transaction:
        """Refuse a pending transaction; a withdrawal's hold is released.

        ``state`` may be ``rejected`` (staff), ``canceled`` (the holder) or
        ``expired``. Nothing moves, so this works on frozen wallets too. A
        withdrawal that reserves a held transfer takes its hold with it.
        """
        if state not in (State.REJECTED, State.CANCELED, State.EXPIRED):
            raise ValueError(f"{state!r} is not a way to resolve a pending transaction")
        reason = clean_note(reason, "reason")

        def perform(context: Context) -> Transaction:
            (wallet,) = context.locked
            tx = Transaction.objects.get(pk=transaction.pk)
            ensure_pending(tx)
            note = reason or context.reason
            release_pending(wallet, tx, state, note)
            close_hold_of(tx, state, note, context.by)
            write_balances(wallet)
            context.audit = resolution_audit(tx, wallet)
            return tx

        result = run(
            Operation(
                "reject",
                wallets=[transaction.wallet],
                idempotency_key=idempotency_key,
                fingerprint=[str(transaction.uuid), state],
                actor=actor,
                action=Action.REJECT,
            ),
            perform,
        )
        cls._copy_resolution(transaction, result)
        return result

    @classmethod
    def expire_pending(cls, now: datetime | None = None) -> int:
        """Expire every pending transaction past its ``expires_at``; returns how many.

        One operation per wallet, so a long backlog never holds many locks at once."""
        now = now or timezone.now()
        due = Transaction.objects.filter(state=State.PENDING, expires_at__lte=now)
        expired = 0
        for wallet_id in sorted(set(due.values_list("wallet_id", flat=True))):

            def perform(context: Context, wallet_id: int = wallet_id) -> int:
                (wallet,) = context.locked
                count = 0
                for tx in due.filter(wallet_id=wallet_id):
                    release_pending(wallet, tx, State.EXPIRED, "Expired")
                    close_hold_of(tx, TransferHold.State.EXPIRED, "Expired", None)
                    count += 1
                write_balances(wallet)
                return count

            expired += run(Operation("expire", wallets=[Wallet(pk=wallet_id)]), perform)
        return expired

    @classmethod
    def reverse_transaction(
        cls,
        transaction: Transaction,
        meta: dict | None = None,
        force: bool = False,
        idempotency_key: str | None = None,
        *,
        actor: StaffActor | None = None,
    ) -> Transaction:
        """Post the opposite of a confirmed transaction, once
        (``wallets.services.reversals.reverse_transaction``)."""
        return reversals.reverse_transaction(transaction, meta, force, idempotency_key, actor=actor)

    # Helpers for subclasses and the other services.

    @staticmethod
    def _copy_resolution(target: Transaction, source: Transaction) -> None:
        if target is not source:
            for name in ("state", "balance_after", "resolved_at", "resolution_note"):
                setattr(target, name, getattr(source, name))


def close_hold_of(tx: Transaction, state: str, note: str, by: object) -> None:
    """The hold a released reservation belonged to follows it (rejected, canceled, expired)."""
    hold = TransferHold.objects.filter(reservation=tx, state=TransferHold.State.HELD).first()
    if hold is not None:
        holds.decide(hold, state, by, note)
