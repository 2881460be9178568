"""Turning user input into an exact amount, or refusing it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any, TypeVar

from wallets.exceptions import AmountInvalid
from wallets.fields import LIMIT, MONEY_CONTEXT, tidy

F = TypeVar("F", bound=Callable[..., Any])


def exact(func: F) -> F:
    """Run ``func`` with a decimal context wide enough that money never rounds."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
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
    if amount != amount.quantize(Decimal(1).scaleb(-decimal_places), rounding="ROUND_DOWN"):
        raise AmountInvalid(f"The amount {amount} has more than {decimal_places} decimal places.")
    return tidy(amount)


def check_in_range(balance: Decimal) -> None:
    if abs(balance) >= LIMIT:
        raise AmountInvalid("The operation would take the balance out of range.")


def quantum(decimal_places: int) -> Decimal:
    return Decimal(1).scaleb(-decimal_places)
