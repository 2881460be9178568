"""The dashboard: your wallets first, then each organization's; totals per unit, a chart
per wallet over 7, 30 or 90 days, recent activity, and opening another wallet."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from portal import selectors
from portal.activity import activity_items
from portal.forms import OpenWalletForm
from portal.services import open_wallet
from portal.templatetags.portal_charts import chart_days
from portal.views.base import HtmxHttpRequest, partial, redirect_after_post
from wallets.exceptions import WalletError
from wallets.selectors import SERIES_DAYS


def _dashboard_context(request: HtmxHttpRequest, form: OpenWalletForm | None = None) -> dict:
    user = request.user
    wallets = list(selectors.wallets_for_user(user))
    return {
        "groups": selectors.wallet_groups(user, wallets),
        "days": chart_days(request.GET.get("days")),
        "chart_ranges": SERIES_DAYS,
        "activity": activity_items(user, wallets=wallets),
        "open_wallet_form": form
        or OpenWalletForm(holder_choices=selectors.holder_choices_for_user(user)),
    }


@login_required
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    template = partial("portal/dashboard.html", request, "wallet-cards")
    return TemplateResponse(request, template, _dashboard_context(request))


@login_required
def balance_cards(request: HtmxHttpRequest) -> HttpResponse:
    """The wallet cards alone, re-fetched when a ``balanceChanged`` event fires."""
    return TemplateResponse(
        request, "portal/dashboard.html#wallet-cards", _dashboard_context(request)
    )


@login_required
def balance_list(request: HtmxHttpRequest) -> HttpResponse:
    """The compact balance list beside money forms, refreshed on ``balanceChanged``."""
    context = {"balance_groups": selectors.wallet_groups(request.user)}
    return TemplateResponse(request, "portal/includes/balance_list.html", context)


@login_required
@require_http_methods(["POST"])
def open_wallet_view(request: HtmxHttpRequest) -> HttpResponse:
    form = OpenWalletForm(
        request.POST, holder_choices=selectors.holder_choices_for_user(request.user)
    )
    if form.is_valid():
        data = form.cleaned_data
        holder = selectors.holder_for_choice(request.user, data["holder"])
        try:
            wallet = open_wallet(
                holder,
                name=data["name"],
                unit=data["unit"],
                slug=data["slug"] or None,
                decimal_places=data["decimal_places"],
            )
        except WalletError as error:
            form.add_wallet_error(error)
        else:
            messages.success(request, f"Opened the wallet “{wallet.name}”.")
            return redirect_after_post(
                request, reverse("portal:wallet", kwargs={"wallet_uuid": wallet.uuid})
            )
    template = partial("portal/dashboard.html", request, "open-wallet-form")
    return TemplateResponse(request, template, _dashboard_context(request, form), status=422)
