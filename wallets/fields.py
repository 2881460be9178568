"""An exact decimal column that behaves the same on PostgreSQL and SQLite.

PostgreSQL stores amounts as ``numeric(38, 18)``, which is exact. SQLite has no
exact decimal type: its NUMERIC affinity turns values into 64-bit floats, which
lose digits past the fifteenth. There the field stores a fixed-width text that
sorts in numeric order, so equality, range lookups and ORDER BY stay exact and
correct. Arithmetic on amounts is done in Python under the wallet lock, never in
SQL; aggregating an amount column in SQL on SQLite is refused loudly rather than
answered with a float (use :func:`wallets.selectors.sum_amounts`).
"""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation, localcontext
from typing import Any

from django.db import models

INTEGER_DIGITS = 20
FRACTION_DIGITS = 18
MAX_DIGITS = INTEGER_DIGITS + FRACTION_DIGITS
LIMIT = Decimal(10) ** INTEGER_DIGITS
_QUANTUM = Decimal(1).scaleb(-FRACTION_DIGITS)
_WIDTH = INTEGER_DIGITS + FRACTION_DIGITS
_COMPLEMENT = str.maketrans("0123456789", "9876543210")
# Wide enough for any amount a column holds, and for products and sums of them,
# so no arithmetic on money is ever silently rounded by the default 28 digits.
MONEY_CONTEXT = Context(prec=80)


_ONE = Decimal(1)


def tidy(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation.

    Runs on every amount read from the database: the context is passed to
    each call rather than entered, which costs a fifth as much."""
    if value == value.to_integral_value():
        return value.quantize(_ONE, context=MONEY_CONTEXT)
    return value.normalize(MONEY_CONTEXT)


def encode_sortable(value: Decimal) -> str:
    """Encode a decimal as text whose string order is its numeric order."""
    with localcontext(MONEY_CONTEXT):
        scaled = value.quantize(_QUANTUM)
        if scaled != value:
            raise ValueError(f"{value} has more than {FRACTION_DIGITS} decimal places")
        if abs(scaled) >= LIMIT:
            raise ValueError(f"{value} is outside the range an amount column can hold")
        digits = f"{abs(scaled).scaleb(FRACTION_DIGITS):0{_WIDTH}.0f}"
    if scaled < 0:
        # Negative numbers sort before "P"; complementing the digits makes
        # larger magnitudes sort first, as they should.
        return "N" + digits.translate(_COMPLEMENT)
    return "P" + digits


def decode_sortable(text: str) -> Decimal:
    sign, digits = text[0], text[1:]
    if sign == "N":
        digits = digits.translate(_COMPLEMENT)
    with localcontext(MONEY_CONTEXT):
        value = Decimal(digits).scaleb(-FRACTION_DIGITS)
        return tidy(-value if sign == "N" else value)


class AmountField(models.Field):
    """An exact amount: ``Decimal`` in Python, exact in every database."""

    description = "Exact decimal amount"

    def get_internal_type(self) -> str:
        return "AmountField"

    def db_type(self, connection) -> str:
        if connection.vendor == "sqlite":
            return "text"
        return f"numeric({MAX_DIGITS}, {FRACTION_DIGITS})"

    def to_python(self, value: Any) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        try:
            return Decimal(str(value))
        except InvalidOperation as exc:
            raise ValueError(f"{value!r} is not a decimal amount") from exc

    def get_prep_value(self, value: Any) -> Decimal | None:
        value = super().get_prep_value(value)
        return self.to_python(value)

    def get_db_prep_value(self, value: Any, connection, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if value is None:
            return None
        if connection.vendor == "sqlite":
            return encode_sortable(value)
        return value

    def from_db_value(self, value: Any, expression, connection) -> Decimal | None:
        if value is None:
            return None
        if connection.vendor == "sqlite":
            if not isinstance(value, str):
                raise TypeError(
                    "SQL arithmetic on amount columns is not exact on SQLite; "
                    "sum amounts with wallets.selectors.sum_amounts()"
                )
            return decode_sortable(value)
        return tidy(Decimal(value))

    def formfield(self, **kwargs):
        from django import forms

        return super().formfield(**{"form_class": forms.DecimalField, **kwargs})
