"""Checkout sessions: created by the merchant's server, expired by it or by time."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from shop.checkout.exceptions import (
    CheckoutRequestInvalid,
    InvalidAPIKey,
    SessionAlreadyPaid,
    UnknownUnit,
)
from shop.checkout.selectors import money, session_data, units
from shop.checkout.services.origins import normalize_origin
from shop.models import CheckoutSession, MerchantAPIKey, Organization, Product
from shop.webhooks import emit_event
from wallets.amounts import exact, parse_amount
from wallets.exceptions import AmountInvalid, IdempotencyConflict

DEFAULT_EXPIRY = timedelta(minutes=30)
MIN_EXPIRY = timedelta(minutes=5)
MAX_EXPIRY = timedelta(hours=24)


def _text(payload: dict, name: str, limit: int) -> str:
    value = payload.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CheckoutRequestInvalid(f"'{name}' must be a string.")
    if len(value) > limit:
        raise CheckoutRequestInvalid(f"'{name}' is longer than {limit} characters.")
    return value


def _url(payload: dict, name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value:
        raise CheckoutRequestInvalid(f"'{name}' is required.")
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise CheckoutRequestInvalid(f"'{name}' is not an http(s) URL.") from None
    return value


def _amount(value: Any, unit: str, name: str = "amount") -> Decimal:
    # Floats are refused: the merchant must send the exact decimal as a string.
    if isinstance(value, float) or value is None:
        raise CheckoutRequestInvalid(f"'{name}' must be a decimal string such as \"12.50\".")
    try:
        return parse_amount(value, units()[unit])
    except AmountInvalid as exc:
        raise CheckoutRequestInvalid(f"'{name}': {exc}") from None


def _unit(value: Any) -> str:
    if not isinstance(value, str) or value.upper() not in units():
        raise UnknownUnit(f"Unknown unit {value!r}; use one of {', '.join(sorted(units()))}.")
    return value.upper()


@exact
def _lines(merchant: Organization, payload: dict) -> tuple[list[dict], Decimal, str]:
    raw = payload.get("line_items")
    if not isinstance(raw, list) or not raw or len(raw) > 100:
        raise CheckoutRequestInvalid("'line_items' must be a list of 1 to 100 items.")
    lines: list[dict] = []
    unit = _unit(payload["unit"]) if payload.get("unit") is not None else None
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise CheckoutRequestInvalid(f"line_items[{index}] must be an object.")
        quantity = item.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 999:
            raise CheckoutRequestInvalid(f"line_items[{index}].quantity must be 1 to 999.")
        if "product" in item:
            product = Product.objects.filter(
                merchant=merchant, pk=item["product"] if isinstance(item["product"], int) else None
            ).first()
            if product is None or not product.is_active:
                raise CheckoutRequestInvalid(f"line_items[{index}]: unknown product.")
            line_unit, name, price = product.unit, product.name, product.price
        else:
            name = _text(item, "name", 120)
            if not name:
                raise CheckoutRequestInvalid(f"line_items[{index}].name is required.")
            line_unit = unit or _unit(item.get("unit"))
            price = _amount(item.get("unit_price"), line_unit, f"line_items[{index}].unit_price")
        if unit is None:
            unit = line_unit
        if line_unit != unit:
            raise CheckoutRequestInvalid("All line items must be in the same unit.")
        lines.append(
            {
                "name": name,
                "quantity": quantity,
                "unit_price": money(price, line_unit),
                "unit": line_unit,
            }
        )
    total = sum((Decimal(line["unit_price"]) * line["quantity"] for line in lines), Decimal(0))
    return lines, total, unit


def _fingerprint(payload: dict) -> str:
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


@exact
def create_session(
    api_key: MerchantAPIKey | None,
    payload: Any,
    idempotency_key: str = "",
    merchant: Organization | None = None,
) -> tuple[CheckoutSession, bool]:
    """Create a session from the merchant server's JSON; returns (session, created).

    The merchant is the API key's (or ``merchant`` for in-process callers such
    as the demo shop). With an ``idempotency_key``, a retry with the same body
    returns the first session and a different body raises IdempotencyConflict.
    """
    merchant = api_key.merchant if api_key is not None else merchant
    if merchant is None:
        raise InvalidAPIKey()
    if not isinstance(payload, dict):
        raise CheckoutRequestInvalid("The body must be a JSON object.")
    if len(idempotency_key) > 200:
        raise CheckoutRequestInvalid("The Idempotency-Key is longer than 200 characters.")
    fingerprint = _fingerprint(payload)
    if idempotency_key:
        existing = _replay(merchant, idempotency_key, fingerprint)
        if existing is not None:
            return existing, False

    if "line_items" in payload:
        line_items, amount, unit = _lines(merchant, payload)
        if payload.get("amount") is not None:
            stated = _amount(payload["amount"], unit)
            if stated != amount:
                raise CheckoutRequestInvalid(
                    f"'amount' {stated} does not match the line items' total {amount}."
                )
    else:
        unit = _unit(payload.get("unit"))
        amount = _amount(payload.get("amount"), unit)
        line_items = []
    mode = payload.get("mode", CheckoutSession.Mode.HOSTED)
    if mode not in CheckoutSession.Mode.values:
        raise CheckoutRequestInvalid("'mode' must be 'hosted' or 'embedded'.")
    embed_origin = ""
    if payload.get("embed_origin") is not None or mode == CheckoutSession.Mode.EMBEDDED:
        embed_origin = normalize_origin(_text(payload, "embed_origin", 200))
        if not merchant.checkout_origins.filter(origin=embed_origin).exists():
            raise CheckoutRequestInvalid(
                f"'{embed_origin}' is not one of this merchant's allowed origins."
            )
    expires_in = payload.get("expires_in", int(DEFAULT_EXPIRY.total_seconds()))
    if (
        isinstance(expires_in, bool)
        or not isinstance(expires_in, int)
        or not MIN_EXPIRY.total_seconds() <= expires_in <= MAX_EXPIRY.total_seconds()
    ):
        raise CheckoutRequestInvalid("'expires_in' must be 300 to 86400 seconds.")
    metadata = payload.get("metadata") or {}
    if (
        not isinstance(metadata, dict)
        or len(metadata) > 50
        or not all(isinstance(v, str) and len(v) <= 500 for v in metadata.values())
    ):
        raise CheckoutRequestInvalid("'metadata' must be an object of up to 50 string values.")

    session = CheckoutSession(
        merchant=merchant,
        api_key=api_key,
        amount=amount,
        unit=unit,
        description=_text(payload, "description", 300),
        line_items=line_items,
        client_reference_id=_text(payload, "client_reference_id", 200),
        metadata=metadata,
        mode=mode,
        success_url=_url(payload, "success_url"),
        cancel_url=_url(payload, "cancel_url"),
        embed_origin=embed_origin,
        expires_at=timezone.now() + timedelta(seconds=expires_in),
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
    )
    try:
        with transaction.atomic():
            session.save()
    except IntegrityError:
        # The same key raced us; the other request's session is the answer.
        existing = _replay(merchant, idempotency_key, fingerprint)
        if existing is None:
            raise
        return existing, False
    return session, True


def _replay(merchant: Organization, key: str, fingerprint: str) -> CheckoutSession | None:
    existing = CheckoutSession.objects.filter(merchant=merchant, idempotency_key=key).first()
    if existing is not None and existing.request_fingerprint != fingerprint:
        raise IdempotencyConflict(
            f"The Idempotency-Key '{key}' was already used with a different request body."
        )
    return existing


def expire_session(session: CheckoutSession) -> CheckoutSession:
    """Close an open session so it can no longer be paid (idempotent)."""
    with transaction.atomic():
        locked = CheckoutSession.objects.select_for_update().get(pk=session.pk)
        if locked.status == CheckoutSession.Status.COMPLETE:
            raise SessionAlreadyPaid("This checkout has already been paid; it cannot expire.")
        if locked.status == CheckoutSession.Status.OPEN:
            locked.status = CheckoutSession.Status.EXPIRED
            locked.save(update_fields=["status"])
            emit_event(locked.merchant, "checkout.session.expired", session_data(locked))
    return locked


def expire_due_sessions(limit: int = 500) -> int:
    """Expire open sessions past their time, each with its webhook event."""
    due = CheckoutSession.objects.filter(
        status=CheckoutSession.Status.OPEN, expires_at__lte=timezone.now()
    ).values_list("pk", flat=True)[:limit]
    count = 0
    for pk in list(due):
        with transaction.atomic():
            locked = (
                CheckoutSession.objects.select_for_update()
                .filter(pk=pk, status=CheckoutSession.Status.OPEN)
                .first()
            )
            if locked is None:
                continue
            locked.status = CheckoutSession.Status.EXPIRED
            locked.save(update_fields=["status"])
            emit_event(locked.merchant, "checkout.session.expired", session_data(locked))
            count += 1
    return count


def cancel_url_for(session: CheckoutSession) -> str:
    """Cancelling leaves the session open until it expires, as with Stripe."""
    return session.cancel_url


def success_url_for(session: CheckoutSession) -> str:
    separator = "&" if "?" in session.success_url else "?"
    return f"{session.success_url}{separator}session_id={session.public_id}"
