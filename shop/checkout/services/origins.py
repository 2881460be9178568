"""The web origins a merchant allows to embed its checkout (Paddle's approved domains)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from shop.checkout.exceptions import CheckoutRequestInvalid
from shop.exceptions import NotAllowed
from shop.models import MerchantOrigin, Organization
from shop.selectors import can_manage_merchant


def normalize_origin(origin: str) -> str:
    parts = urlsplit((origin or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CheckoutRequestInvalid(f"'{origin}' is not an origin (scheme://host[:port]).")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise CheckoutRequestInvalid(f"'{origin}' is not an origin (scheme://host[:port]).")
    default_port = {"http": 80, "https": 443}[parts.scheme]
    port = f":{parts.port}" if parts.port and parts.port != default_port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def add_allowed_origin(merchant: Organization, origin: str, by: Any) -> MerchantOrigin:
    if not getattr(by, "is_staff", False) and not can_manage_merchant(by, merchant):
        raise NotAllowed("Only the merchant's owners and managers can allow origins.")
    value = normalize_origin(origin)
    return MerchantOrigin.objects.get_or_create(merchant=merchant, origin=value)[0]


def ensure_demo_merchant(origin: str) -> Organization:
    """The demo shop's merchant, allowed to embed from ``origin`` (DEBUG and tests only)."""
    merchant, _ = Organization.objects.get_or_create(
        slug="demo-merchant",
        defaults={"name": "Demo Shop", "kind": Organization.Kind.MERCHANT},
    )
    MerchantOrigin.objects.get_or_create(merchant=merchant, origin=normalize_origin(origin))
    return merchant
