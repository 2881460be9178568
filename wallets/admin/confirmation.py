"""Confirmation pages of the admin's actions: what will happen, a reason, then the engine.

Every action that changes money or wallet state shows a page that describes
what will happen to each selected row and asks for a reason. The page carries
an idempotency key made when it is first shown; the confirmed POST passes
``f"{key}:{pk}"`` to the engine for each row, so a form sent twice (a double
click, a retried request) moves money once and writes one audit entry: the
engine replays the first result. The admin itself locks, writes and audits
nothing: each row is one engine operation with a :class:`StaffActor`.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from wallets.exceptions import ErrorCode, WalletError
from wallets.form_fields import AmountFormField
from wallets.staff import StaffActor

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
TEMPLATE = "admin/wallets/action_confirmation.html"

Describe = Callable[[Any, dict[str, Any] | None], str]


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(24)


class IdempotencyKeyField(forms.CharField):
    """The page's key, made when the page is first shown and sent back with it."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("initial", new_idempotency_key)
        kwargs.setdefault(
            "error_messages",
            {"required": "This page had lost its key: check it and confirm again."},
        )
        super().__init__(**kwargs)

    def validate(self, value: str) -> None:
        super().validate(value)
        if not KEY_PATTERN.match(value):
            raise forms.ValidationError("This page's key was damaged: check it and confirm again.")


class KeyedForm(forms.BaseForm):
    """A form whose page carries an idempotency key.

    A key lost or damaged on the way back (it is hidden, so its own error would
    not show) is reported at the top, and the page is shown again with a new
    key: nothing ran with the bad one, so the new one cannot repeat anything."""

    def full_clean(self) -> None:
        super().full_clean()
        errors = self._errors.pop("idempotency_key", None) if self._errors else None
        if errors:
            self.add_error(None, errors.as_data())
            self.data = self.data.copy()
            self.data["idempotency_key"] = new_idempotency_key()


class ReasonForm(KeyedForm, forms.Form):
    """The reason staff give: the audit log records it with their name, time and IP."""

    idempotency_key = IdempotencyKeyField()
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Recorded in the audit log with your name, the time and your IP address.",
    )


def _positive(value: Decimal | None) -> Decimal | None:
    if value is not None and value <= 0:
        raise forms.ValidationError("Enter an amount greater than zero.")
    return value


class FreezeForm(ReasonForm):
    message = forms.CharField(
        required=False,
        label="Message to the holder",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Optional. The holder sees it; empty shows a neutral default. "
        "The reason below stays with staff.",
    )
    field_order = ("message", "reason")


class CreditLimitForm(ReasonForm):
    credit_limit = AmountFormField(
        allow_zero=True,
        label="Credit limit",
        help_text="How far below zero the balance may go; 0 takes the credit away.",
    )
    field_order = ("credit_limit", "reason")


class AdjustmentForm(ReasonForm):
    # The wallet's decimal places are checked against the wallet, not here.
    amount = AmountFormField()
    field_order = ("amount", "reason")

    def clean_amount(self) -> Decimal | None:
        return _positive(self.cleaned_data["amount"])


class DebitForm(AdjustmentForm):
    allow_negative = forms.BooleanField(
        required=False, label="The debit may take the balance below zero"
    )
    field_order = ("amount", "allow_negative", "reason")


class RefundForm(ReasonForm):
    amount = AmountFormField(
        required=False,
        help_text="Leave empty to refund all that is left of each transfer. "
        "A partial amount refunds one transfer at a time.",
    )
    force = forms.BooleanField(
        required=False, label="Refund even if the recipient no longer has the funds"
    )
    field_order = ("amount", "force", "reason")

    def clean_amount(self) -> Decimal | None:
        return _positive(self.cleaned_data["amount"])


class ReverseForm(ReasonForm):
    force = forms.BooleanField(required=False, label="Reverse even if the balance goes below zero")
    field_order = ("force", "reason")


@dataclass(frozen=True)
class Confirmed:
    """A confirmed page: what staff entered, and on whose authority the engine acts."""

    data: dict[str, Any]
    actor: StaffActor
    key: str

    def key_for(self, obj: Model) -> str:
        # One key per row: each row's operation replays on its own.
        return f"{self.key}:{obj.pk}"


@dataclass(frozen=True)
class ConfirmedAction:
    title: str
    describe: Describe
    perform: Callable[[Any, Confirmed], Any]
    form_class: type[ReasonForm] = ReasonForm
    # Actions on one row at a time (manual adjustments) refuse a larger selection.
    single: bool = False
    # Refuses the whole page before anything runs: a message, or None to go ahead.
    check: Callable[[list[Any], dict[str, Any]], str | None] | None = None


def refusal_text(error: Exception) -> str:
    """The engine's message for a refused row (a replayed key with other values gets ours)."""
    if getattr(error, "code", None) == ErrorCode.IDEMPOTENCY_CONFLICT:
        return "this page was already confirmed with other values: start the action again."
    return str(error)


def run_confirmed_action(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    action: ConfirmedAction,
) -> HttpResponse | None:
    """Show what will happen to each selected row and ask for a reason; once
    confirmed, run the engine for each row and report the refused ones.

    Returns the confirmation page, or None (the admin then redirects to the list)."""
    objects = list(queryset)
    if action.single and len(objects) != 1:
        modeladmin.message_user(request, "Select exactly one row for this action.", messages.ERROR)
        return None
    confirmed = request.POST.get("confirm") == "yes"
    form = action.form_class(request.POST if confirmed else None)
    if confirmed and form.is_valid():
        problem = action.check(objects, form.cleaned_data) if action.check else None
        if problem is None:
            _perform_each(modeladmin, request, objects, action, form.cleaned_data)
            return None
        form.add_error(None, problem)
    # Describe with what was entered so far (an amount) even when the reason is missing.
    data = form.cleaned_data if form.is_bound else None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": action.title,
        "opts": modeladmin.model._meta,
        "form": form,
        "rows": [(obj, action.describe(obj, data)) for obj in objects],
        "action_name": request.POST.get("action", ""),
        "selected": [str(obj.pk) for obj in objects],
        "checkbox_name": ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, TEMPLATE, context)


def _perform_each(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    objects: list[Any],
    action: ConfirmedAction,
    data: dict[str, Any],
) -> None:
    confirmed = Confirmed(
        data=data,
        actor=StaffActor.from_request(request, data["reason"]),
        key=data["idempotency_key"],
    )
    done = 0
    for obj in objects:
        # Each row is its own operation: one refused row leaves the others done.
        try:
            action.perform(obj, confirmed)
        except (WalletError, PermissionDenied) as error:
            modeladmin.message_user(request, f"{obj}: {refusal_text(error)}", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(
            request, f"{action.title}: done for {done} of {len(objects)}.", messages.SUCCESS
        )
