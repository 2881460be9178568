"""The shop's errors. Like the engine's, each carries a message fit to show and a
``code`` that callers branch on instead of the text."""

from __future__ import annotations

from wallets.exceptions import WalletError


class ShopError(WalletError):
    default_message = "The shop could not do that."
    code = "shop_error"


class NotAllowed(ShopError):
    default_message = "You are not allowed to do that."
    code = "not_allowed"


class CartInvalid(ShopError):
    default_message = "The cart is not valid."
    code = "cart_invalid"


class RefundInvalid(ShopError):
    default_message = "That refund is not possible."
    code = "refund_invalid"
