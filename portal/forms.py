"""Forms of the portal: they parse input; the engine's services do the work."""

from __future__ import annotations

import uuid
from typing import Any

from crispy_forms.helper import FormHelper
from django import forms
from django.conf import settings
from django.db.models import QuerySet

from portal.services import (
    RecipientNotFound,
    RecipientUnavailable,
    TransferToSelf,
)
from wallets.exceptions import ErrorCode, WalletError
from wallets.form_fields import AmountFormField
from wallets.models import Wallet

# The widest scale any wallet allows; each wallet's own is checked by the engine.
AMOUNT_DECIMAL_PLACES = settings.WALLETS.get("MAX_DECIMAL_PLACES", 8)


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class WalletErrorsMixin(forms.Form):
    """Engine errors become form errors next to the field named in ``ERROR_FIELDS``.

    Keys are error codes (``wallets.exceptions.ErrorCode`` values, or the codes of the
    portal's own errors): callers branch on what went wrong, never on message text or
    class names. An unknown code goes above the form.
    """

    ERROR_FIELDS: dict[str, str | None] = {}

    def add_wallet_error(self, error: WalletError) -> None:
        self.add_error(self.ERROR_FIELDS.get(str(error.code)), error.message)


class IdempotencyKeyMixin(WalletErrorsMixin):
    """A hidden key generated when the form is first shown: resubmitting it moves money once."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", new_idempotency_key())

    def add_wallet_error(self, error: WalletError) -> None:
        if error.code == ErrorCode.IDEMPOTENCY_CONFLICT:
            # The key already moved money for other details (e.g. edited after going back):
            # a fresh key lets the user send this as a new operation, knowingly.
            self.data = self.data.copy()
            self.data[self.add_prefix("idempotency_key")] = new_idempotency_key()
            self.add_error(
                None,
                "This form was already used to move money with other details. "
                "Check the details and submit again to make a new one.",
            )
            return
        super().add_wallet_error(error)


class WalletChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Wallet) -> str:
        from portal.selectors import holder_label
        from portal.templatetags.portal_money import money

        frozen = " (frozen)" if obj.is_frozen else ""
        return f"{holder_label(obj)}: {obj.name} · {money(obj.available, obj)} available{frozen}"


class HolderChoiceField(forms.ChoiceField):
    """Values are ``me`` or ``org:<pk>``; the view supplies only holders the user may act for."""


class OpenWalletForm(WalletErrorsMixin, forms.Form):
    holder = HolderChoiceField(label="Holder")
    name = forms.CharField(max_length=100)
    slug = forms.SlugField(
        max_length=64, help_text="Letters, digits, hyphens and underscores; e.g. savings."
    )
    unit = forms.RegexField(
        regex=r"^[A-Za-z0-9_]{1,16}$",
        max_length=16,
        initial="USD",
        help_text="Currency or point code, e.g. USD, EUR or PTS.",
    )
    decimal_places = forms.IntegerField(
        min_value=0,
        max_value=settings.WALLETS.get("MAX_DECIMAL_PLACES", 8),
        initial=2,
    )

    def __init__(self, *args: Any, holder_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["holder"].choices = holder_choices
        if len(holder_choices) == 1:
            self.fields["holder"].widget = forms.HiddenInput()
            self.fields["holder"].initial = holder_choices[0][0]
        self.helper = FormHelper()
        self.helper.form_tag = False

    ERROR_FIELDS = {
        ErrorCode.WALLET_EXISTS: "slug",
        ErrorCode.WALLET_INVALID: None,
        ErrorCode.AMOUNT_INVALID: "decimal_places",
    }

    def clean_unit(self) -> str:
        return self.cleaned_data["unit"].upper()


class TransferForm(IdempotencyKeyMixin, forms.Form):
    source = WalletChoiceField(
        queryset=Wallet.objects.none(), label="From wallet", empty_label=None
    )
    recipient = forms.CharField(
        max_length=254,
        label="Recipient's email or username",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    amount = AmountFormField(decimal_places=AMOUNT_DECIMAL_PLACES, label="Amount")
    note = forms.CharField(max_length=140, required=False, label="Note (optional)")

    # Which field an engine error belongs to, so it shows next to the right input.
    ERROR_FIELDS = {
        ErrorCode.INSUFFICIENT_FUNDS: "amount",
        ErrorCode.AMOUNT_INVALID: "amount",
        ErrorCode.RISK_LIMIT_EXCEEDED: "amount",
        RecipientNotFound.code: "recipient",
        TransferToSelf.code: "recipient",
        ErrorCode.SAME_WALLET: "recipient",
        ErrorCode.UNIT_MISMATCH: "recipient",
        RecipientUnavailable.code: "recipient",
        ErrorCode.WALLET_NOT_FOUND: "recipient",
        # Only ever the sender's own wallet (see portal.services._as_sender).
        ErrorCode.WALLET_FROZEN: "source",
    }

    def __init__(self, *args: Any, wallets: QuerySet[Wallet], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = wallets
        self.helper = FormHelper()
        self.helper.form_tag = False


class MoneyRequestForm(IdempotencyKeyMixin, forms.Form):
    """A top-up or payout request: it becomes a pending transaction that staff resolve."""

    wallet = WalletChoiceField(queryset=Wallet.objects.none(), label="Wallet", empty_label=None)
    amount = AmountFormField(decimal_places=AMOUNT_DECIMAL_PLACES)
    reference = forms.CharField(max_length=140)

    ERROR_FIELDS = {
        ErrorCode.AMOUNT_INVALID: "amount",
        ErrorCode.INSUFFICIENT_FUNDS: "amount",
        ErrorCode.WALLET_FROZEN: "wallet",
    }

    def __init__(self, *args: Any, wallets: QuerySet[Wallet], kind: str, **kwargs: Any) -> None:
        super().__init__(*args, prefix=kind, **kwargs)
        self.kind = kind
        self.fields["wallet"].queryset = wallets
        if kind == "topup":
            self.fields["reference"].label = "Payment reference"
            self.fields["reference"].help_text = "The reference of the payment you made to us."
        else:
            self.fields["reference"].label = "Pay out to"
            self.fields["reference"].help_text = "Your bank account or payout reference."
        self.helper = FormHelper()
        self.helper.form_tag = False


class ExchangeForm(IdempotencyKeyMixin, forms.Form):
    """Swap value between two wallets of one holder at the configured rate."""

    from_wallet = WalletChoiceField(queryset=Wallet.objects.none(), label="From", empty_label=None)
    to_wallet = WalletChoiceField(queryset=Wallet.objects.none(), label="To", empty_label=None)
    amount = AmountFormField(decimal_places=AMOUNT_DECIMAL_PLACES)
    # The rate the user reviewed; a different rate at confirmation is shown again first.
    quoted_rate = forms.DecimalField(required=False, widget=forms.HiddenInput)

    ERROR_FIELDS = {
        ErrorCode.AMOUNT_INVALID: "amount",
        ErrorCode.INSUFFICIENT_FUNDS: "amount",
        ErrorCode.SAME_WALLET: "to_wallet",
        ErrorCode.EXCHANGE_RATE_UNAVAILABLE: "to_wallet",
        # Either wallet may be the frozen one; both are the holder's own.
        ErrorCode.WALLET_FROZEN: None,
    }

    def __init__(self, *args: Any, wallets: QuerySet[Wallet], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from_wallet"].queryset = wallets
        self.fields["to_wallet"].queryset = wallets
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        source, destination = data.get("from_wallet"), data.get("to_wallet")
        if (
            source
            and destination
            and (source.holder_type_id, source.holder_id)
            != (
                destination.holder_type_id,
                destination.holder_id,
            )
        ):
            self.add_error("to_wallet", "Both wallets must belong to the same holder.")
        return data
