"""The staff actions on transactions and transfers: confirm or reject pending
transactions, reverse confirmed ones, refund transfers.

Each is a :class:`ConfirmedAction`: what its confirmation page says about a
row, and the engine operation it runs once staff confirm with a reason. A
pending withdrawal that reserves a held transfer is decided under Transfer
holds: the page says so, and the engine refuses to confirm it here.
"""

from __future__ import annotations

from typing import Any

from wallets.admin.confirmation import Confirmed, ConfirmedAction, RefundForm, ReverseForm
from wallets.admin.display import holder_name, money
from wallets.amounts import parse_amount
from wallets.exceptions import AmountInvalid
from wallets.models import TransferHold
from wallets.services import transfer_service, wallet_service
from wallets.swappable import get_transaction_model, get_transfer_model

Transaction = get_transaction_model()
Transfer = get_transfer_model()

State = Transaction.State


def reserved_hold(tx: Transaction) -> TransferHold | None:
    """The held transfer a pending withdrawal reserves funds for, if any."""
    try:
        return tx.transfer_hold
    except TransferHold.DoesNotExist:
        return None


def _describe_confirm(tx: Transaction, data: dict[str, Any] | None) -> str:
    wallet = tx.wallet
    if tx.state != State.PENDING:
        return f"{tx.get_state_display()}, not pending: will be refused."
    hold = reserved_hold(tx)
    if hold is not None:
        return (
            f"Reserves a transfer of {money(hold.amount, wallet)} held by rule "
            f"'{hold.rule_name}': decide it under Transfer holds. Confirming it here "
            "will be refused."
        )
    after = wallet.balance + tx.amount
    return (
        f"Confirm {tx.get_type_display().lower()} of {money(tx.magnitude, wallet)} on "
        f"'{wallet.name}': balance {money(wallet.balance, wallet)} → {money(after, wallet)}."
    )


def _describe_reject(tx: Transaction, data: dict[str, Any] | None) -> str:
    wallet = tx.wallet
    if tx.state != State.PENDING:
        return f"{tx.get_state_display()}, not pending: will be refused."
    hold = reserved_hold(tx)
    freed = " and free the amount it holds" if tx.amount < 0 else ""
    # Rejecting a reservation rejects its held transfer too (the engine closes both).
    with_hold = f", with the transfer it reserves (held by rule '{hold.rule_name}')" if hold else ""
    return (
        f"Reject the {tx.get_type_display().lower()} of {money(tx.magnitude, wallet)} "
        f"on '{wallet.name}'{freed}{with_hold}; the balance stays "
        f"{money(wallet.balance, wallet)}."
    )


def _describe_reverse(tx: Transaction, data: dict[str, Any] | None) -> str:
    wallet = tx.wallet
    if tx.state != State.CONFIRMED:
        return "Not confirmed: will be refused."
    after = wallet.balance - tx.amount
    return (
        f"Post {money(-tx.amount, wallet)} on '{wallet.name}' to undo this "
        f"{tx.get_type_display().lower()}: balance {money(wallet.balance, wallet)}"
        f" → {money(after, wallet)}. Transfer legs and reversed rows are refused."
    )


def _describe_refund(transfer: Transfer, data: dict[str, Any] | None) -> str:
    source = transfer.from_wallet
    if transfer.kind == Transfer.Kind.REFUND:
        return "A refund: cannot itself be refunded."
    left = transfer.amount - transfer.refunded_amount
    if left <= 0:
        return "Already refunded in full: will be refused."
    amount = (data or {}).get("amount")
    how_much = money(amount, source) if amount else f"all that is left, {money(left, source)}"
    return (
        f"Return {how_much} from '{transfer.to_wallet.name}' ({holder_name(transfer.to_wallet)})"
        f" to '{source.name}' ({holder_name(source)}); paid {money(transfer.amount, source)},"
        f" refunded so far {money(transfer.refunded_amount, source)}."
    )


def _refund_check(transfers: list[Transfer], data: dict[str, Any]) -> str | None:
    """A partial amount is one transfer's; its places are the source wallet's."""
    amount = data.get("amount")
    if amount is None:
        return None
    if len(transfers) != 1:
        return (
            "A partial amount refunds one transfer at a time; leave it empty to refund "
            "several in full."
        )
    try:
        parse_amount(amount, transfers[0].from_wallet.decimal_places)
    except AmountInvalid as error:
        return str(error)
    return None


def _confirm(tx: Transaction, done: Confirmed) -> Any:
    return wallet_service().confirm_transaction(
        tx, actor=done.actor, idempotency_key=done.key_for(tx)
    )


def _reject(tx: Transaction, done: Confirmed) -> Any:
    return wallet_service().reject_transaction(
        tx, actor=done.actor, idempotency_key=done.key_for(tx)
    )


def _reverse(tx: Transaction, done: Confirmed) -> Any:
    return wallet_service().reverse_transaction(
        tx,
        force=bool(done.data.get("force")),
        actor=done.actor,
        idempotency_key=done.key_for(tx),
    )


def _refund(transfer: Transfer, done: Confirmed) -> Any:
    return transfer_service().refund(
        transfer,
        done.data.get("amount"),
        force=bool(done.data.get("force")),
        actor=done.actor,
        idempotency_key=done.key_for(transfer),
    )


CONFIRM = ConfirmedAction(
    title="Confirm pending transactions", describe=_describe_confirm, perform=_confirm
)
REJECT = ConfirmedAction(
    title="Reject pending transactions", describe=_describe_reject, perform=_reject
)
REVERSE = ConfirmedAction(
    title="Reverse transactions",
    describe=_describe_reverse,
    perform=_reverse,
    form_class=ReverseForm,
)
REFUND = ConfirmedAction(
    title="Refund transfers",
    describe=_describe_refund,
    perform=_refund,
    form_class=RefundForm,
    check=_refund_check,
)
