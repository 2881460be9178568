from __future__ import annotations

from decimal import Decimal

from django import template

from shop.checkout.selectors import money as money_text
from wallets.amounts import quantum

register = template.Library()


@register.filter
def money(value: Decimal | None, unit_or_places: str | int) -> str:
    """``{{ amount|money:"USD" }}`` or ``{{ amount|money:wallet.decimal_places }}``."""
    if value is None:
        return ""
    if isinstance(unit_or_places, int):
        if -value.as_tuple().exponent > unit_or_places:
            return str(value)
        return str(value.quantize(quantum(unit_or_places)))
    return money_text(value, str(unit_or_places))
