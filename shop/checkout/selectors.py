"""Readers for checkout sessions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from shop.models import CheckoutSession
from wallets.amounts import quantum

# Units a merchant may charge in, with how many decimals an amount may have.
DEFAULT_UNITS = {"USD": 2, "EUR": 2, "PTS": 0}


def units() -> dict[str, int]:
    return getattr(settings, "SHOP_UNITS", DEFAULT_UNITS)


def money(value: Decimal, unit: str) -> str:
    """An amount written with its unit's decimals: "25.00", not "25"."""
    places = units().get(unit)
    if places is None or -value.as_tuple().exponent > places:
        return str(value)
    return str(value.quantize(quantum(places)))


def session_payable_problem(session: CheckoutSession) -> str | None:
    """Why the session cannot be paid now, or None."""
    if session.payment_id is not None or session.status == CheckoutSession.Status.COMPLETE:
        return "This checkout has already been paid."
    if session.status == CheckoutSession.Status.EXPIRED or session.expires_at <= timezone.now():
        return "This checkout has expired."
    return None


def effective_status(session: CheckoutSession) -> str:
    """The status as of now: an open session past its expiry reads as expired."""
    if session.status == CheckoutSession.Status.OPEN and session.expires_at <= timezone.now():
        return CheckoutSession.Status.EXPIRED
    return session.status


def session_data(session: CheckoutSession) -> dict[str, Any]:
    """The session as the merchant's server sees it (API and webhooks)."""
    payment = None
    if session.payment_id is not None:
        payment = {
            "id": str(session.payment.uuid),
            "amount": money(session.payment.amount, session.unit),
            "refunded_amount": money(session.payment.refunded_amount, session.unit),
            "created": int(session.payment.created_at.timestamp()),
        }
    return {
        "id": session.public_id,
        "object": "checkout.session",
        "status": effective_status(session),
        "mode": session.mode,
        "amount": money(session.amount, session.unit),
        "unit": session.unit,
        "description": session.description,
        "line_items": session.line_items,
        "client_reference_id": session.client_reference_id,
        "metadata": session.metadata,
        "success_url": session.success_url,
        "cancel_url": session.cancel_url,
        "embed_origin": session.embed_origin or None,
        "expires_at": int(session.expires_at.timestamp()),
        "created": int(session.created_at.timestamp()),
        "payment": payment,
    }


def session_for_merchant(merchant_id: int, public_id: str) -> CheckoutSession:
    """Raises CheckoutSession.DoesNotExist for another merchant's session."""
    return CheckoutSession.objects.select_related("merchant", "payment").get(
        merchant_id=merchant_id, public_id=public_id
    )


def payable_wallets(user: Any, session: CheckoutSession) -> list[Any]:
    """The user's active wallets in the session's unit with enough available."""
    from wallets.selectors import wallet_list_for_holder

    return [
        wallet
        for wallet in wallet_list_for_holder(user).filter(unit=session.unit, is_frozen=False)
        if wallet.available >= session.amount
    ]
