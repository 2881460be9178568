"""Recent activity and receipts in words: what a ledger row was, with whom, and its
reference ("Sent to Bob Baker", "Lunch"), read for many rows in a few queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import prefetch_related_objects

from portal.models import User
from portal.selectors import holder_label, holder_name, recent_activity, wallet_title
from wallets.models import Purchase
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()


@dataclass(frozen=True)
class ActivityItem:
    """One line of recent activity: what happened, with whom, and the reference."""

    tx: Transaction
    title: str
    reference: str
    wallet: str


def activity_items(
    user: User, limit: int = 10, wallets: Iterable[Wallet] | None = None
) -> list[ActivityItem]:
    """Recent activity in words, counterparties and references included, in a few queries
    (the transfers and their holders are fetched for all rows at once)."""
    rows = recent_activity(user, limit, wallets)
    with_counterparties(rows)
    return [
        ActivityItem(
            tx=tx,
            title=describe_transaction(tx, user),
            reference=transaction_reference(tx),
            wallet=wallet_title(tx.wallet, user),
        )
        for tx in rows
    ]


def with_counterparties(rows: list[Transaction]) -> list[Transaction]:
    """Load the transfer each row is a leg of, and the other wallet and its holder, and
    the purchase a row paid for (one query, and only when some row is a purchase)."""
    prefetch_related_objects(
        rows,
        "transfer_as_withdraw__to_wallet__holder",
        "transfer_as_deposit__from_wallet__holder",
    )
    purchases = [tx for tx in rows if is_purchase_row(tx)]
    if purchases:
        prefetch_related_objects(purchases, "purchase")
    return rows


def is_purchase_row(tx: Transaction) -> bool:
    """The buyer's row of a purchase no wallet received (it names the product)."""
    meta = tx.meta or {}
    return tx.amount < 0 and "product_label" in meta and "refund_of_purchase" not in meta


def purchase_of(tx: Transaction) -> Purchase | None:
    """The purchase ``tx`` paid for, if any; read from what the history's
    ``select_related`` or ``with_counterparties`` loaded."""
    if not is_purchase_row(tx):
        return None
    try:
        return tx.purchase
    except ObjectDoesNotExist:
        return None


def refunded_product(tx: Transaction) -> str:
    """The product a refund row gives money back for ("" when it is not one)."""
    meta = tx.meta or {}
    if meta.get("refund_of_purchase"):
        return str(meta.get("product_label") or "a purchase")
    return ""


PURCHASE_WORDS = {Transfer.Kind.PAID: "Purchase", Transfer.Kind.GIFT: "Gift"}


def describe_purchase(purchase: Purchase) -> str:
    """ "Purchase · Python course x2" (a multiplication sign), "Gift · …"."""
    words = PURCHASE_WORDS.get(purchase.kind, "Purchase")
    text = f"{words} \N{MIDDLE DOT} {purchase.product_label}"
    if purchase.quantity != 1:
        text += f" \N{MULTIPLICATION SIGN}{purchase.quantity}"
    return text


def describe_refund(tx: Transaction) -> str:
    """ "Refund · Python course" for a purchase's refund; "" otherwise."""
    product = refunded_product(tx)
    return f"Refund \N{MIDDLE DOT} {product}" if product else ""


TRANSFER_WORDS = {
    # kind: (the sender's words, the recipient's words)
    Transfer.Kind.TRANSFER: ("Sent to {}", "Received from {}"),
    Transfer.Kind.PAID: ("Paid {}", "Payment from {}"),
    Transfer.Kind.GIFT: ("Gift to {}", "Gift from {}"),
    Transfer.Kind.REFUND: ("Refund to {}", "Refund from {}"),
}


def describe_transaction(tx: Transaction, viewer: User | None = None) -> str:
    """What a ledger row was, in the words of its holder: "Sent to Bob Baker",
    "Exchanged into Euro savings", "Top-up", "Payout", "Purchase · Python course x2"."""
    refund = describe_refund(tx)
    if refund:
        return refund
    transfer = counterparty_transfer(tx)
    if transfer is not None:
        sent = tx.amount < 0
        other = transfer.to_wallet if sent else transfer.from_wallet
        if transfer.kind == Transfer.Kind.EXCHANGE:
            return f"Exchanged into {other.name}" if sent else f"Exchanged from {other.name}"
        if other.holder_type_id == tx.wallet.holder_type_id and (
            other.holder_id == tx.wallet.holder_id
        ):
            return f"Moved to {other.name}" if sent else f"Moved from {other.name}"
        words = TRANSFER_WORDS.get(transfer.kind, TRANSFER_WORDS[Transfer.Kind.TRANSFER])
        who = holder_label(other, viewer) if viewer is not None else holder_name(other)
        return words[0 if sent else 1].format("you" if who == "You" else who)
    purchase = purchase_of(tx)
    if purchase is not None:
        return describe_purchase(purchase)
    meta = tx.meta or {}
    if meta.get("fee"):
        # A fee leg (wallets.fees): "Fee", or "Fee returned" with a refund.
        return str(meta.get("description") or "Fee")
    if meta.get("request") == "top-up":
        return "Top-up"
    if meta.get("request") == "payout":
        return "Payout"
    if tx.reversal_of_id:
        return "Reversal"
    if meta.get("staff_action"):
        return "Correction by our staff"
    return tx.get_type_display()


def transaction_reference(tx: Transaction) -> str:
    """The reference or note the row carries, or what was bought."""
    meta = tx.meta or {}
    text = meta.get("reference") or meta.get("note")
    if text:
        return str(text)
    product = meta.get("product")
    if isinstance(product, dict) and product.get("name"):
        quantity = meta.get("quantity") or 1
        name = str(product["name"])
        return f"{quantity} \N{MULTIPLICATION SIGN} {name}" if quantity != 1 else name
    if meta.get("order"):
        return f"Order {meta['order']}"
    return ""


def counterparty_wallet(tx: Transaction) -> Wallet | None:
    """The wallet on the other side of a transfer leg, if the transaction is one."""
    for relation, side in (
        ("transfer_as_withdraw", "to_wallet"),
        ("transfer_as_deposit", "from_wallet"),
    ):
        try:
            return getattr(getattr(tx, relation), side)
        except Transfer.DoesNotExist:
            continue
    return None


def counterparty_label(tx: Transaction) -> str:
    """Who was on the other side: a holder, an own wallet, or for a purchase that no
    wallet received (and its refunds) the product."""
    purchase = purchase_of(tx)
    if purchase is not None:
        return purchase.product_label
    if refunded_product(tx):
        return refunded_product(tx)
    other = counterparty_wallet(tx)
    if other is None:
        return ""
    if other.holder_type_id == tx.wallet.holder_type_id and other.holder_id == tx.wallet.holder_id:
        return f"Own wallet: {other.name}"
    return holder_name(other)


def counterparty_transfer(tx: Transaction) -> Transfer | None:
    for relation in ("transfer_as_withdraw", "transfer_as_deposit"):
        try:
            return getattr(tx, relation)
        except Transfer.DoesNotExist:
            continue
    return None
