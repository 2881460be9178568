"""Forms of the portal: they parse input; the engine's services do the work.

Whose money a form moves is always visible and never a surprise: wallets are offered
grouped by holder and named with it ("Your Main wallet", "Acme Coffee's Main wallet"),
a form starts on the user's own default wallet (an organization's money is only ever an
explicit choice), and frozen wallets are shown but cannot be picked, with the reason
their holder may read.
"""

from __future__ import annotations

import uuid
from typing import Any

from crispy_forms.helper import FormHelper
from django import forms
from django.conf import settings
from django.db.models import QuerySet

from portal import selectors
from portal.services import (
    RecipientNotFound,
    RecipientUnavailable,
    TransferToSelf,
)
from portal.templatetags.portal_money import available_text, money
from portal.wallet_choices import (
    WalletChoiceField,
    WalletChoicesMixin,
    amount_problem,
    capitalized,
    frozen_message,
)
from wallets.exceptions import ErrorCode, WalletError
from wallets.form_fields import AmountFormField
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()

# The widest scale any wallet allows; each wallet's own is checked by the form and the engine.
AMOUNT_DECIMAL_PLACES = settings.WALLETS.get("MAX_DECIMAL_PLACES", 8)


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class WalletErrorsMixin(forms.Form):
    """Engine errors become form errors next to the field named in ``ERROR_FIELDS``.

    Keys are error codes (``wallets.exceptions.ErrorCode`` values, or the codes of the
    portal's own errors): callers branch on what went wrong, never on message text or
    class names. An unknown code goes above the form. Errors about money are worded
    for the person at the form (``wallet_error_message``).
    """

    ERROR_FIELDS: dict[str, str | None] = {}
    # The field holding the wallet money leaves, for errors about funds and amounts.
    SOURCE_FIELD: str | None = None
    viewer: Any = None

    def add_wallet_error(self, error: WalletError) -> None:
        self.add_error(self.ERROR_FIELDS.get(str(error.code)), self.wallet_error_message(error))

    def wallet_error_message(self, error: WalletError) -> str:
        data = getattr(self, "cleaned_data", {}) or {}
        source = data.get(self.SOURCE_FIELD) if self.SOURCE_FIELD else None
        amount = data.get("amount")
        if error.code == ErrorCode.INSUFFICIENT_FUNDS and source is not None and amount:
            title = capitalized(selectors.wallet_title(source, self.viewer))
            return f"{title} has {available_text(source)}; this needs {money(amount, source)}."
        if error.code == ErrorCode.WALLET_FROZEN and getattr(error, "wallet", None) is not None:
            return frozen_message(error.wallet, self.viewer)
        if error.code == ErrorCode.AMOUNT_INVALID:
            return amount_problem(amount, source) or error.message
        return error.message


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


class HolderChoiceField(forms.ChoiceField):
    """Values are ``me`` or ``org:<pk>``; the view supplies only holders the user may act for."""


class OpenWalletForm(WalletErrorsMixin, forms.Form):
    """A name and a unit; the engine's terms (slug, decimal places) wait under "Advanced"
    and default from the name and the unit."""

    holder = HolderChoiceField(label="Whose wallet")
    name = forms.CharField(max_length=100, label="Name", help_text="For example: Savings, Travel.")
    unit = forms.RegexField(
        regex=r"^[A-Za-z0-9_]{1,16}$",
        max_length=16,
        initial="USD",
        label="Currency or points",
        help_text="A code such as USD, EUR or PTS.",
        error_messages={"invalid": "Enter a code of letters and digits, such as USD or PTS."},
        widget=forms.TextInput(attrs={"list": "unit-suggestions", "autocomplete": "off"}),
    )
    slug = forms.SlugField(
        max_length=64,
        required=False,
        label="Short name in links",
        help_text="Letters, digits, hyphens and underscores. Empty: made from the name.",
        error_messages={"invalid": "Use only letters, digits, hyphens and underscores."},
    )
    decimal_places = forms.IntegerField(
        min_value=0,
        max_value=AMOUNT_DECIMAL_PLACES,
        required=False,
        label="Decimal places",
        help_text="Empty: the unit's usual (2 for USD and EUR, 0 for points).",
        error_messages={
            "min_value": f"Enter a whole number from 0 to {AMOUNT_DECIMAL_PLACES}.",
            "max_value": f"Enter a whole number from 0 to {AMOUNT_DECIMAL_PLACES}.",
            "invalid": f"Enter a whole number from 0 to {AMOUNT_DECIMAL_PLACES}.",
        },
    )

    UNIT_SUGGESTIONS = ("USD", "EUR", "GBP", "PTS")
    ADVANCED_FIELDS = ("slug", "decimal_places")

    def __init__(self, *args: Any, holder_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["holder"].choices = holder_choices
        if len(holder_choices) == 1:
            self.fields["holder"].widget = forms.HiddenInput()
            self.fields["holder"].initial = holder_choices[0][0]
        else:
            self.fields["holder"].initial = "me"
        self.helper = FormHelper()
        self.helper.form_tag = False

    ERROR_FIELDS = {
        ErrorCode.WALLET_EXISTS: "slug",
        ErrorCode.WALLET_INVALID: None,
        ErrorCode.AMOUNT_INVALID: "decimal_places",
    }

    @property
    def basic_fields(self) -> list[forms.BoundField]:
        return [f for f in self.visible_fields() if f.name not in self.ADVANCED_FIELDS]

    @property
    def advanced_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.ADVANCED_FIELDS]

    @property
    def advanced_has_errors(self) -> bool:
        return any(self[name].errors for name in self.ADVANCED_FIELDS)

    def clean_unit(self) -> str:
        return self.cleaned_data["unit"].upper()


