"""Template helpers about who holds a wallet: "You", or the holder's name, always."""

from __future__ import annotations

from typing import Any

from django import template

from portal.selectors import hold_for, holder_label, holder_name, wallet_title
from portal.selectors import possessive as possessive_form
from wallets.models import TransferHold
from wallets.swappable import get_transaction_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()

register = template.Library()


def _viewer(context: template.Context) -> Any:
    request = context.get("request")
    user = getattr(request, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


@register.simple_tag(takes_context=True)
def wallet_holder(context: template.Context, wallet: Wallet) -> str:
    """ "You" for the viewer's own wallet, else the person's or organization's name."""
    return holder_label(wallet, _viewer(context))


@register.simple_tag(name="wallet_title", takes_context=True)
def wallet_title_tag(context: template.Context, wallet: Wallet, capital: bool = False) -> str:
    """ "your Main wallet", "Acme Coffee's Main wallet" (``capital=True``: "Your …")."""
    title = wallet_title(wallet, _viewer(context))
    return title[:1].upper() + title[1:] if capital else title


@register.filter
def held_transfer(tx: Transaction) -> TransferHold | None:
    """``{% with hold=tx|held_transfer %}``: the held transfer a reservation is for."""
    return hold_for(tx)


@register.filter
def holder_display_name(wallet: Wallet) -> str:
    """Who holds a wallet, by name (for the other side of a transfer)."""
    return holder_name(wallet)


@register.filter
def possessive(name: str) -> str:
    """ "Acme Coffee" → "Acme Coffee's"; "Weekend Climbers" → "Weekend Climbers'"."""
    return possessive_form(str(name))
