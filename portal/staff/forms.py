"""Forms of the staff console: every action asks for a reason."""

from __future__ import annotations

from decimal import Decimal

from django import forms


class HolderSearchForm(forms.Form):
    q = forms.CharField(
        label="Name, username or email",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded in the audit log with your name, the time and your IP address.",
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason.")
        return reason


class QueueDecisionForm(ReasonForm):
    """Confirm or reject in place: a short reason fits on one line."""

    reason = forms.CharField(label="Reason", max_length=500)


class RefundTransferForm(ReasonForm):
    amount = forms.DecimalField(
        label="Amount to refund",
        required=False,
        min_value=Decimal("0.00000001"),
        max_digits=38,
        decimal_places=8,
        help_text="Leave empty to refund all that is left.",
    )
