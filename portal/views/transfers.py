"""Sending money: form, recipient lookup, review, confirm, receipt."""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import push_url, trigger_client_event

from portal import selectors
from portal.activity import describe_transaction, transaction_reference
from portal.forms import TransferForm
from portal.services import (
    TransferPlan,
    execute_transfer,
    needs_reauthentication,
    plan_transfer,
    recipient_lookup_allowed,
)
from portal.views.base import HtmxHttpRequest, partial, redirect_after_post
from wallets import fees
from wallets.exceptions import WalletError
from wallets.models import TransferHold
from wallets.swappable import get_transfer_model

Transfer = get_transfer_model()

TEMPLATE = "portal/transfer.html"
HELD_NOTICE = (
    "Your transfer is being held for review. The amount is reserved in your wallet and "
    "is sent once the review is done; until then you can cancel it here."
)


def _form(request: HtmxHttpRequest, data: dict | None = None) -> TransferForm:
    wallets = selectors.wallets_for_user(request.user, spend=True)
    if data is not None:
        return TransferForm(data, wallets=wallets, viewer=request.user)
    # ?from=<wallet> (a card's "Send", an organization's page) is the explicit choice;
    # otherwise the form starts on the user's own default wallet.
    source = selectors.chosen_wallet(wallets, request.GET.get("from"))
    return TransferForm(wallets=wallets, viewer=request.user, initial={"source": source})


def _plan(request: HtmxHttpRequest, form: TransferForm) -> TransferPlan:
    data = form.cleaned_data
    recipient = selectors.find_recipient(data["recipient"])
    return plan_transfer(data["source"], request.user, recipient, data["amount"])


def _render(request: HtmxHttpRequest, context: dict, status: int = 200) -> HttpResponse:
    context.setdefault("balance_groups", selectors.wallet_groups(request.user))
    plan = context.get("plan")
    if plan is not None:
        context["recipient_masked"] = selectors.mask_identity(plan.recipient)
        context["source_title"] = selectors.wallet_title(plan.source, request.user)
        context["organization_money"] = not selectors.is_own_wallet(request.user, plan.source)
    template = partial(TEMPLATE, request, "transfer-flow")
    return TemplateResponse(request, template, context, status=status)


@login_required
def transfer(request: HtmxHttpRequest) -> HttpResponse:
    """GET shows the form; POST checks it and shows the review step (nothing moves yet)."""
    if request.method != "POST":
        return _render(request, {"form": _form(request), "step": "form"})
    form = _form(request, request.POST)
    if form.is_valid() and "edit" not in request.POST:
        try:
            plan = _plan(request, form)
        except WalletError as error:
            form.add_wallet_error(error)
        else:
            return _render(request, {"form": form, "plan": plan, "step": "review"})
    status = 422 if form.errors else 200
    return _render(request, {"form": form, "step": "form"}, status=status)


def _is_large_transfer(request: HtmxHttpRequest) -> bool:
    form = _form(request, request.POST)
    if not form.is_valid():
        return False
    return needs_reauthentication(form.cleaned_data["source"].unit, form.cleaned_data["amount"])


@login_required
@require_POST
@reauthentication_required(enabled=_is_large_transfer)
def transfer_confirm(request: HtmxHttpRequest) -> HttpResponse:
    form = _form(request, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = execute_transfer(
                data["source"],
                request.user,
                selectors.find_recipient(data["recipient"]),
                data["amount"],
                note=data["note"],
                idempotency_key=data["idempotency_key"],
            )
        except WalletError as error:
            form.add_wallet_error(error)
        else:
            if isinstance(result, TransferHold):
                # Not an error: the amount is reserved and waits on our review.
                messages.info(request, HELD_NOTICE)
                return redirect_after_post(request, reverse("portal:pending"))
            receipt_url = reverse("portal:transfer_receipt", args=[result.uuid])
            if not request.htmx:
                return redirect(receipt_url)
            context = {"transfer": result, "step": "receipt", **_receipt_context(request, result)}
            response = _render(request, context)
            push_url(response, receipt_url)
            return trigger_client_event(response, "balanceChanged", after="settle")
    return _render(request, {"form": form, "step": "form"}, status=422)


@login_required
@require_GET
def recipient_lookup(request: HtmxHttpRequest) -> HttpResponse:
    """One masked match for an exact email or username, never a list of users."""
    query = request.GET.get("recipient", "").strip()
    if not recipient_lookup_allowed(request.user):
        context = {"query": query, "throttled": True}
        return TemplateResponse(
            request, "portal/includes/recipient_match.html", context, status=429
        )
    recipient = selectors.find_recipient(query) if len(query) >= 3 else None
    context = {
        "query": query,
        "match": selectors.mask_identity(recipient) if recipient else "",
        "is_self": recipient is not None and recipient.pk == request.user.pk,
    }
    return TemplateResponse(request, "portal/includes/recipient_match.html", context)


def _receipt_context(request: HtmxHttpRequest, result: Transfer) -> dict:
    visible = selectors.wallets_for_user(request.user)
    sent = visible.filter(pk=result.from_wallet_id).exists()
    own_wallet = result.from_wallet if sent else result.to_wallet
    other_wallet = result.to_wallet if sent else result.from_wallet
    own_transaction = result.withdraw if sent else result.deposit
    # A fee this wallet bore: its own ledger row, so the balance after is that row's.
    fee = fees.charges_of(transfer=result)
    own_fee = fee if fee is not None and fee.payer_wallet_id == own_wallet.pk else None
    return {
        "fee": own_fee,
        "fee_total": (result.amount + own_fee.amount if sent else result.received - own_fee.amount)
        if own_fee
        else None,
        "balance_after": own_fee.payer_leg.balance_after
        if own_fee
        else own_transaction.balance_after,
        "sent": sent,
        "own_wallet": own_wallet,
        "other_wallet": other_wallet,
        "own_transaction": own_transaction,
        "own_title": selectors.wallet_title(own_wallet, request.user),
        "other_title": selectors.wallet_title(other_wallet, request.user),
        "counterparty": selectors.holder_label(other_wallet, request.user),
        "title": describe_transaction(own_transaction, request.user),
        "reference": transaction_reference(own_transaction),
    }


@login_required
def transfer_receipt(request: HtmxHttpRequest, transfer_uuid: str) -> HttpResponse:
    result = selectors.transfer_for_user(request.user, transfer_uuid)
    context = {"transfer": result, "step": "receipt", **_receipt_context(request, result)}
    return _render(request, context)
