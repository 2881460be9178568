"""The shop's errors. Like the engine's, each carries a message fit to show."""

from __future__ import annotations

from wallets.exceptions import WalletError


class ShopError(WalletError):
    default_message = "The shop could not do that."


class NotAllowed(ShopError):
    default_message = "You are not allowed to do that."


class CartInvalid(ShopError):
    default_message = "The cart is not valid."


class RefundInvalid(ShopError):
    default_message = "That refund is not possible."
