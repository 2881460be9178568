"""The fee on a receipt: the fee a payment's row bore, or the payment a fee row was for.

One query for any row (the charge, with the rows it names); a second only when the
viewer of a fee wallet's row may also see the payment it was taken on.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q

from portal.selectors import wallets_for_user
from wallets.models import FeeCharge, FeePolicy, Purchase
from wallets.swappable import get_transaction_model, get_transfer_model

Transaction = get_transaction_model()
Transfer = get_transfer_model()


@dataclass(frozen=True)
class FeeOnReceipt:
    """What a receipt says about a fee.

    ``is_fee_row``: the receipt is of one of the fee's own legs; then ``payment``
    is the row of the payment it was taken on (None when there is none to name)
    and ``payment_link`` says whether the viewer may open it. Otherwise the
    receipt is of the payment, and ``total`` is what it came to with the fee."""

    charge: FeeCharge
    is_fee_row: bool
    payment: Transaction | None = None
    payment_link: bool = False
    # On the payment's own row: what it came to with the fee.
    total: Decimal | None = None
    total_label: str = ""

    @property
    def label(self) -> str:
        """ "Fee", "Fee deducted" (from what the receiver got) or "Fee returned"."""
        if self.charge.is_return:
            return "Fee returned"
        if self.charge.mode == FeePolicy.Mode.DEDUCTIBLE:
            return "Fee deducted"
        return "Fee"

    @property
    def returned(self) -> Decimal:
        """How much of a charged fee went back with refunds."""
        return Decimal(0) if self.charge.is_return else self.charge.refunded


def fee_on_receipt(
    tx: Transaction, viewer: Any, transfer: Transfer | None, purchase: Purchase | None
) -> FeeOnReceipt | None:
    """The fee ``tx`` bore (as the payer's row, or the receiver's in deductible mode),
    or, for a fee leg, the fee and its payment; None for a row without a fee.

    ``transfer`` and ``purchase`` are what the receipt already loaded for ``tx``."""
    bore = Q(payer_wallet_id=tx.wallet_id) & (
        Q(withdrawal_id=tx.pk)
        | (Q(transfer_id=transfer.pk) if transfer is not None else Q(pk__in=[]))
        | (Q(purchase_id=purchase.pk, refund_of__isnull=True) if purchase else Q(pk__in=[]))
    )
    charge = (
        FeeCharge.objects.filter(Q(payer_leg_id=tx.pk) | Q(fee_leg_id=tx.pk) | bore)
        .select_related(
            "transfer__withdraw", "transfer__deposit", "purchase__withdraw", "withdrawal"
        )
        .first()
    )
    if charge is None:
        return None
    if tx.pk not in (charge.payer_leg_id, charge.fee_leg_id):
        if charge.is_return:
            return FeeOnReceipt(charge, is_fee_row=False)
        # Out of the payer's row it is on top; out of a receiver's, it came off.
        sent = tx.amount < 0
        total = abs(tx.amount) + charge.amount if sent else tx.amount - charge.amount
        label = "Total with the fee" if sent else "You received"
        return FeeOnReceipt(charge, is_fee_row=False, total=total, total_label=label)
    payment = _payment_row(charge)
    if payment is None:
        return FeeOnReceipt(charge, is_fee_row=True)
    # The payer's fee leg sits in the payment's own wallet; the fee wallet's leg does not.
    visible = payment.wallet_id == tx.wallet_id or (
        wallets_for_user(viewer).filter(pk=payment.wallet_id).exists()
    )
    return FeeOnReceipt(charge, is_fee_row=True, payment=payment, payment_link=visible)


def _payment_row(charge: FeeCharge) -> Transaction | None:
    """The row of the wallet that bore the fee, on the payment it was taken on."""
    if charge.transfer is not None:
        transfer = charge.transfer
        if charge.payer_wallet_id == transfer.to_wallet_id:
            return transfer.deposit
        return transfer.withdraw
    if charge.purchase is not None:
        return charge.purchase.withdraw
    return charge.withdrawal
