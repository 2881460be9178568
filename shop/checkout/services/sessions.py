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
    CancelNotAllowed,
    CheckoutRequestInvalid,
    InvalidAPIKey,
    SessionAlreadyPaid,
    UnknownUnit,
)
from shop.checkout.selectors import effective_status, money, session_data, units
from shop.checkout.services.origins import normalize_origin
from shop.models import CheckoutSession, MerchantAPIKey, Organization, Product
from shop.webhooks import emit_event
from wallets.amounts import exact, parse_amount, parse_amount_text
from wallets.exceptions import AmountInvalid, IdempotencyConflict

DEFAULT_EXPIRY = timedelta(minutes=30)
MIN_EXPIRY = timedelta(minutes=5)
MAX_EXPIRY = timedelta(hours=24)
# Stripe's limits for metadata, which merchants already know.
METADATA_KEYS = 50
METADATA_KEY_LENGTH = 40
METADATA_VALUE_LENGTH = 500


def _text(payload: dict, name: str, limit: int, field: str | None = None) -> str:
    field = field or name
    value = payload.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CheckoutRequestInvalid(f"'{field}' must be a string.", field=field)
    if "\x00" in value:
        raise CheckoutRequestInvalid(f"'{field}' contains a NUL character.", field=field)
    if len(value) > limit:
        raise CheckoutRequestInvalid(f"'{field}' is longer than {limit} characters.", field=field)
    return value


def _url(payload: dict, name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value:
        raise CheckoutRequestInvalid(f"'{name}' is required.", field=name)
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise CheckoutRequestInvalid(f"'{name}' is not an http(s) URL.", field=name) from None
    return value


def _amount(value: Any, unit: str, name: str = "amount") -> Decimal:
    # Floats are refused: the merchant sends the exact decimal as a string, read
    # by the same rule as the portal's forms, or a whole number.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise CheckoutRequestInvalid(
            f"'{name}' must be a decimal string such as \"12.50\".", field=name
        )
    try:
        exact_value = parse_amount_text(value) if isinstance(value, str) else value
        return parse_amount(exact_value, units()[unit])
    except AmountInvalid as exc:
        raise CheckoutRequestInvalid(f"'{name}': {exc.message}", field=name) from None


def _unit(value: Any, field: str = "unit") -> str:
    if not isinstance(value, str) or value.upper() not in units():
        raise UnknownUnit(
            f"Unknown unit {value!r}; use one of {', '.join(sorted(units()))}.", field=field
        )
    return value.upper()


def _metadata(payload: dict) -> dict[str, str]:
    metadata = payload.get("metadata") or {}
    if not isinstance(metadata, dict) or len(metadata) > METADATA_KEYS:
        raise CheckoutRequestInvalid(
            f"'metadata' must be an object of up to {METADATA_KEYS} string values.",
            field="metadata",
        )
    for key, value in metadata.items():
        field = f"metadata.{key}"
        if len(key) > METADATA_KEY_LENGTH:
            raise CheckoutRequestInvalid(
                f"Metadata keys are at most {METADATA_KEY_LENGTH} characters.", field=field
            )
        _text(metadata, key, METADATA_VALUE_LENGTH, field=field)
        if not isinstance(value, str):
            raise CheckoutRequestInvalid(f"'{field}' must be a string.", field=field)
    return metadata


def _embed_origin(merchant: Organization, payload: dict) -> str:
    try:
        origin = normalize_origin(_text(payload, "embed_origin", 200))
    except ValueError:  # a port out of range, which urlsplit only notices when asked
        raise CheckoutRequestInvalid(
            "'embed_origin' is not an origin (scheme://host[:port]).", field="embed_origin"
        ) from None
    except CheckoutRequestInvalid as exc:
        raise CheckoutRequestInvalid(exc.message, field="embed_origin") from None
    if not merchant.checkout_origins.filter(origin=origin).exists():
        raise CheckoutRequestInvalid(
            f"'{origin}' is not one of this merchant's allowed origins.", field="embed_origin"
        )
    return origin


