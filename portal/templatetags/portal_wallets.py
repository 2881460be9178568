"""Template helpers about who holds a wallet."""

from __future__ import annotations

from django import template

from portal.selectors import hold_for, holder_label, holder_name
from wallets.models import Transaction, TransferHold, Wallet

register = template.Library()


@register.simple_tag
def wallet_holder(wallet: Wallet) -> str:
    return holder_label(wallet)


@register.filter
def held_transfer(tx: Transaction) -> TransferHold | None:
    """``{% with hold=tx|held_transfer %}``: the held transfer a reservation is for."""
    return hold_for(tx)


@register.filter
def holder_display_name(wallet: Wallet) -> str:
    """Who holds a wallet, by name (for the other side of a transfer)."""
    return holder_name(wallet)
