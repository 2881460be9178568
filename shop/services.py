"""Writers of the shop: paying a cart, taking and returning stock, refunds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F

from shop.exceptions import CartInvalid, NotAllowed, RefundInvalid
from shop.models import Order, OrderLine, Product
from shop.selectors import can_manage_merchant, owns_wallet, product_availability_problem
from wallets import moderation
from wallets.amounts import exact, quantum
from wallets.exceptions import ProductNotAvailable
from wallets.locking import lock_products
from wallets.models import Transfer, Wallet
from wallets.services import purchase_service, transfer_service


def take_stock(product: Product, quantity: int) -> None:
    """Called by the engine under the product's row lock, inside the payment."""
    Product.objects.filter(pk=product.pk, stock__isnull=False).update(stock=F("stock") - quantity)


def return_stock(product: Product, quantity: int) -> None:
    Product.objects.filter(pk=product.pk, stock__isnull=False).update(stock=F("stock") + quantity)


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


@exact
def pay_cart(
    buyer: Any,
    wallet: Wallet,
    items: Iterable[tuple[Product, int]],
    idempotency_key: str = "",
    expected_total: Decimal | None = None,
) -> Order:
    """Pay for a cart from one of the buyer's wallets and record the order.

    One engine operation: every line is paid, the stock taken and the order
    written in a single database transaction, or nothing happens. A retry with
    the same ``idempotency_key`` returns the first order. With
    ``expected_total`` (what the customer was shown), a total that changed in
    the meantime rolls everything back.
    """
    if not owns_wallet(buyer, wallet):
        raise NotAllowed("You can only pay from your own wallets.")
    lines = _merged(items)
    retry = bool(idempotency_key) and (
        Order.objects.filter(buyer=buyer, idempotency_key=idempotency_key).exists()
    )
    if not retry:
        # A clear message before locking anything; the engine asks again under lock.
        _raise_unavailable(buyer, lines)
    engine_key = f"shop-order:{idempotency_key}" if idempotency_key else None
    with transaction.atomic():
        try:
            transfers = purchase_service().pay(
                wallet,
                lines,
                meta={"source": "shop"},
                idempotency_key=engine_key,
                customer=buyer,
            )
        except ProductNotAvailable:
            # Something changed since the check above: say what, not just "no".
            _raise_unavailable(buyer, lines)
            raise
        if idempotency_key:
            existing = Order.objects.filter(buyer=buyer, idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        total = sum((t.amount for t in transfers), Decimal(0))
        if expected_total is not None and total != expected_total:
            # Raising here undoes the payment: it is the same transaction.
            places = quantum(wallet.decimal_places)
            raise CartInvalid(
                f"The total is now {total.quantize(places)} {wallet.unit}, not "
                f"{expected_total.quantize(places)}: prices changed since you opened "
                "your cart. Check it and pay again."
            )
        order = Order.objects.create(
            buyer=buyer,
            wallet=wallet,
            unit=wallet.unit,
            total=total,
            idempotency_key=idempotency_key,
        )
        OrderLine.objects.bulk_create(
            [
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
            ]
        )
    return order


def _raise_unavailable(buyer: Any, lines: list[tuple[Product, int]]) -> None:
    fresh = Product.objects.select_related("merchant").in_bulk([p.pk for p, _ in lines])
    for product, quantity in lines:
        current = fresh.get(product.pk)
        if current is None:
            raise ProductNotAvailable(f"'{product}' is no longer sold.")
        problem = product_availability_problem(current, buyer, quantity)
        if problem:
            raise ProductNotAvailable(problem)


def is_staff_refund(user: Any, merchant_id: int) -> bool:
    """Staff acting for a merchant they do not manage: that is audited."""
    return moderation.can(user, moderation.Action.REFUND_ORDER) and not can_manage_merchant(
        user, merchant_id
    )


def can_refund(user: Any, line: OrderLine) -> bool:
    return moderation.can(user, moderation.Action.REFUND_ORDER) or can_manage_merchant(
        user, line.merchant_id
    )


@exact
def refund_order(
    order: Order,
    by: Any,
    quantities: Mapping[int, int] | None = None,
    reason: str = "",
) -> list[Transfer]:
    """Refund some lines of an order (``{line_id: quantity}``) or all that is left.

    Money goes back through the engine's refund of each line's transfer, the
    stock is returned, and the order's status follows. All or nothing. Staff
    refunds need a reason and write an audit entry in the same transaction.
    """
    with transaction.atomic():
        all_lines = {line.pk: line for line in order.lines.select_related("product")}
        if quantities is None:
            wanted = {pk: line.refundable_quantity for pk, line in all_lines.items()}
            wanted = {pk: qty for pk, qty in wanted.items() if qty > 0}
            if not wanted:
                raise RefundInvalid("This order has already been refunded in full.")
        else:
            wanted = {int(pk): qty for pk, qty in quantities.items() if qty}
            if not wanted:
                raise RefundInvalid("Choose at least one line to refund.")
        for pk, qty in wanted.items():
            line = all_lines.get(pk)
            if line is None:
                raise RefundInvalid("That line is not part of this order.")
            if not can_refund(by, line):
                raise NotAllowed("Only staff or the merchant's managers can refund this order.")
            if isinstance(qty, bool) or not isinstance(qty, int) or qty < 0:
                raise RefundInvalid("Refund quantities must be whole numbers.")
        # Same order as every money path: products, then (inside refund) wallets.
        lock_products(all_lines[pk].product for pk in wanted)
        locked = OrderLine.objects.select_for_update().in_bulk(list(wanted))
        refunds = []
        for pk in sorted(wanted):
            line, qty = locked[pk], wanted[pk]
            if qty > line.refundable_quantity:
                raise RefundInvalid(
                    f"Only {line.refundable_quantity} of '{line.product_name}' can be refunded."
                )
            # The last refund of a line takes exactly what is left of its transfer.
            amount = None if qty == line.refundable_quantity else line.unit_price * qty
            refunds.append(
                transfer_service().refund(
                    line.transfer,
                    amount,
                    meta={"order": order.number, "reason": reason[:200], "quantity": qty},
                )
            )
            OrderLine.objects.filter(pk=pk).update(refunded_quantity=F("refunded_quantity") + qty)
            return_stock(line.product, qty)
        before_status = order.status
        _update_status(order)
        if any(is_staff_refund(by, all_lines[pk].merchant_id) for pk in wanted):
            reason = (reason or "").strip()
            if not reason:
                raise moderation.ReasonRequired()
            moderation.record(
                actor=by,
                action=moderation.Action.REFUND_ORDER,
                target=order,
                reason=reason,
                before={"status": before_status},
                after={
                    "status": order.status,
                    "lines": {str(pk): qty for pk, qty in sorted(wanted.items())},
                },
                amount=sum((r.received for r in refunds), Decimal(0)),
                unit=order.unit,
            )
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
