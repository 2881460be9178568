"""Display helpers for amounts and the server-rendered balance chart."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.safestring import SafeString

from wallets.models import Wallet
from wallets.selectors import balance_series

register = template.Library()

CHART_WIDTH = 300
CHART_HEIGHT = 60


def _quantize(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places)) if places else value.quantize(Decimal(1))


def plain_amount(value: Decimal, wallet: Wallet) -> str:
    """A machine-readable amount at the wallet's precision, e.g. ``-3.00`` (for exports)."""
    return f"{_quantize(Decimal(value), wallet.decimal_places):f}"


@register.filter
def money(value: Any, wallet: Wallet | None = None) -> str:
    """``value`` with the wallet's decimal places and unit, e.g. ``1,234.50 USD``."""
    if value is None or value == "":
        return ""
    amount = Decimal(value)
    places = wallet.decimal_places if wallet is not None else 2
    text = intcomma(f"{_quantize(amount, places):f}", use_l10n=False)
    return f"{text} {wallet.unit}" if wallet is not None else text


@register.filter
def signed_money(value: Any, wallet: Wallet | None = None) -> str:
    """Like ``money`` but always with a sign, so direction never relies on colour."""
    if value is None or value == "":
        return ""
    amount = Decimal(value)
    text = money(abs(amount), wallet)
    return f"\N{MINUS SIGN}{text}" if amount < 0 else f"+{text}"


@register.inclusion_tag("portal/includes/balance_chart.html")
def balance_chart(wallet: Wallet, days: int = 30) -> dict[str, Any]:
    """An SVG polyline of the end-of-day balance over the last ``days`` days."""
    series = balance_series(wallet, days=days)
    values = [balance for _, balance in series]
    low, high = min(values), max(values)
    span = (high - low) or Decimal(1)
    step = Decimal(CHART_WIDTH) / max(len(values) - 1, 1)
    points = []
    for index, value in enumerate(values):
        x = step * index
        y = Decimal(CHART_HEIGHT - 4) - (value - low) / span * Decimal(CHART_HEIGHT - 8)
        points.append(f"{float(x):.1f},{float(y):.1f}")
    area = f"0,{CHART_HEIGHT} " + " ".join(points) + f" {CHART_WIDTH},{CHART_HEIGHT}"
    first_day, last_day = series[0][0], series[-1][0]
    summary = (
        f"Balance from {first_day:%b %-d} to {last_day:%b %-d}: "
        f"lowest {money(low, wallet)}, highest {money(high, wallet)}, "
        f"now {money(values[-1], wallet)}."
    )
    return {
        "wallet": wallet,
        "points": SafeString(" ".join(points)),
        "area": SafeString(area),
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "summary": summary,
    }


@register.filter
def rate(value: Any) -> str:
    """An exchange rate without trailing zeros: ``0.92``, ``100``."""
    if value is None or value == "":
        return ""
    return f"{Decimal(value).normalize():f}"
