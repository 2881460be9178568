"""Signing and verifying webhook bodies.

Self-contained (standard library only) so a merchant can copy it to their own
server. The header is ``Wallet-Signature: t=<unix time>,v1=<hex>`` where
``<hex>`` is HMAC-SHA256 of ``f"{t}.{raw_body}"`` keyed with the endpoint's
signing secret. Verify the raw bytes you received, before parsing the JSON,
reject timestamps older than five minutes, and deduplicate on the event ``id``::

    from shop.webhook_signature import verify

    def webhook(request):
        try:
            verify(WEBHOOK_SECRET, request.body, request.headers["Wallet-Signature"])
        except (KeyError, SignatureInvalid):
            return HttpResponse(status=400)
        event = json.loads(request.body)
        ...
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Wallet-Signature"
TOLERANCE_SECONDS = 300


class SignatureInvalid(Exception):
    pass


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


def compute(secret: str, timestamp: int, body: bytes | str) -> str:
    signed = str(timestamp).encode() + b"." + _as_bytes(body)
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes | str, timestamp: int | None = None) -> str:
    """The header value for ``body``."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={compute(secret, t, body)}"


def verify(
    secret: str,
    body: bytes | str,
    header: str,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Check ``header`` against ``body``; return its timestamp or raise SignatureInvalid."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureInvalid("The signature header is malformed.")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureInvalid("The signature timestamp is outside the tolerance.")
    expected = compute(secret, timestamp, body)
    # Several v1 entries are allowed so secrets can be rotated.
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureInvalid("The signature does not match the body.")
    return timestamp
