"""Template helpers about who holds a wallet."""

from __future__ import annotations

from django import template

from portal.selectors import holder_label
from wallets.models import Wallet

register = template.Library()


@register.simple_tag
def wallet_holder(wallet: Wallet) -> str:
    return holder_label(wallet)
