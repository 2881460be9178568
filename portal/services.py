"""Portal-level orchestration on top of the wallet engine's public API.

The engine's ``get_wallet`` is get-or-create; the portal needs "open a new wallet, and
refuse if that slug is taken", so that refusal lives here.
"""

from __future__ import annotations

from typing import Any

from wallets.exceptions import WalletError
from wallets.models import Wallet


class WalletAlreadyExists(WalletError):
    default_message = "A wallet with that slug already exists."


def open_wallet(holder: Any, *, slug: str, name: str, unit: str, decimal_places: int) -> Wallet:
    if holder.has_wallet(slug):
        raise WalletAlreadyExists(f"You already have a wallet with the slug '{slug}'.")
    return holder.get_wallet(slug, name=name, unit=unit, decimal_places=decimal_places)
