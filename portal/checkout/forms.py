from __future__ import annotations

from typing import Any

from django import forms

from portal.shopfront.forms import PaymentFormMixin


class ConfirmForm(PaymentFormMixin, forms.Form):
    """The wallet to pay from, chosen among the wallets that can pay."""

    wallet = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect, label="Pay from")
    # The fee the customer was shown on top (0: none); a changed fee refuses the payment.
    expected_fee = forms.DecimalField(widget=forms.HiddenInput, max_digits=40, required=False)

    def __init__(self, *args: Any, wallets: list, fee: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["expected_fee"] = fee or 0
        self.wallets = {w.pk: w for w in wallets}
        self.fields["wallet"].choices = [(w.pk, w.name) for w in wallets]
        if len(wallets) == 1:
            self.fields["wallet"].initial = wallets[0].pk

    def chosen_wallet(self):
        return self.wallets[self.cleaned_data["wallet"]]
