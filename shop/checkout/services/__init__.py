"""Writers of the embedded checkout, one module per job:

- ``api_keys``: the merchant server's secret keys;
- ``origins``: the web origins allowed to embed the checkout;
- ``sessions``: creating and expiring checkout sessions;
- ``payments``: paying a session and refunding its payment (engine operations).

The names below are the checkout's public writers; import them from here.
"""

from shop.checkout.exceptions import (
    CheckoutRequestInvalid,
    FeeChanged,
    InvalidAPIKey,
    SessionAlreadyPaid,
    SessionExpired,
    SessionNotPayable,
    UnknownUnit,
)
from shop.checkout.services.api_keys import authenticate_api_key, create_api_key, revoke_api_key
from shop.checkout.services.origins import (
    add_allowed_origin,
    ensure_demo_merchant,
    normalize_origin,
)
from shop.checkout.services.payments import pay_session, refund_session_payment
from shop.checkout.services.sessions import (
    cancel_url_for,
    create_session,
    expire_due_sessions,
    expire_session,
    success_url_for,
)

__all__ = [
    "CheckoutRequestInvalid",
    "FeeChanged",
    "InvalidAPIKey",
    "SessionAlreadyPaid",
    "SessionExpired",
    "SessionNotPayable",
    "UnknownUnit",
    "add_allowed_origin",
    "authenticate_api_key",
    "cancel_url_for",
    "create_api_key",
    "create_session",
    "ensure_demo_merchant",
    "expire_due_sessions",
    "expire_session",
    "normalize_origin",
    "pay_session",
    "refund_session_payment",
    "revoke_api_key",
    "success_url_for",
]