class TransferForm(WalletChoicesMixin, IdempotencyKeyMixin, forms.Form):
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

    SOURCE_FIELD = "source"
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

    def __init__(
        self, *args: Any, wallets: QuerySet[Wallet], viewer: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.viewer = viewer
        self.fields["source"].queryset = wallets
        offered = list(wallets)
        preset = self.initial.get("source")
        default = preset or (
            selectors.default_source(viewer, offered) if viewer is not None else None
        )
        self.setup_wallet_field(
            "source", offered, default=default, choose_label="Choose the wallet to send from"
        )
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_source(self) -> Wallet | None:
        return self.clean_wallet_field("source")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        problem = amount_problem(data.get("amount"), data.get("source"))
        if problem:
            self.add_error("amount", problem)
        return data


class MoneyRequestForm(WalletChoicesMixin, IdempotencyKeyMixin, forms.Form):
    """A top-up or payout request: it becomes a pending transaction that staff resolve."""

    wallet = WalletChoiceField(queryset=Wallet.objects.none(), label="Wallet", empty_label=None)
    amount = AmountFormField(decimal_places=AMOUNT_DECIMAL_PLACES)
    reference = forms.CharField(max_length=140)

    SOURCE_FIELD = "wallet"
    ERROR_FIELDS = {
        ErrorCode.AMOUNT_INVALID: "amount",
        ErrorCode.INSUFFICIENT_FUNDS: "amount",
        ErrorCode.WALLET_FROZEN: "wallet",
    }

    def __init__(
        self,
        *args: Any,
        wallets: QuerySet[Wallet],
        kind: str,
        viewer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, prefix=kind, **kwargs)
        self.kind = kind
        self.viewer = viewer
        self.fields["wallet"].queryset = wallets
        offered = list(wallets)
        preset = self.initial.get("wallet")
        default = preset or (
            selectors.default_source(viewer, offered) if viewer is not None else None
        )
        if kind == "topup":
            self.fields["wallet"].label = "Wallet to top up"
            self.fields["reference"].label = "Payment reference"
            self.fields["reference"].help_text = "The reference of the payment you made to us."
        else:
            self.fields["wallet"].label = "Wallet to pay out from"
            self.fields["reference"].label = "Pay out to"
            self.fields["reference"].help_text = "Your bank account or payout reference."
        self.setup_wallet_field("wallet", offered, default=default)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_wallet(self) -> Wallet | None:
        return self.clean_wallet_field("wallet")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        problem = amount_problem(data.get("amount"), data.get("wallet"))
        if problem:
            self.add_error("amount", problem)
        return data


class ExchangeForm(WalletChoicesMixin, IdempotencyKeyMixin, forms.Form):
    """Swap value between two wallets of one holder at the configured rate."""

    from_wallet = WalletChoiceField(queryset=Wallet.objects.none(), label="From", empty_label=None)
    to_wallet = WalletChoiceField(queryset=Wallet.objects.none(), label="To", empty_label=None)
    amount = AmountFormField(decimal_places=AMOUNT_DECIMAL_PLACES)
    # The rate the user reviewed; a different rate at confirmation is shown again first.
    quoted_rate = forms.DecimalField(required=False, widget=forms.HiddenInput)

    SOURCE_FIELD = "from_wallet"
    ERROR_FIELDS = {
        ErrorCode.AMOUNT_INVALID: "amount",
        ErrorCode.INSUFFICIENT_FUNDS: "amount",
        ErrorCode.SAME_WALLET: "to_wallet",
        ErrorCode.EXCHANGE_RATE_UNAVAILABLE: "to_wallet",
        # Either wallet may be the frozen one; both are the holder's own.
        ErrorCode.WALLET_FROZEN: None,
    }

    def __init__(
        self, *args: Any, wallets: QuerySet[Wallet], viewer: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.viewer = viewer
        self.fields["from_wallet"].queryset = wallets
        self.fields["to_wallet"].queryset = wallets
        offered = list(wallets)
        source = self.initial.get("from_wallet") or (
            selectors.default_source(viewer, offered) if viewer is not None else None
        )
        self.setup_wallet_field("from_wallet", offered, default=source)
        self.setup_wallet_field("to_wallet", offered, default=_exchange_target(source, offered))
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_from_wallet(self) -> Wallet | None:
        return self.clean_wallet_field("from_wallet")

    def clean_to_wallet(self) -> Wallet | None:
        return self.clean_wallet_field("to_wallet")

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
        problem = amount_problem(data.get("amount"), source)
        if problem:
            self.add_error("amount", problem)
        return data


def _exchange_target(source: Wallet | None, wallets: list[Wallet]) -> Wallet | None:
    """Another wallet of the same holder, preferably in another unit."""
    if source is None:
        return None
    same_holder = [
        w
        for w in wallets
        if w.pk != source.pk
        and not w.is_frozen
        and (w.holder_type_id, w.holder_id) == (source.holder_type_id, source.holder_id)
    ]
    other_unit = [w for w in same_holder if w.unit != source.unit]
    return (other_unit or same_holder or [None])[0]
