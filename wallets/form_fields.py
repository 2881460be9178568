"""The form field every money form reads its amount with (portal, shop, staff console, admin).

It applies :func:`wallets.amounts.parse_amount_text`, the same rule the merchant
API uses, so full-width or Arabic-Indic digits, "1e2" or "1,000" are refused everywhere with one
message instead of being converted by ``Decimal()``. The wallet's own decimal
places are still checked by the engine; ``decimal_places`` here is only the
widest any wallet allows.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

from django import forms

from wallets.amounts import AMOUNT_HINT, exact, parse_amount_text, quantum
from wallets.exceptions import AmountInvalid
from wallets.fields import LIMIT

# Every message says what to type, in the words of someone filling in a form.
POSITIVE_MESSAGE = "Enter an amount greater than zero, like 12.50."
TOO_LARGE_MESSAGE = "That amount is too large. Enter a smaller one, like 12.50."
PLACES_MESSAGE = "Enter an amount with at most {places} decimal places, like 12.50."


def places_message(unit: str, decimal_places: int) -> str:
    """What a wallet in ``unit`` takes: "USD takes at most 2 decimal places."."""
    if decimal_places == 0:
        return f"{unit} takes whole numbers only, like 12."
    if decimal_places == 1:
        return f"{unit} takes at most 1 decimal place."
    return f"{unit} takes at most {decimal_places} decimal places."


def amount_text(value: Decimal) -> str:
    """A decimal written out in full ("100", never "1E+2")."""
    return format(value, "f")


class AmountFormField(forms.Field):
    """A typed amount: ASCII digits, at most one ".", no exponent; blanks around it trimmed.

    Rendered as a text input (``type="number"`` lets browsers rewrite what was
    typed); a bound value that parses is shown in its exact canonical form, so a
    review step's hidden inputs carry exactly the amount that will be sent.
    """

    widget = forms.TextInput(
        attrs={"inputmode": "decimal", "autocomplete": "off", "spellcheck": "false"}
    )
    default_error_messages = {
        "invalid": AMOUNT_HINT,
        "positive": POSITIVE_MESSAGE,
        "too_large": TOO_LARGE_MESSAGE,
        "decimal_places": PLACES_MESSAGE,
    }

    def __init__(
        self,
        *,
        decimal_places: int | None = None,
        allow_zero: bool = False,
        allow_negative: bool = False,
        **kwargs: Any,
    ) -> None:
        self.decimal_places = decimal_places
        self.allow_zero = allow_zero
        self.allow_negative = allow_negative
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, Decimal):
            return value
        try:
            return parse_amount_text(str(value), allow_negative=self.allow_negative)
        except AmountInvalid as error:
            if error.message == AMOUNT_HINT:
                raise forms.ValidationError(
                    self.error_messages["invalid"], code="invalid"
                ) from None
            # A number with a minus where none is allowed: the sign is what is wrong.
            raise forms.ValidationError(self.error_messages["positive"], code="positive") from None

    @exact
    def validate(self, value: Decimal | None) -> None:
        super().validate(value)
        if value is None:
            return
        if value < 0 and not self.allow_negative:
            raise forms.ValidationError(self.error_messages["positive"], code="positive")
        if value == 0 and not self.allow_zero:
            raise forms.ValidationError(self.error_messages["positive"], code="positive")
        if abs(value) >= LIMIT:
            raise forms.ValidationError(self.error_messages["too_large"], code="too_large")
        # "1.50" has two decimal places in a one-place field only in writing.
        if self.decimal_places is not None and value != value.quantize(
            quantum(self.decimal_places), rounding=ROUND_DOWN
        ):
            raise forms.ValidationError(
                self.error_messages["decimal_places"].format(places=self.decimal_places),
                code="decimal_places",
            )

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            return amount_text(value)
        if isinstance(value, str) and value.strip():
            try:
                return amount_text(parse_amount_text(value, allow_negative=self.allow_negative))
            except AmountInvalid:
                # Shown back as typed, next to its error.
                return value
        return value
