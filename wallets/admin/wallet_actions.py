"""The staff actions on wallets: freeze, unfreeze, manual credit and debit, credit limit.

Each is a :class:`ConfirmedAction`: what its confirmation page says about a
wallet, and the engine operation it runs once staff confirm with a reason.
"""

from __future__ import annotations

from typing import Any

from wallets.admin.confirmation import (
    AdjustmentForm,
    Confirmed,
    ConfirmedAction,
    CreditLimitForm,
    DebitForm,
    FreezeForm,
)
from wallets.admin.display import holder_name, money
from wallets.amounts import parse_amount
from wallets.exceptions import AmountInvalid
from wallets.services import wallet_service
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()


def _adjustment_describe(credit: bool):
    word = "Credit" if credit else "Debit"

    def describe(wallet: Wallet, data: dict[str, Any] | None) -> str:
        current = money(wallet.balance, wallet)
        try:
            amount = parse_amount((data or {}).get("amount"), wallet.decimal_places)
        except AmountInvalid:
            return (
                f"{word} '{wallet.name}' of {holder_name(wallet)} (balance {current}) by the "
                "amount you enter below."
            )
        after = wallet.balance + amount if credit else wallet.balance - amount
        return f"{word} {money(amount, wallet)}: balance {current} → {money(after, wallet)}."

    return describe


def _amount_fits(objects: list[Wallet], data: dict[str, Any]) -> str | None:
    """Refuse an amount the wallet cannot hold before anything runs."""
    for wallet in objects:
        try:
            parse_amount(data["amount"], wallet.decimal_places)
        except AmountInvalid as error:
            return str(error)
    return None


def _freeze_describe(wallet: Wallet, data: dict[str, Any] | None) -> str:
    if wallet.is_frozen:
        return "Already frozen: will be refused."
    return (
        f"Freeze '{wallet.name}' of {holder_name(wallet)} (balance "
        f"{money(wallet.balance, wallet)}): every deposit, withdrawal, transfer and payment "
        "in or out will be refused until it is unfrozen. The holder sees your message; "
        "the reason stays with staff."
    )


def _unfreeze_describe(wallet: Wallet, data: dict[str, Any] | None) -> str:
    if not wallet.is_frozen:
        return "Not frozen: will be refused."
    note = wallet.frozen_note or "no note"
    return (
        f"Unfreeze '{wallet.name}' of {holder_name(wallet)} (frozen: {note}): "
        "operations are accepted again."
    )


def _freeze(wallet: Wallet, done: Confirmed) -> Wallet:
    return wallet_service().freeze(
        wallet,
        message=done.data.get("message", ""),
        actor=done.actor,
        idempotency_key=done.key_for(wallet),
    )


def _unfreeze(wallet: Wallet, done: Confirmed) -> Wallet:
    return wallet_service().unfreeze(wallet, actor=done.actor, idempotency_key=done.key_for(wallet))


def _credit(wallet: Wallet, done: Confirmed) -> Any:
    return wallet_service().deposit(
        wallet, done.data["amount"], actor=done.actor, idempotency_key=done.key_for(wallet)
    )


def _debit(wallet: Wallet, done: Confirmed) -> Any:
    service = wallet_service()
    withdraw = service.force_withdraw if done.data.get("allow_negative") else service.withdraw
    return withdraw(
        wallet, done.data["amount"], actor=done.actor, idempotency_key=done.key_for(wallet)
    )


FREEZE = ConfirmedAction(
    title="Freeze wallets", describe=_freeze_describe, perform=_freeze, form_class=FreezeForm
)
UNFREEZE = ConfirmedAction(title="Unfreeze wallets", describe=_unfreeze_describe, perform=_unfreeze)
# One wallet at a time: the page shows that wallet's balance before and after.
CREDIT = ConfirmedAction(
    title="Manual credit",
    describe=_adjustment_describe(credit=True),
    perform=_credit,
    form_class=AdjustmentForm,
    single=True,
    check=_amount_fits,
)
DEBIT = ConfirmedAction(
    title="Manual debit",
    describe=_adjustment_describe(credit=False),
    perform=_debit,
    form_class=DebitForm,
    single=True,
    check=_amount_fits,
)


def _credit_limit_describe(wallet: Wallet, data: dict[str, Any] | None) -> str:
    now = money(wallet.credit_limit, wallet)
    limit = (data or {}).get("credit_limit")
    if limit is None:
        return (
            f"Set how far below zero '{wallet.name}' of {holder_name(wallet)} may go "
            f"(now {now}; balance {money(wallet.balance, wallet)})."
        )
    return f"Credit limit {now} → {money(limit, wallet)}."


def _credit_limit_fits(objects: list[Wallet], data: dict[str, Any]) -> str | None:
    for wallet in objects:
        if data["credit_limit"]:
            try:
                parse_amount(data["credit_limit"], wallet.decimal_places)
            except AmountInvalid as error:
                return str(error)
    return None


def _set_credit_limit(wallet: Wallet, done: Confirmed) -> Wallet:
    return wallet_service().set_credit_limit(
        wallet, done.data["credit_limit"], actor=done.actor, idempotency_key=done.key_for(wallet)
    )


CREDIT_LIMIT = ConfirmedAction(
    title="Set credit limit",
    describe=_credit_limit_describe,
    perform=_set_credit_limit,
    form_class=CreditLimitForm,
    single=True,
    check=_credit_limit_fits,
)
