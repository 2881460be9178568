"""The balance chart: server-rendered SVG with axes, a time range and the value under
the pointer (CSS hover, no script), plus the same figures in words and as a table.

The figures come from ``wallets.selectors.balance_series`` (exact end-of-day balances,
two index-backed queries whatever the history's size); only the drawing is done here.
SVG text scales with the drawing, so a wallet page draws the chart twice, for wide and
narrow screens, and CSS shows the one that fits (the other is ``display: none``, out
of the accessibility tree too).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from django import template
from django.utils.dateformat import format as date_format

from wallets.admin.display import format_amount
from wallets.amounts import exact
from wallets.selectors import SERIES_DAYS, balance_series
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()

register = template.Library()

DEFAULT_DAYS = 30
# (width, height) of a drawing; the 11px text is sized for these boxes at the widths
# they are shown at (a card, or the wide chart of a wallet page).
SIZES = {"narrow": (320, 150), "wide": (560, 220)}
TOP, BOTTOM_MARGIN = 16, 20  # room for the top tick label and the dates under the plot
TICKS = 4
CHARACTER_WIDTH = 6.3  # of the 11px readout text, to size its box


def chart_days(value: Any) -> int:
    """The range asked for (``?days=``), if it is one the chart offers; else 30 days."""
    try:
        days = int(value)
    except (TypeError, ValueError):
        return DEFAULT_DAYS
    return days if days in SERIES_DAYS else DEFAULT_DAYS


@exact
def nice_ticks(low: Decimal, high: Decimal, count: int = TICKS) -> list[Decimal]:
    """Round values covering ``low..high`` for the vertical axis, e.g. 0, 100, 200."""
    if low == high:
        low, high = min(low, Decimal(0)), max(high, Decimal(0))
    if low == high:  # all zero
        return [Decimal(0), Decimal(1)]
    raw = float(high - low) / (count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    step_dec = Decimal(repr(step)).normalize()
    start = (low / step_dec).to_integral_value(ROUND_FLOOR) * step_dec
    end = (high / step_dec).to_integral_value(ROUND_CEILING) * step_dec
    ticks = []
    value = start
    while value <= end:
        ticks.append(value)
        value += step_dec
    return ticks if len(ticks) > 1 else [start, start + step_dec]


def _tick_places(values: list[Decimal], wallet: Wallet) -> int:
    """Decimals the tick labels need: as few as the round values allow."""
    needed = max((max(-v.normalize().as_tuple().exponent, 0) for v in values), default=0)
    return min(needed, wallet.decimal_places)


def _day(day: date) -> str:
    return date_format(day, "M j")


@dataclass(frozen=True)
class Column:
    """One day: the strip the pointer hovers, the point, and where its readout sits."""

    x: float
    left: float
    width: float
    y: float
    label: str
    box_x: float
    box_width: float
    text_x: float


@exact
def drawing(
    series: list[tuple[date, Decimal]], wallet: Wallet, width: int, height: int, name: str
) -> dict[str, Any]:
    """The SVG geometry of a series in a box ``width`` wide and ``height`` high."""
    values = [balance for _, balance in series]
    bottom = height - BOTTOM_MARGIN
    ticks = nice_ticks(min(values), max(values))
    low, high = ticks[0], ticks[-1]

    def y_of(value: Decimal) -> float:
        return round(bottom - float((value - low) / (high - low)) * (bottom - TOP), 1)

    count = len(values)
    step = width / max(count - 1, 1)
    columns = []
    for index, (day, balance) in enumerate(series):
        x = round(index * step, 1)
        text = f"{_day(day)}: {format_amount(balance, wallet.decimal_places, wallet.unit)}"
        box_width = round(len(text) * CHARACTER_WIDTH + 10, 1)
        box_x = round(min(max(x - box_width / 2, 0), width - box_width), 1)
        columns.append(
            Column(
                x=x,
                left=round(max(x - step / 2, 0), 1),
                width=round(step if 0 < index < count - 1 else step / 2, 1),
                y=y_of(balance),
                label=text,
                box_x=box_x,
                box_width=box_width,
                text_x=round(box_x + box_width / 2, 1),
            )
        )
    points = " ".join(f"{c.x},{c.y}" for c in columns)
    places = _tick_places(ticks, wallet)
    # A wallet that held nothing all along gets one labelled line, at zero.
    empty = not any(values)
    return {
        "name": name,
        "width": width,
        "height": height,
        "top": TOP,
        "bottom": bottom,
        "date_y": height - 4,
        "points": points,
        "area": f"0,{bottom} {points} {width},{bottom}",
        "columns": columns,
        "y_ticks": [
            {
                "y": y_of(tick),
                "label_y": round(y_of(tick) - 3, 1),
                "label": (
                    format_amount(tick, places, wallet.unit if tick == high or empty else "")
                    if tick == 0 or not empty
                    else ""
                ),
                "zero": tick == 0,
            }
            for tick in ticks
        ],
        "x_ticks": [
            {"x": 0, "anchor": "start", "label": _day(series[0][0])},
            {"x": round(width / 2, 1), "anchor": "middle", "label": _day(series[count // 2][0])},
            {"x": width, "anchor": "end", "label": "Today"},
        ],
    }


@exact
def chart_context(wallet: Wallet, days: int, size: str, label: str) -> dict[str, Any]:
    """Everything the chart template shows: drawings, the summary in words, the figures."""
    series = balance_series(wallet, days=days)
    values = [balance for _, balance in series]

    def amount(value: Decimal) -> str:
        return format_amount(value, wallet.decimal_places, wallet.unit)

    def signed(value: Decimal) -> str:
        return format_amount(value, wallet.decimal_places, wallet.unit, signed=True)

    lowest, highest = min(values), max(values)
    summary = (
        f"Balance of {label} over the last {days} days: {amount(values[0])} on "
        f"{_day(series[0][0])}, {amount(values[-1])} today; lowest {amount(lowest)}, "
        f"highest {amount(highest)}."
    )
    sizes = ["wide", "narrow"] if size == "page" else ["narrow"]
    return {
        "wallet": wallet,
        "days": days,
        "size": size,
        "drawings": [drawing(series, wallet, *SIZES[name], name) for name in sizes],
        "summary": summary,
        "stats": [
            ("Now", amount(values[-1])),
            (f"Change in {days} days", signed(values[-1] - values[0])),
            ("Highest", amount(highest)),
            ("Lowest", amount(lowest)),
        ],
        "rows": [
            {
                "day": day,
                "balance": amount(balance),
                "change": signed(balance - series[index - 1][1])
                if index and balance != series[index - 1][1]
                else "",
            }
            for index, (day, balance) in enumerate(series)
        ][::-1],
    }


@register.inclusion_tag("portal/includes/balance_chart.html", takes_context=True)
def balance_chart(
    context: template.Context, wallet: Wallet, days: int = DEFAULT_DAYS, size: str = "card"
) -> dict[str, Any]:
    """``{% balance_chart wallet days %}`` on a card, ``… "page" %}`` on a wallet page."""
    from portal.selectors import wallet_title

    request = context.get("request")
    viewer = getattr(request, "user", None)
    label = wallet_title(wallet, viewer if getattr(viewer, "is_authenticated", False) else None)
    return chart_context(wallet, chart_days(days), size, label)
