"""Reversals: the opposite of a confirmed transaction, posted once, with a
withdrawal's fee returned unless its policy kept fees."""

from __future__ import annotations

from django.db.models import Q

from wallets import fees, signals
from wallets.audit import AuditDraft
from wallets.exceptions import AlreadyReversed, TransactionNotReversible
from wallets.fee_ledger import return_fee
from wallets.ledger import (
    announce_transactions,
    ensure_active,
    ensure_available,
    post,
    write_balances,
)
from wallets.models import AuditEntry, FeeCharge
from wallets.operations import Context, Operation, run
from wallets.staff import StaffActor
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

State = Transaction.State
Action = AuditEntry.Action


def reverse_transaction(
    transaction: Transaction,
    meta: dict | None = None,
    force: bool = False,
    idempotency_key: str | None = None,
    *,
    actor: StaffActor | None = None,
) -> Transaction:
    """Post the opposite of a confirmed transaction, once.

    Reversing a deposit needs the funds to be available unless ``force``.
    Transfers are undone by refunding them, not by reversing one leg.
    Reversing a withdrawal that paid a fee returns the fee too, unless its
    policy kept fees on refund.
    """
    meta = dict(meta or {})
    charged = fees.charges_of(withdrawal=transaction) if transaction.amount < 0 else None

    def perform(context: Context) -> Transaction:
        wallet = context.locked[0]
        tx = Transaction.objects.get(pk=transaction.pk)
        ensure_reversible(tx)
        ensure_active(wallet)
        opposite = -tx.amount
        reversal_meta = {
            **meta,
            **context.staff_meta(Action.REVERSE),
            "reversal_of": str(tx.uuid),
        }
        if opposite < 0:
            if not force:
                ensure_available(wallet, -opposite)
            signals.pre_withdraw.send(
                sender=Wallet, wallet=wallet, amount=-opposite, meta=reversal_meta
            )
        else:
            signals.pre_deposit.send(
                sender=Wallet, wallet=wallet, amount=opposite, meta=reversal_meta
            )
        reversal = post(wallet, opposite, meta=reversal_meta, reversal_of=tx)
        write_balances(wallet)
        announce_transactions([reversal])
        charge = FeeCharge.objects.get(pk=charged.pk) if charged else None
        if charge and charge.refund_treatment == fees.RETURNED and charge.returnable:
            return_fee(
                charge,
                charge.returnable,
                bearer=wallet,
                fee_wallet=context.wallet(charged.fee_wallet),
                subject=tx,
                withdrawal=reversal,
                check_funds=not force,
            )
        context.audit = AuditDraft(
            target=tx,
            amount=reversal.amount,
            unit=wallet.unit,
            before={"reversed": False},
            after={"reversed": True, "reversal": str(reversal.uuid)},
        )
        return reversal

    return run(
        Operation(
            "reverse",
            wallets=[transaction.wallet, *([charged.fee_wallet] if charged else [])],
            idempotency_key=idempotency_key,
            fingerprint=[str(transaction.uuid), meta, bool(force)],
            actor=actor,
            action=Action.REVERSE,
        ),
        perform,
    )


def ensure_reversible(tx: Transaction) -> None:
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
    if FeeCharge.objects.filter(Q(payer_leg=tx) | Q(fee_leg=tx)).exists():
        raise TransactionNotReversible(
            "The transaction is a fee; it is returned with the payment it was charged on."
        )
