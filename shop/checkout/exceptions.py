"""The embedded checkout's errors; each has a ``code`` callers branch on."""

from __future__ import annotations

from shop.exceptions import ShopError


class InvalidAPIKey(ShopError):
    default_message = "The API key is missing, unknown or revoked."
    code = "invalid_api_key"


class CheckoutRequestInvalid(ShopError):
    """``field`` names the part of the request that was refused (``line_items[0].name``)."""

    default_message = "The checkout request is not valid."
    code = "checkout_request_invalid"

    def __init__(
        self, message: str | None = None, *, field: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.field = field


class UnknownUnit(CheckoutRequestInvalid):
    default_message = "Unknown unit."
    code = "unknown_unit"


class CancelNotAllowed(ShopError):
    """Only the payer may cancel a session that is no longer open."""

    default_message = "This checkout can no longer be cancelled."
    code = "cancel_not_allowed"


class SessionNotPayable(ShopError):
    default_message = "This checkout cannot be paid."
    code = "session_not_payable"


class SessionAlreadyPaid(SessionNotPayable):
    default_message = "This checkout has already been paid."
    code = "session_already_paid"


class SessionExpired(SessionNotPayable):
    default_message = "This checkout has expired."
    code = "session_expired"


class FeeChanged(ShopError):
    """The fee is not the one the customer was shown: nothing was paid."""

    default_message = "The fee changed since this page was shown. Check it and pay again."
    code = "fee_changed"
