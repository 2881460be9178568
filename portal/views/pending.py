"""Pending transactions, cancelling a pending withdrawal, and top-up / payout requests."""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from portal import selectors
from portal.forms import MoneyRequestForm
from portal.services import (
    cancel_pending_withdrawal,
    needs_reauthentication,
    request_payout,
    request_top_up,
)
from portal.views.base import HtmxHttpRequest, partial
from wallets.exceptions import WalletError

REQUEST_SERVICES = {"topup": request_top_up, "payout": request_payout}


@login_required
def pending_list(request: HtmxHttpRequest) -> HttpResponse:
    context = {
        "pending": selectors.pending_for_user(request.user),
        "cancelable_wallet_ids": set(
            selectors.wallets_for_user(request.user, spend=True).values_list("pk", flat=True)
        ),
    }
    return TemplateResponse(request, "portal/pending.html", context)


@login_required
@require_POST
def cancel_pending(request: HtmxHttpRequest, tx_uuid: str) -> HttpResponse:
    tx = selectors.pending_transaction_for_user(request.user, tx_uuid, spend=True)
    try:
        tx = cancel_pending_withdrawal(tx, canceled_by=request.user)
    except WalletError as error:
        messages.error(request, error.message)
        error_message = error.message
    else:
        what = "transfer" if selectors.hold_for(tx) else "withdrawal"
        messages.success(request, f"The {what} was canceled and its amount released.")
        error_message = ""
    if not request.htmx:
        return redirect("portal:pending")
    # The row is replaced in place; the flash message would repeat on the next page.
    list(messages.get_messages(request))
    context = {"tx": tx, "can_cancel": False, "row_message": error_message or "Canceled"}
    response = TemplateResponse(request, "portal/includes/pending_row.html", context)
    return trigger_client_event(response, "balanceChanged", after="settle")


def _request_forms(request: HtmxHttpRequest, bound: MoneyRequestForm | None = None) -> dict:
    wallets = selectors.wallets_for_user(request.user, spend=True)
    # ?wallet=<uuid> (a card's "Top up") picks the wallet; else the user's own default.
    chosen = selectors.chosen_wallet(wallets, request.GET.get("wallet"))
    forms = {
        kind: MoneyRequestForm(
            wallets=wallets, kind=kind, viewer=request.user, initial={"wallet": chosen}
        )
        for kind in REQUEST_SERVICES
    }
    if bound is not None:
        forms[bound.kind] = bound
    return {"topup_form": forms["topup"], "payout_form": forms["payout"]}


@login_required
def money_requests(request: HtmxHttpRequest) -> HttpResponse:
    return TemplateResponse(request, "portal/requests.html", _request_forms(request))


def _is_large_payout(request: HtmxHttpRequest) -> bool:
    """Payouts over ``PORTAL_REAUTH_THRESHOLD`` ask for the password, like transfers."""
    if request.resolver_match is None or request.resolver_match.kwargs.get("kind") != "payout":
        return False
    wallets = selectors.wallets_for_user(request.user, spend=True)
    form = MoneyRequestForm(request.POST, wallets=wallets, kind="payout", viewer=request.user)
    if not form.is_valid():
        return False
    return needs_reauthentication(form.cleaned_data["wallet"].unit, form.cleaned_data["amount"])


@login_required
@require_POST
@reauthentication_required(enabled=_is_large_payout)
def money_request_submit(request: HtmxHttpRequest, kind: str) -> HttpResponse:
    if kind not in REQUEST_SERVICES:
        raise Http404("No such request.")
    wallets = selectors.wallets_for_user(request.user, spend=True)
    form = MoneyRequestForm(request.POST, wallets=wallets, kind=kind, viewer=request.user)
    created = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            created = REQUEST_SERVICES[kind](
                data["wallet"],
                data["amount"],
                reference=data["reference"],
                requested_by=request.user,
                idempotency_key=data["idempotency_key"],
            )
        except WalletError as error:
            form.add_wallet_error(error)
    if created is not None and not request.htmx:
        messages.success(request, _confirmation(kind))
        return redirect("portal:pending")
    context = _request_forms(request, None if created else form)
    context["created"] = created
    context["created_kind"] = kind
    context["confirmation"] = _confirmation(kind) if created else ""
    template = partial("portal/requests.html", request, f"{kind}-form")
    response = TemplateResponse(request, template, context, status=200 if created else 422)
    if created is not None:
        trigger_client_event(response, "balanceChanged", after="settle")
    return response


def _confirmation(kind: str) -> str:
    if kind == "topup":
        return "Top-up requested. It appears in Pending until we confirm your payment."
    return "Payout requested. The amount is held until it is paid out."
