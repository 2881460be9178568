"""What the shop's views share: htmx fragments and redirects, merchants looked
up by the visitor's role, and the message for a refused money form."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRedirect

from shop.models import Organization
from shop.selectors import merchant_for_manager, merchant_for_member
from wallets.admin.display import format_amount
from wallets.exceptions import ErrorCode, IdempotencyConflict, WalletError


def template_for(request: HttpRequest, name: str, fragment: str) -> str:
    """The whole page, or only ``fragment`` for a non-boosted htmx request."""
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.boosted:
        return f"{name}#{fragment}"
    return name


def redirect_to(request: HttpRequest, url: str) -> HttpResponse:
    if getattr(request, "htmx", None):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def money_error(error: WalletError, wallet: Any = None, amount: Any = None) -> str:
    """The message for a refused money form; short funds are worded with the wallet and
    the amounts, written by the one rule for amounts."""
    if isinstance(error, IdempotencyConflict):
        # The form's key already moved money with other details (edited after
        # going back): the reloaded page carries a fresh key.
        return "This form was already used with other details. Check the page and try again."
    if error.code == ErrorCode.INSUFFICIENT_FUNDS and wallet is not None and amount:

        def written(value: Any) -> str:
            return format_amount(value, wallet.decimal_places, wallet.unit)

        return (
            f"Your {wallet.name} has {written(wallet.available)} available; "
            f"this order needs {written(amount)}."
        )
    return error.message


def member_merchant(request: HttpRequest, slug: str) -> Organization:
    """A merchant the visitor belongs to (or staff); 404 for anyone else."""
    try:
        return merchant_for_member(request.user, slug)
    except Organization.DoesNotExist:
        raise Http404("No such merchant.") from None


def managed_merchant(request: HttpRequest, slug: str) -> Organization:
    """A merchant the visitor manages (or staff); 404 for anyone else."""
    try:
        return merchant_for_manager(request.user, slug)
    except Organization.DoesNotExist:
        raise Http404("No such merchant.") from None
