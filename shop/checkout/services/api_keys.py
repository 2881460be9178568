"""Merchant API keys: issued once in clear, kept as a SHA-256, checked per request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from django.utils import timezone

from shop.checkout.exceptions import InvalidAPIKey
from shop.exceptions import NotAllowed
from shop.models import MerchantAPIKey, Organization
from shop.selectors import can_manage_merchant


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_api_key(merchant: Organization, by: Any, name: str = "") -> tuple[MerchantAPIKey, str]:
    """Issue a key; the raw key is returned once and only its hash is kept."""
    if not getattr(by, "is_staff", False) and not can_manage_merchant(by, merchant):
        raise NotAllowed("Only the merchant's owners and managers can create API keys.")
    if merchant.kind != Organization.Kind.MERCHANT:
        raise NotAllowed("Only merchants have API keys.")
    prefix = secrets.token_hex(6)
    raw = f"sk_{prefix}_{secrets.token_urlsafe(32)}"
    key = MerchantAPIKey.objects.create(
        merchant=merchant, name=name[:60], prefix=prefix, key_hash=_hash(raw), created_by=by
    )
    return key, raw


def revoke_api_key(key: MerchantAPIKey, by: Any) -> None:
    if not getattr(by, "is_staff", False) and not can_manage_merchant(by, key.merchant_id):
        raise NotAllowed("Only the merchant's owners and managers can revoke API keys.")
    MerchantAPIKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    key.refresh_from_db(fields=["revoked_at"])


def authenticate_api_key(raw: str | None) -> MerchantAPIKey:
    """The active key matching ``raw`` (``sk_<prefix>_<secret>``), or InvalidAPIKey."""
    parts = (raw or "").split("_", 2)
    if len(parts) != 3 or parts[0] != "sk":
        raise InvalidAPIKey()
    key = MerchantAPIKey.objects.select_related("merchant").filter(prefix=parts[1]).first()
    # Hash even when the prefix is unknown so timing does not tell them apart.
    digest = _hash(raw or "")
    if key is None or not hmac.compare_digest(digest, key.key_hash) or not key.is_active:
        raise InvalidAPIKey()
    MerchantAPIKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return key
