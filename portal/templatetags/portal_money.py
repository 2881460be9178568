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


# Credit limits: what a wallet may spend beyond its own money, said wherever
# available funds are, so a larger "available" than balance is never a surprise.


def has_credit(wallet: Wallet | None) -> bool:
    return wallet is not None and bool(getattr(wallet, "credit_limit", 0))


@register.filter
def credit_note(wallet: Wallet | None) -> str:
    """ "incl. 500.00 USD credit" for a wallet with a credit limit; "" otherwise."""
    if not has_credit(wallet):
        return ""
    return f"incl. {money(wallet.credit_limit, wallet)} credit"


@register.filter
def available_text(wallet: Wallet, value: Any = None) -> str:
    """ "1,200.00 USD available incl. 500.00 USD credit" (``value``: another available
    amount of the wallet than its current one, e.g. after a planned transfer)."""
    amount_text = money(wallet.available if _blank(value) else value, wallet)
    note = credit_note(wallet)
    return f"{amount_text} available {note}" if note else f"{amount_text} available"


@register.filter
def using_credit(wallet: Wallet, balance: Any = None) -> bool:
    """True when the balance (``balance``, or the wallet's own) is below zero and
    the wallet has a credit limit: it is spending its credit."""
    value = wallet.balance if _blank(balance) else balance
    return has_credit(wallet) and Decimal(value) < 0
