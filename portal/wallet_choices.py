"""Wallet fields of the portal's money forms: whose money each wallet is, always.

Wallets are offered grouped by holder and named with it ("Your Main wallet · 217.50 USD
available", "Acme Coffee's Main wallet · …"); a form starts on the user's own default
wallet, so an organization's money is only ever an explicit choice; frozen wallets are
shown but cannot be picked, with the reason their holder may read (never staff's note).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join

from portal import selectors
from portal.templatetags.portal_money import available_text
from wallets.amounts import quantum
from wallets.form_fields import places_message
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()


def capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def amount_problem(amount: Decimal | None, wallet: Wallet | None) -> str | None:
    """Why ``amount`` does not fit ``wallet`` ("USD takes at most 2 decimal places.")."""
    if amount is None or wallet is None:
        return None
    places = wallet.decimal_places
    if amount != amount.quantize(quantum(places), rounding=ROUND_DOWN):
        return places_message(wallet.unit, places)
    return None


def frozen_message(wallet: Wallet, viewer: Any = None) -> str:
    """A frozen wallet, in the words its holder may read (never the staff's note)."""
    title = capitalized(selectors.wallet_title(wallet, viewer))
    return f"{title} is frozen. {wallet.frozen_message_for_holder}"


class WalletSelect(forms.Select):
    """Wallets grouped by holder; the values in ``disabled_values`` are shown, not chosen."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.disabled_values: set[str] = set()

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        if str(value) in self.disabled_values:
            option["attrs"]["disabled"] = True
        return option


class WalletChoiceField(forms.ModelChoiceField):
    widget = WalletSelect

    def label_from_instance(self, obj: Wallet) -> str:
        return wallet_option_label(obj)


def wallet_option_label(wallet: Wallet, viewer: Any = None) -> str:
    """ "Your Main wallet · 217.50 USD available", "Acme Coffee's … · frozen",
    "Your Main wallet · 1,200.00 USD available incl. 500.00 USD credit"."""
    title = capitalized(selectors.wallet_title(wallet, viewer))
    if wallet.is_frozen:
        return f"{title} · frozen"
    return f"{title} · {available_text(wallet)}"


class WalletChoicesMixin(forms.Form):
    """Wallet fields offered grouped by holder, frozen ones disabled with their reason."""

    viewer: Any = None

    def setup_wallet_field(
        self,
        name: str,
        wallets: list[Wallet],
        *,
        default: Wallet | None,
        choose_label: str = "Choose a wallet",
    ) -> None:
        field = self.fields[name]
        groups = (
            selectors.wallet_groups(self.viewer, wallets)
            if self.viewer is not None
            else [selectors.WalletGroup("Wallets", None, False, True, wallets)]
        )
        choices: list[Any] = []
        if default is None:
            # No wallet of the user's own to start on: the choice must be made.
            choices.append(("", f"{choose_label}…"))
        for group in groups:
            if group.wallets:
                options = [(w.pk, wallet_option_label(w, self.viewer)) for w in group.wallets]
                choices.append((group.title, options))
        field.widget.choices = choices
        frozen = [w for w in wallets if w.is_frozen]
        field.widget.disabled_values = {str(w.pk) for w in frozen}
        field.error_messages["required"] = f"{choose_label}."
        if frozen:
            field.help_text = format_html(
                "Frozen wallets cannot be used: {}",
                format_html_join(
                    "; ",
                    "{} ({})",
                    (
                        (
                            capitalized(selectors.wallet_title(w, self.viewer)),
                            w.frozen_message_for_holder,
                        )
                        for w in frozen
                    ),
                ),
            )
        if not self.is_bound and default is not None and not self.initial.get(name):
            self.initial[name] = default.pk

    def clean_wallet_field(self, name: str) -> Wallet | None:
        wallet = self.cleaned_data.get(name)
        if wallet is not None and wallet.is_frozen:
            raise forms.ValidationError(frozen_message(wallet, self.viewer))
        return wallet
