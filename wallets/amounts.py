"""Turning user input into an exact amount, or refusing it."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation, getcontext, localcontext
from typing import Any, TypeVar

from wallets.exceptions import AmountInvalid
from wallets.fields import LIMIT, MONEY_CONTEXT, tidy

F = TypeVar("F", bound=Callable[..., Any])


def exact(func: F) -> F:
    """Run ``func`` with a decimal context wide enough that money never rounds.

    Under a context at least that precise (an outer ``exact`` call: a bulk
    operation makes thousands of inner ones) it runs in that context as is."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if getcontext().prec >= MONEY_CONTEXT.prec:
            return func(*args, **kwargs)
        with localcontext(MONEY_CONTEXT):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


Amount = Decimal | int | float | str


@exact
def to_decimal(value: Any) -> Decimal:
    """Convert without judging sign or scale: floats go through their decimal string."""
    if isinstance(value, bool):
        raise AmountInvalid(f"{value!r} is not an amount.")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        # repr() gives the shortest string that round-trips, so 0.1 is "0.1",
        # not 0.1000000000000000055511151231257827...
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise AmountInvalid(f"{value!r} is not a number.") from None
    else:
        raise AmountInvalid(f"{value!r} is not an amount.")
    if not result.is_finite():
        raise AmountInvalid("The amount must be a finite number.")
    return result


@exact
def parse_amount(value: Any, decimal_places: int) -> Decimal:
    """A strictly positive amount with at most ``decimal_places`` decimals."""
    amount = to_decimal(value)
    if amount <= 0:
        raise AmountInvalid("The amount must be greater than zero.")
    if amount >= LIMIT:
        raise AmountInvalid("The amount is too large.")
    if amount != amount.quantize(quantum(decimal_places), rounding="ROUND_DOWN"):
        raise AmountInvalid(f"The amount {amount} has more than {decimal_places} decimal places.")
    return tidy(amount)


# What a person types, or a merchant sends as a JSON string: ASCII digits with at
# most one ".", and a minus only where the caller allows it. No exponent, no
# thousands separators, no digits of other scripts (Arabic-Indic, full-width), which
# Decimal() would otherwise accept and convert.
AMOUNT_HINT = "Enter an amount like 12.50."
_AMOUNT_TEXT = re.compile(r"(-?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
# Only ASCII blanks around the number are forgiven; any other space is refused.
_TRIMMED = " \t\r\n"


@exact
def parse_amount_text(text: str, *, allow_negative: bool = False) -> Decimal:
    """The one rule for amounts typed in forms or sent as strings to the API.

    Returns the exact decimal written, sign and scale unjudged beyond the sign
    rule (``parse_amount`` checks positivity and decimal places); raises
    AmountInvalid with :data:`AMOUNT_HINT` for anything else. Programmatic
    callers passing Decimals and ints keep using ``parse_amount``.
    """
    if not isinstance(text, str):
        raise AmountInvalid(AMOUNT_HINT)
    match = _AMOUNT_TEXT.fullmatch(text.strip(_TRIMMED))
    if match is None:
        raise AmountInvalid(AMOUNT_HINT)
    sign, digits = match.groups()
    if sign and not allow_negative:
        # A clearer message than the hint: the number was fine, the sign was not.
        raise AmountInvalid("Enter an amount greater than zero.")
    return Decimal(sign + digits)


def check_in_range(balance: Decimal) -> None:
    if abs(balance) >= LIMIT:
        raise AmountInvalid("The operation would take the balance out of range.")


@functools.cache
def quantum(decimal_places: int) -> Decimal:
    """The smallest step at ``decimal_places``: 0.01 for 2. Made once per scale,
    as every amount checked is quantized to one."""
    return Decimal(1).scaleb(-decimal_places)
