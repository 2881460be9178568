"""Public identifiers and secrets of shop rows."""

import secrets


def order_number() -> str:
    return f"ord_{secrets.token_hex(8)}"


def session_id() -> str:
    return f"cs_{secrets.token_urlsafe(24)}"


def event_id() -> str:
    return f"evt_{secrets.token_urlsafe(18)}"


def client_secret() -> str:
    return f"cs_secret_{secrets.token_urlsafe(24)}"


def webhook_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"
