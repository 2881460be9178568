"""Writers of the shop: paying a cart and refunding orders.

Both are engine operations (``wallets.operations``): the engine owns the
transaction, the locks, the idempotency key and the audit entry, and the shop
adds its bookkeeping (orders, stock) inside the operation, under its locks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import F

from shop.exceptions import CartInvalid, NotAllowed, RefundInvalid
from shop.models import Order, OrderLine, Product
from shop.selectors import can_manage_merchant, fees_paid, owns_wallet
from wallets.amounts import exact, quantum
from wallets.audit import AuditDraft
from wallets.exceptions import ProductNotAvailable
from wallets.models import AuditEntry
from wallets.operations import Context, Operation, run
from wallets.services import purchase_service, transfer_service
from wallets.services.refunds import refund_wallets
from wallets.staff import StaffActor, acting_as_staff
from wallets.swappable import get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transfer = get_transfer_model()

Action = AuditEntry.Action

REFUND_NOT_ALLOWED = "Only staff or the merchant's managers can refund this order."


# Paying a cart


def _merged(items: Iterable[tuple[Product, int]]) -> list[tuple[Product, int]]:
    """One line per product, so stock is checked against the whole quantity."""
    merged: dict[int, tuple[Product, int]] = {}
    for product, quantity in items:
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise CartInvalid("Quantities must be whole numbers of at least 1.")
        if product.pk in merged:
            merged[product.pk] = (product, merged[product.pk][1] + quantity)
        else:
            merged[product.pk] = (product, quantity)
    if not merged:
        raise CartInvalid("The cart is empty.")
    return list(merged.values())


def _take_stock(product: Product, quantity: int) -> None:
    """Take ``quantity`` from a limited stock, under the product's lock.

    The engine already asked ``purchase_refusal`` under the same lock, so the
    condition only guards against a caller that skipped it: the stock can
    never go below zero, whatever happened.
    """
    limited = Product.objects.filter(pk=product.pk, stock__isnull=False)
    taken = limited.filter(stock__gte=quantity).update(stock=F("stock") - quantity)
    if not taken and limited.exists():
        raise ProductNotAvailable(f"'{product}' is out of stock.", product=product)


def _return_stock(product: Product, quantity: int) -> None:
    Product.objects.filter(pk=product.pk, stock__isnull=False).update(stock=F("stock") + quantity)


def _total_changed(total: Decimal, expected: Decimal, wallet: Wallet) -> CartInvalid:
    places = quantum(wallet.decimal_places)
    return CartInvalid(
        f"The total is now {total.quantize(places)} {wallet.unit}, not "
        f"{expected.quantize(places)}: prices changed since you opened "
        "your cart. Check it and pay again."
    )


def _fee_changed(fee: Decimal, expected: Decimal, wallet: Wallet) -> CartInvalid:
    places = quantum(wallet.decimal_places)
    return CartInvalid(
        f"The fee is now {fee.quantize(places)} {wallet.unit}, not "
        f"{expected.quantize(places)}: the fees changed since you opened your cart. "
        "Check it and pay again."
    )


@exact
def pay_cart(
    buyer: Any,
    wallet: Wallet,
    items: Iterable[tuple[Product, int]],
    idempotency_key: str = "",
    expected_total: Decimal | None = None,
    expected_fee: Decimal | None = None,
) -> Order:
    """Pay for a cart from one of the buyer's wallets and record the order.

    One engine payment: every line is paid, the stock taken and the order
    written in its operation, or nothing happens. A retry with the same
    ``idempotency_key`` returns the first order. With ``expected_total`` and
    ``expected_fee`` (what the customer was shown), a total or a fee that
    changed in the meantime undoes the payment.
    """
    if not owns_wallet(buyer, wallet):
        raise NotAllowed("You can only pay from your own wallets.")
    lines = _merged(items)
    recorded: list[Order] = []

    def record_order(transfers: list[Transfer]) -> None:
        # Inside the payment's operation, with the products and wallets
        # locked: raising here undoes the payment.
        total = sum((t.amount for t in transfers), Decimal(0))
        if expected_total is not None and total != expected_total:
            raise _total_changed(total, expected_total, wallet)
        if expected_fee is not None:
            fee = fees_paid(wallet.pk, [t.pk for t in transfers])
            if fee != expected_fee:
                raise _fee_changed(fee, expected_fee, wallet)
        for product, quantity in lines:
            _take_stock(product, quantity)
        order = Order.objects.create(
            buyer=buyer,
            wallet=wallet,
            unit=wallet.unit,
            total=total,
            idempotency_key=idempotency_key,
        )
        OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                product=product,
                merchant_id=product.merchant_id,
                product_name=product.name,
                quantity=quantity,
                unit_price=Decimal(transfer.meta["unit_price"]),
                amount=transfer.amount,
                transfer=transfer,
            )
            for (product, quantity), transfer in zip(lines, transfers, strict=True)
        )
        recorded.append(order)

    try:
        transfers = purchase_service().pay(
            wallet,
            lines,
            meta={"source": "shop"},
            idempotency_key=f"shop-order:{idempotency_key}" if idempotency_key else None,
            customer=buyer,
            on_paid=record_order,
        )
    except Product.DoesNotExist:
        # Deleted between reading the cart and locking it.
        raise ProductNotAvailable("A product in your cart is no longer sold.") from None
    if recorded:
        return recorded[0]
    # An idempotent replay: the engine returned the first payment's transfers
    # without calling record_order again; their order is the answer.
    return Order.objects.get(lines__transfer=transfers[0])


# Refunding an order


def _refund_plan(
    lines: dict[int, OrderLine], quantities: Mapping[int, int] | None
) -> dict[int, int | None]:
    """Which lines to refund: ``{line_id: quantity}``, or ``{line_id: None}`` for
    all that is left of it. Only the input is checked here; what is left is
    checked again under the operation's locks."""
    if quantities is None:
        left = [pk for pk, line in lines.items() if line.refundable_quantity]
        # Nothing left: still run the operation on every line, so a retried
        # request replays its first result and any other says "refunded in full".
        return dict.fromkeys(left or lines, None)
    plan: dict[int, int | None] = {}
    for pk, quantity in quantities.items():
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise RefundInvalid("Refund quantities must be whole numbers.")
        if int(pk) not in lines:
            raise RefundInvalid("That line is not part of this order.")
        if quantity:
            plan[int(pk)] = quantity
    if not plan:
        raise RefundInvalid("Choose at least one line to refund.")
    return plan