def check_column_lengths(session: CheckoutSession) -> None:
    """Every text column's max_length, checked before saving: never a database error."""
    for field in CheckoutSession._meta.concrete_fields:
        value = getattr(session, field.attname)
        if field.max_length and isinstance(value, str) and len(value) > field.max_length:
            raise CheckoutRequestInvalid(
                f"'{field.name}' is longer than {field.max_length} characters.",
                field=field.name,
            )


@exact
def _lines(merchant: Organization, payload: dict) -> tuple[list[dict], Decimal, str]:
    raw = payload.get("line_items")
    if not isinstance(raw, list) or not raw or len(raw) > 100:
        raise CheckoutRequestInvalid(
            "'line_items' must be a list of 1 to 100 items.", field="line_items"
        )
    lines: list[dict] = []
    unit = _unit(payload["unit"]) if payload.get("unit") is not None else None
    for index, item in enumerate(raw):
        at = f"line_items[{index}]"
        if not isinstance(item, dict):
            raise CheckoutRequestInvalid(f"{at} must be an object.", field=at)
        quantity = item.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 999:
            raise CheckoutRequestInvalid(f"{at}.quantity must be 1 to 999.", field=f"{at}.quantity")
        if "product" in item:
            product = Product.objects.filter(
                merchant=merchant, pk=item["product"] if isinstance(item["product"], int) else None
            ).first()
            if product is None or not product.is_active:
                raise CheckoutRequestInvalid(f"{at}: unknown product.", field=f"{at}.product")
            line_unit, name, price = product.unit, product.name, product.price
        else:
            name = _text(item, "name", 120, field=f"{at}.name")
            if not name:
                raise CheckoutRequestInvalid(f"{at}.name is required.", field=f"{at}.name")
            line_unit = unit or _unit(item.get("unit"), field=f"{at}.unit")
            price = _amount(item.get("unit_price"), line_unit, f"{at}.unit_price")
        if unit is None:
            unit = line_unit
        if line_unit != unit:
            raise CheckoutRequestInvalid(
                "All line items must be in the same unit.", field=f"{at}.unit"
            )
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
    if len(idempotency_key) > 200 or not idempotency_key.isprintable():
        raise CheckoutRequestInvalid(
            "The Idempotency-Key must be up to 200 printable characters.",
            field="Idempotency-Key",
        )
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
                    f"'amount' {stated} does not match the line items' total {amount}.",
                    field="amount",
                )
    else:
        unit = _unit(payload.get("unit"))
        amount = _amount(payload.get("amount"), unit)
        line_items = []
    mode = payload.get("mode", CheckoutSession.Mode.HOSTED)
    if mode not in CheckoutSession.Mode.values:
        raise CheckoutRequestInvalid("'mode' must be 'hosted' or 'embedded'.", field="mode")
    embed_origin = ""
    if payload.get("embed_origin") is not None or mode == CheckoutSession.Mode.EMBEDDED:
        embed_origin = _embed_origin(merchant, payload)
    expires_in = payload.get("expires_in", int(DEFAULT_EXPIRY.total_seconds()))
    if (
        isinstance(expires_in, bool)
        or not isinstance(expires_in, int)
        or not MIN_EXPIRY.total_seconds() <= expires_in <= MAX_EXPIRY.total_seconds()
    ):
        raise CheckoutRequestInvalid(
            "'expires_in' must be 300 to 86400 seconds.", field="expires_in"
        )
    metadata = _metadata(payload)

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
    check_column_lengths(session)
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


def cancel_url_for(session: CheckoutSession, user: Any) -> str:
    """Where "cancel" sends ``user``: the merchant's cancel_url.

    Cancelling leaves the session open until it expires, as with Stripe. Only
    an open session can be cancelled by whoever is looking at it; once paid or
    expired only its payer may (and is sent back the same way). Anyone else is
    refused, so a stranger cannot use a paid session to reach the merchant's
    cancel page as if they had abandoned it.
    """
    if effective_status(session) != CheckoutSession.Status.OPEN and (
        session.paid_by_id is None or session.paid_by_id != getattr(user, "pk", None)
    ):
        raise CancelNotAllowed()
    return session.cancel_url


def success_url_for(session: CheckoutSession) -> str:
    separator = "&" if "?" in session.success_url else "?"
    return f"{session.success_url}{separator}session_id={session.public_id}"
