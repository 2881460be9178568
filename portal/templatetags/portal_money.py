"""How amounts are written on every page: one rule, ``wallets.admin.display.format_amount``.

The wallet's decimal places, the active language's grouping and decimal separators, the
sign in front and the unit after the number: ``1,234.50 USD``, ``-3.00 USD``,
``1,500 PTS``. Pages, messages, errors, the staff console, CSV exports (in the machine
form, ``plain_amount``), the admin and emails all go through it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from wallets.admin.display import format_amount
from wallets.admin.display import plain_amount as plain_text
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()

register = template.Library()


def _blank(value: Any) -> bool:
    return value is None or value == ""


def plain_amount(value: Decimal, wallet: Wallet) -> str:
    """A machine-readable amount at the wallet's precision, e.g. ``-3.00`` (for exports)."""
    return plain_text(value, wallet.decimal_places)


@register.filter
def money(value: Any, wallet: Wallet | None = None) -> str:
    """``value`` as people read it: ``1,234.50 USD`` (no unit without a wallet)."""
    if _blank(value):
        return ""
    if wallet is None:
        return format_amount(value, 2)
    return format_amount(value, wallet.decimal_places, wallet.unit)


@register.filter
def signed_money(value: Any, wallet: Wallet | None = None) -> str:
    """Like ``money`` but always with a sign, so direction never relies on colour."""
    if _blank(value):
        return ""
    if wallet is None:
        return format_amount(value, 2, signed=True)
    return format_amount(value, wallet.decimal_places, wallet.unit, signed=True)


@register.filter
def money_in(value: Any, unit: str) -> str:
    """An amount known by its unit only (prices, orders, audit entries): ``24.00 USD``."""
    from portal.selectors import unit_decimal_places

    if _blank(value):
        return ""
    return format_amount(value, unit_decimal_places(unit), unit)


@register.filter
def amount(value: Any, wallet: Wallet) -> str:
    """The number alone, by the same rule (where the unit is written next to it)."""
    if _blank(value):
        return ""
    return format_amount(value, wallet.decimal_places)


@register.filter
def amount_in(value: Any, unit: str) -> str:
    """The number alone for an amount known by its unit (table cells under a unit)."""
    from portal.selectors import unit_decimal_places

    if _blank(value):
        return ""
    return format_amount(value, unit_decimal_places(unit))


@register.filter
def rate(value: Any) -> str:
    """An exchange rate without trailing zeros: ``0.92``, ``100``."""
    if _blank(value):
        return ""
    return f"{Decimal(value).normalize():f}"
