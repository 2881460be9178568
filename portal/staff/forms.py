"""Forms of the staff console: every action asks for a reason and carries an idempotency key.

The key is generated when the form is first shown (``IdempotencyKeyMixin``) and handed to
the engine, so a form submitted twice (double click, retry, two tabs) acts once and writes
one audit entry.
"""

from __future__ import annotations

from django import forms

from portal.forms import AMOUNT_DECIMAL_PLACES, IdempotencyKeyMixin
from wallets.exceptions import ErrorCode
from wallets.form_fields import AmountFormField
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()

AUDIT_HELP = "Recorded in the audit log with your name, the time and your IP address."


class HolderSearchForm(forms.Form):
    q = forms.CharField(
        label="Name, username or email",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class ReasonForm(IdempotencyKeyMixin, forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=AUDIT_HELP,
    )

    ERROR_FIELDS = {
        ErrorCode.REASON_REQUIRED: "reason",
        ErrorCode.TEXT_INVALID: "reason",
    }

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason.")
        return reason


class QueueDecisionForm(ReasonForm):
    """Confirm or reject in place: a short reason fits on one line."""

    reason = forms.CharField(label="Reason", max_length=500)


class FreezeForm(ReasonForm):
    """What the holder is told, and what only staff read."""

    message = forms.CharField(
        label="Message to the holder",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=(
            "Optional. The holder sees this on their wallet. Left empty, they see: "
            f"“{Wallet.FROZEN_DEFAULT_MESSAGE}”"
        ),
    )
    reason = forms.CharField(
        label="Staff note / reason",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=f"Staff only: the holder never sees it. {AUDIT_HELP}",
    )

    field_order = ["message", "reason", "idempotency_key"]

    def clean_message(self) -> str:
        return self.cleaned_data["message"].strip()


class RefundTransferForm(ReasonForm):
    amount = AmountFormField(
        label="Amount to refund",
        required=False,
        decimal_places=AMOUNT_DECIMAL_PLACES,
        help_text="Leave empty to refund all that is left.",
    )

    ERROR_FIELDS = {
        **ReasonForm.ERROR_FIELDS,
        ErrorCode.AMOUNT_INVALID: "amount",
        ErrorCode.REFUND_EXCEEDS_TRANSFER: "amount",
    }

    field_order = ["amount", "reason", "idempotency_key"]