def _refund_actor(
    by: Any, merchant_ids: set[int], reason: str, ip: str | None, staff: bool
) -> StaffActor | None:
    """Staff (audited) or the merchants' own manager (not audited)."""
    if staff:
        return StaffActor(by, reason, ip)
    is_owner = all(can_manage_merchant(by, merchant_id) for merchant_id in merchant_ids)
    try:
        return acting_as_staff(by, Action.REFUND_ORDER, is_owner=is_owner, reason=reason, ip=ip)
    except PermissionDenied:
        raise NotAllowed(REFUND_NOT_ALLOWED) from None


@exact
def refund_order(
    order: Order,
    by: Any,
    quantities: Mapping[int, int] | None = None,
    reason: str = "",
    *,
    idempotency_key: str = "",
    staff: bool = False,
    ip: str | None = None,
) -> list[Transfer]:
    """Refund some lines of an order (``{line_id: quantity}``) or all that is left.

    One engine operation: each line's transfer is refunded (nested engine
    refunds join it), the stock returned and the order's status updated, or
    nothing happens. The merchant's managers refund on their own authority;
    anyone else needs the staff permission and a reason, and the door writes
    one audit entry. ``staff=True`` (the staff console) always acts as staff.
    A retry with the same ``idempotency_key`` returns the first refunds.
    """
    lines = {
        line.pk: line
        for line in order.lines.select_related(
            "product", "transfer__from_wallet", "transfer__to_wallet"
        )
    }
    plan = _refund_plan(lines, quantities)
    chosen = [lines[pk] for pk in sorted(plan)]
    actor = _refund_actor(by, {line.merchant_id for line in chosen}, reason, ip, staff)
    wallets = refund_wallets(line.transfer for line in chosen)

    def perform(context: Context) -> list[Transfer]:
        # The products and wallets of these lines are locked: every refund of
        # them queues here, so the lines read now stay true until commit.
        fresh = OrderLine.objects.select_related(
            "product", "transfer__from_wallet", "transfer__to_wallet"
        ).in_bulk(list(plan))
        if quantities is None and not any(line.refundable_quantity for line in fresh.values()):
            raise RefundInvalid("This order has already been refunded in full.")
        before = Order.objects.values_list("status", flat=True).get(pk=order.pk)
        refunds: list[Transfer] = []
        refunded: dict[str, int] = {}
        # Staff reasons come cleaned from the door; a manager's is their note.
        note = (context.reason or reason.strip())[:200]
        for pk in sorted(plan):
            line = fresh[pk]
            quantity = plan[pk] or line.refundable_quantity
            if not quantity:
                continue
            if quantity > line.refundable_quantity:
                raise RefundInvalid(
                    f"Only {line.refundable_quantity} of '{line.product_name}' can be refunded."
                )
            # The last refund of a line takes exactly what is left of its transfer.
            amount = None if quantity == line.refundable_quantity else line.unit_price * quantity
            meta = {"order": order.number, "reason": note, "quantity": quantity}
            refunds.append(transfer_service().refund(line.transfer, amount, meta=meta))
            OrderLine.objects.filter(pk=pk).update(
                refunded_quantity=F("refunded_quantity") + quantity
            )
            _return_stock(line.product, quantity)
            refunded[str(pk)] = quantity
        _update_status(order)
        context.audit = AuditDraft(
            target=order,
            amount=sum((r.received for r in refunds), Decimal(0)),
            unit=order.unit,
            before={"status": before},
            after={"status": order.status, "lines": refunded},
        )
        return refunds

    refunds = run(
        Operation(
            "refund_order",
            products=[line.product for line in chosen],
            wallets=wallets,
            idempotency_key=idempotency_key or None,
            # Staff keys are scoped to the staff member by the door.
            scope=None if actor else f"user:{by.pk}",
            fingerprint=[
                order.number,
                None if quantities is None else {str(pk): q for pk, q in sorted(plan.items())},
            ],
            actor=actor,
            action=Action.REFUND_ORDER,
        ),
        perform,
    )
    # A replay did not run perform: the caller's order still needs its status.
    order.refresh_from_db(fields=["status"])
    return refunds


def _update_status(order: Order) -> None:
    lines = list(order.lines.all())
    if all(line.refunded_quantity == line.quantity for line in lines):
        status = Order.Status.REFUNDED
    elif any(line.refunded_quantity for line in lines):
        status = Order.Status.PARTIALLY_REFUNDED
    else:
        status = Order.Status.PAID
    Order.objects.filter(pk=order.pk).update(status=status)
    order.status = status
