from __future__ import annotations

from typing import Any

from django import forms


class ConfirmForm(forms.Form):
    """The wallet to pay from, chosen among the wallets that can pay."""

    wallet = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect, label="Pay from")

    def __init__(self, *args: Any, wallets: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wallets = {w.pk: w for w in wallets}
        self.fields["wallet"].choices = [(w.pk, w.name) for w in wallets]
        if len(wallets) == 1:
            self.fields["wallet"].initial = wallets[0].pk

    def chosen_wallet(self):
        return self.wallets[self.cleaned_data["wallet"]]
