"""The cart, kept in the visitor's session as ``{product_id: quantity}``."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shop.exceptions import CartInvalid
from shop.models import Product
from shop.selectors import price_for, product_availability_problem
from wallets.amounts import exact

SESSION_KEY = "shop_cart"
MAX_QUANTITY = 99


@dataclass
class CartLine:
    product: Product
    quantity: int
    unit_price: Decimal
    problem: str | None

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


def _raw(session: MutableMapping[str, Any]) -> dict[str, int]:
    return dict(session.get(SESSION_KEY) or {})


def add(session: MutableMapping[str, Any], product: Product, quantity: int) -> None:
    if quantity < 1:
        raise CartInvalid("Add at least one.")
    cart = _raw(session)
    cart[str(product.pk)] = min(cart.get(str(product.pk), 0) + quantity, MAX_QUANTITY)
    session[SESSION_KEY] = cart


def set_quantity(session: MutableMapping[str, Any], product_id: int, quantity: int) -> None:
    cart = _raw(session)
    if quantity <= 0:
        cart.pop(str(product_id), None)
    else:
        cart[str(product_id)] = min(quantity, MAX_QUANTITY)
    session[SESSION_KEY] = cart


def clear(session: MutableMapping[str, Any]) -> None:
    session.pop(SESSION_KEY, None)


def drop_missing(session: MutableMapping[str, Any]) -> int:
    """Remove products that no longer exist; returns how many lines went."""
    cart = _raw(session)
    existing = set(
        Product.objects.filter(pk__in=[int(pk) for pk in cart]).values_list("pk", flat=True)
    )
    missing = [pk for pk in cart if int(pk) not in existing]
    for pk in missing:
        cart.pop(pk)
    if missing:
        session[SESSION_KEY] = cart
    return len(missing)


def count(session: MutableMapping[str, Any]) -> int:
    return sum(_raw(session).values())


@exact
def lines(session: MutableMapping[str, Any], customer: Any) -> list[CartLine]:
    """The cart's products as they are now; products gone from the catalog drop out."""
    cart = _raw(session)
    products = Product.objects.select_related("merchant").in_bulk([int(pk) for pk in cart])
    result = []
    for pk, quantity in cart.items():
        product = products.get(int(pk))
        if product is None:
            continue
        result.append(
            CartLine(
                product=product,
                quantity=quantity,
                unit_price=price_for(product, customer),
                problem=product_availability_problem(product, customer, quantity),
            )
        )
    return sorted(result, key=lambda line: (line.product.name, line.product.pk))


@exact
def totals_by_unit(cart_lines: list[CartLine]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for line in cart_lines:
        totals[line.product.unit] = totals.get(line.product.unit, Decimal(0)) + line.amount
    return totals
