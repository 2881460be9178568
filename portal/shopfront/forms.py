"""Forms of the shop pages. Every form that moves money carries a hidden
idempotency key made when the form is shown, so a resubmission moves it once."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms

from portal.templatetags.portal_money import available_text
from shop.selectors import fees_differ
from wallets.form_fields import AmountFormField


class IdempotencyKeyMixin(forms.Form):
    """A hidden key made when the form is first shown; the view passes it to the
    service, so a resubmitted form (double click, resent request) moves money once.

    The shop's counterpart of ``portal.forms.IdempotencyKeyMixin``, kept here so
    the shop pages do not depend on the portal's form error handling.
    """

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)


class PaymentFormMixin(forms.Form):
    """A form that pays from a chosen ``wallet``, with hidden fields holding
    what the customer was shown (total, fee, key).

    Wallets whose decimal places round a fee differently are shown each with
    its own fee, posted as ``fee-<pk>``: the payment expects the fee of the
    wallet chosen. Without one, the single ``expected_fee`` counts."""

    STALE = "This page was out of date. Check the amounts shown and pay again."

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        shown = self.data.get(f"fee-{data.get('wallet')}")
        if shown is not None:
            try:
                data["expected_fee"] = self.fields["expected_fee"].clean(shown)
            except forms.ValidationError as error:
                self.add_error("expected_fee", error)
        return data

    @property
    def stale(self) -> bool:
        """Invalid for a hidden field missing or altered, not for the wallet:
        the page must be shown afresh rather than the form again."""
        return not self.is_valid() and "wallet" not in self.errors

    def problem(self) -> str:
        """What to tell the customer when the form does not validate."""
        return self.STALE if self.stale else "Choose a wallet to pay from."


class CatalogFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=100)
    category = forms.ChoiceField(
        required=False, label="Category", widget=forms.Select(attrs={"class": "form-select"})
    )
    min_price = forms.DecimalField(required=False, label="Min price", min_value=0, max_digits=20)
    max_price = forms.DecimalField(required=False, label="Max price", min_value=0, max_digits=20)
    sort = forms.ChoiceField(
        required=False,
        label="Sort",
        widget=forms.Select(attrs={"class": "form-select"}),
        choices=[
            ("name", "Name"),
            ("price", "Price: low to high"),
            ("-price", "Price: high to low"),
            ("new", "Newest"),
        ],
    )

    def __init__(self, *args: Any, categories: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "All"), *[(c, c) for c in categories]]


class AddToCartForm(forms.Form):
    quantity = forms.IntegerField(min_value=1, max_value=99, initial=1)


class CartQuantityForm(forms.Form):
    product = forms.IntegerField()
    quantity = forms.IntegerField(min_value=0, max_value=99)


class CartCheckoutForm(PaymentFormMixin, IdempotencyKeyMixin, forms.Form):
    wallet = forms.TypedChoiceField(coerce=int, label="Pay from")
    # The total the customer saw; the payment is refused if it changed.
    expected_total = forms.DecimalField(widget=forms.HiddenInput, max_digits=40, required=False)
    # And the fee it was shown on top (0: none); a changed fee refuses the payment.
    expected_fee = forms.DecimalField(widget=forms.HiddenInput, max_digits=40, required=False)

    def __init__(
        self,
        *args: Any,
        wallets: list,
        total: Any = None,
        fee: Any = None,
        fees: dict | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and total is not None:
            self.initial["expected_total"] = total
            self.initial["expected_fee"] = fee or 0
        self.wallets = {w.pk: w for w in wallets}
        self.fields["wallet"].choices = [(w.pk, f"{w.name} ({available_text(w)})") for w in wallets]
        # The fee each wallet would pay (``fees``), shown and posted per wallet.
        self.wallet_fees = fees or {}
        self.options = [
            (w, self.wallet_fees.get(w.pk), (total or 0) + self.wallet_fees.get(w.pk, 0))
            for w in wallets
        ]
        self.fees_differ = fees_differ(self.wallet_fees.values())

    def chosen_wallet(self):
        return self.wallets[self.cleaned_data["wallet"]]


class RefundForm(IdempotencyKeyMixin, forms.Form):
    """One quantity field per line of an order, for this merchant.

    Shown, a field offers what is left to refund. Submitted, it accepts up to
    the line's quantity: the refund checks what is left under its locks, and a
    resubmitted form must reach it to be answered with the first refund rather
    than with a form error.
    """

    reason = forms.CharField(required=False, max_length=200)

    def __init__(self, *args: Any, lines: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                min_value=0,
                max_value=line.quantity if self.is_bound else line.refundable_quantity,
                initial=0,
                required=False,
                label=line.product_name,
            )

    def quantities(self) -> dict[int, int]:
        return {
            line.pk: self.cleaned_data.get(f"line_{line.pk}") or 0
            for line in self.lines
            if self.cleaned_data.get(f"line_{line.pk}")
        }


class SessionRefundForm(IdempotencyKeyMixin, forms.Form):
    amount = AmountFormField(required=False, decimal_places=8)
    reason = forms.CharField(required=False, max_length=200)


class APIKeyForm(forms.Form):
    name = forms.CharField(max_length=60, required=False, label="Key name")


class OriginForm(forms.Form):
    origin = forms.CharField(max_length=200, label="Allowed origin (https://shop.example)")


class WebhookForm(forms.Form):
    url = forms.URLField(max_length=500, label="Webhook URL", assume_scheme="https")
