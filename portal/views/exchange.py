"""Exchange between a holder's own wallets: quote with rate and result, then confirm."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from portal import selectors
from portal.forms import ExchangeForm
from portal.services import ExchangeQuote, execute_exchange, quote_exchange
from portal.views.base import HtmxHttpRequest, partial, redirect_after_post
from wallets.exceptions import ExchangeRateChanged, WalletError

TEMPLATE = "portal/exchange.html"
RATE_CHANGED_NOTICE = "The exchange rate changed since you reviewed it. Check the new quote."


def _form(request: HtmxHttpRequest, data: dict | None = None) -> ExchangeForm:
    wallets = selectors.wallets_for_user(request.user, spend=True)
    if data is not None:
        return ExchangeForm(data, wallets=wallets, viewer=request.user)
    source = selectors.chosen_wallet(wallets, request.GET.get("from"))
    return ExchangeForm(wallets=wallets, viewer=request.user, initial={"from_wallet": source})


def _render(request: HtmxHttpRequest, context: dict, status: int = 200) -> HttpResponse:
    context.setdefault("balance_groups", selectors.wallet_groups(request.user))
    template = partial(TEMPLATE, request, "exchange-flow")
    return TemplateResponse(request, template, context, status=status)


@login_required
def exchange(request: HtmxHttpRequest) -> HttpResponse:
    """GET shows the form; POST quotes the exchange for review (nothing moves yet)."""
    if request.method != "POST":
        return _render(request, {"form": _form(request), "step": "form"})
    form = _form(request, request.POST)
    if form.is_valid() and "edit" not in request.POST:
        data = form.cleaned_data
        try:
            quote = quote_exchange(data["from_wallet"], data["to_wallet"], data["amount"])
        except WalletError as error:
            form.add_wallet_error(error)
        else:
            return _render(request, _review_context(form, quote))
    return _render(request, {"form": form, "step": "form"}, status=422 if form.errors else 200)


def _review_context(form: ExchangeForm, quote: ExchangeQuote) -> dict:
    viewer = form.viewer
    return {
        "form": form,
        "quote": quote,
        "step": "review",
        "source_title": selectors.wallet_title(quote.source, viewer),
        "destination_title": selectors.wallet_title(quote.destination, viewer),
    }


@login_required
@require_POST
def exchange_confirm(request: HtmxHttpRequest) -> HttpResponse:
    form = _form(request, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = execute_exchange(
                data["from_wallet"],
                data["to_wallet"],
                data["amount"],
                quoted_rate=data["quoted_rate"],
                idempotency_key=data["idempotency_key"],
            )
        except ExchangeRateChanged:
            # Nothing moved: show the new quote for review instead.
            try:
                quote = quote_exchange(data["from_wallet"], data["to_wallet"], data["amount"])
            except WalletError as error:
                form.add_wallet_error(error)
            else:
                context = _review_context(form, quote)
                context["notice"] = RATE_CHANGED_NOTICE
                return _render(request, context)
        except WalletError as error:
            form.add_wallet_error(error)
        else:
            receipt_url = reverse("portal:transfer_receipt", args=[result.uuid])
            # A full page load of the receipt: every balance on it is fresh.
            return redirect_after_post(request, receipt_url)
    return _render(request, {"form": form, "step": "form"}, status=422)
