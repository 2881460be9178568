"""Purchases that no wallet receives: the buyer is charged, and may be refunded.

A product that neither holds a wallet nor names a recipient (with no
``WALLETS["REVENUE_WALLET"]``) is paid by charging the buyer: a confirmed
withdrawal on the buyer's wallet and a :class:`~wallets.models.Purchase` that
names the product, the quantity and the unit price. A refund credits the
buyer back, in full or in part, and never more than was paid.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from wallets import fees, signals
from wallets.amounts import Amount, exact, parse_amount
from wallets.audit import AuditDraft, at_precision
from wallets.exceptions import AlreadyRefunded, RefundExceedsTransfer
from wallets.fee_ledger import return_fee
from wallets.ledger import (
    announce_transactions,
    build,
    ensure_active,
    entry,
    post,
    write_balances,
)
from wallets.models import AuditEntry, FeeCharge, Purchase
from wallets.one_statement import apply_and_post, write_linked
from wallets.operations import Context, Operation, run
from wallets.staff import StaffActor
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

RefundState = Transfer.RefundState


@exact
def charge(
    wallet: Wallet,
    product: Any,
    quantity: int,
    price: Decimal,
    *,
    kind: str,
    meta: dict,
    fee_deducted: Decimal = Decimal(0),
) -> Purchase:
    """Inside the payment's operation: the locked buyer's wallet is charged.

    With ``fee_deducted`` (a deductible fee, posted by the caller as a leg of
    its own), the price row is that much smaller: the buyer pays the price."""
    amount = price * quantity
    signals.pre_withdraw.send(sender=Wallet, wallet=wallet, amount=amount, meta=meta)
    withdraw = entry(wallet, -(amount - fee_deducted), meta=_withdraw_meta(product, meta))
    purchase = _purchase_row(wallet, withdraw, product, quantity, price, kind=kind, meta=meta)
    write_linked([withdraw], [wallet], purchase, withdraw=withdraw)
    announce_transactions([withdraw])
    return purchase


@exact
def charge_in_one_statement(
    wallet: Wallet, product: Any, quantity: int, price: Decimal, *, kind: str, meta: dict
) -> tuple[Purchase, Wallet]:
    """PostgreSQL, with nothing to judge under the lock (no fee, no
    ``pre_withdraw`` receivers, no product hooks): one statement locks the
    buyer's wallet, checks it is active and has the funds, and writes the
    withdrawal and the purchase (``one_statement.apply_and_post``). Returns
    the purchase and the wallet as the statement left it."""
    purchase = _purchase_row(wallet, None, product, quantity, price, kind=kind, meta=meta)
    locked, withdraw = apply_and_post(
        wallet,
        -(price * quantity),
        confirmed=True,
        check_funds=True,
        meta=_withdraw_meta(product, meta),
        linked=(purchase, "withdraw"),
    )
    purchase.wallet = locked
    announce_transactions([withdraw])
    return purchase, locked


def _withdraw_meta(product: Any, meta: dict) -> dict:
    return {**meta, "product_label": str(product)[:200]}


def _purchase_row(
    wallet: Wallet,
    withdraw: Transaction | None,
    product: Any,
    quantity: int,
    price: Decimal,
    *,
    kind: str,
    meta: dict,
) -> Purchase:
    is_row = isinstance(product, models.Model) and product.pk is not None
    return build(
        Purchase,
        wallet=wallet,
        withdraw=withdraw,
        kind=kind,
        product_type=ContentType.objects.get_for_model(product) if is_row else None,
        product_id=str(product.pk) if is_row else "",
        product_label=str(product)[:200],
        quantity=quantity,
        unit_price=price,
        amount=price * quantity,
        meta=meta,
    )


def refund_purchase(
    purchase: Purchase,
    amount: Amount | None = None,
    meta: dict | None = None,
    idempotency_key: str | None = None,
    *,
    actor: StaffActor | None = None,
) -> Transaction:
    """Credit the buyer back: all that is left (``amount=None``) or part of it.

    A fee charged on the purchase is returned from the fee wallet or kept, as
    its policy said when it was charged (``wallets.fees.returned_share``). In
    deductible mode the fee was part of the price: the buyer gets the refund
    in full either way, the returned share from the fee wallet."""
    wallet = purchase.wallet
    requested = None if amount is None else parse_amount(amount, wallet.decimal_places)
    meta = dict(meta or {})
    charged = fees.charges_of(purchase=purchase)

    @exact
    def perform(context: Context) -> Transaction:
        locked = context.locked[0]
        fresh = Purchase.objects.get(pk=purchase.pk)
        left = fresh.amount - fresh.refunded_amount
        if left <= 0:
            raise AlreadyRefunded("The purchase has already been refunded in full.")
        value = left if requested is None else requested
        if value > left:
            raise RefundExceedsTransfer(
                f"Only {at_precision(left, locked)} {locked.unit} of this purchase is left "
                "to refund."
            )
        ensure_active(locked)
        refund_meta = {
            **meta,
            **({"reason": context.reason[:200]} if context.actor else {}),
            "refund_of_purchase": str(fresh.uuid),
            "product_label": fresh.product_label,
        }
        charge = FeeCharge.objects.get(pk=charged.pk) if charged else None
        share = fees.returned_share(charge, value, left, fresh.amount)
        if charge and charge.mode == fees.DEDUCTIBLE:
            share = min(share, value)
        from_outside = value - share if charge and charge.mode == fees.DEDUCTIBLE else value
        signals.pre_deposit.send(sender=Wallet, wallet=locked, amount=value, meta=refund_meta)
        refund = post(locked, from_outside, meta=refund_meta) if from_outside > 0 else None
        write_balances(locked)
        if share:
            returned = return_fee(
                charge,
                share,
                bearer=locked,
                fee_wallet=context.wallet(charged.fee_wallet),
                subject=fresh,
                purchase=fresh,
            )
            refund = refund or returned.payer_leg
        fresh.refunded_amount += value
        fresh.refund_state = (
            RefundState.FULL if fresh.refunded_amount == fresh.amount else RefundState.PARTIAL
        )
        fresh.save(update_fields=["refunded_amount", "refund_state"])
        if from_outside > 0:
            announce_transactions([refund])
        context.audit = AuditDraft(
            target=fresh,
            amount=value,
            unit=locked.unit,
            before={"refunded_amount": str(fresh.refunded_amount - value)},
            after={"refunded_amount": str(fresh.refunded_amount), "refund": str(refund.uuid)},
        )
        return refund

    result = run(
        Operation(
            "refund_purchase",
            wallets=[wallet, *([charged.fee_wallet] if charged else [])],
            idempotency_key=idempotency_key,
            fingerprint=[str(purchase.uuid), None if requested is None else str(requested), meta],
            actor=actor,
            action=AuditEntry.Action.REFUND_PURCHASE,
        ),
        perform,
    )
    purchase.refresh_from_db(fields=["refunded_amount", "refund_state"])
    return result
