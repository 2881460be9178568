"""Readers for checkout sessions."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from shop.models import CheckoutSession
from wallets import conf, fees
from wallets.amounts import exact, quantum
from wallets.exceptions import FeeConfigurationError
from wallets.holders import unopened_wallet, wallets_of
from wallets.swappable import get_wallet_model

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


@dataclass(frozen=True)
class PaymentOption:
    """A wallet that can pay the session, with the fee it would pay on top."""

    wallet: Any
    fee: Decimal
    total: Decimal

    @property
    def after(self) -> Decimal:
        return self.wallet.available - self.total


def payment_options(user: Any, session: CheckoutSession) -> list[PaymentOption]:
    """The user's active wallets in the session's unit with enough available for
    the amount and the fee that wallet would pay."""
    from wallets.selectors import wallet_list_for_holder

    wallets = list(wallet_list_for_holder(user).filter(unit=session.unit, is_frozen=False))
    receiving = _receiving_wallet(session) if wallets and fees.active_policies.get() else None
    options = []
    for wallet in wallets:
        fee = session_fee(session, wallet, receiving) if receiving is not None else Decimal(0)
        if wallet.available >= session.amount + fee:
            options.append(PaymentOption(wallet, fee, session.amount + fee))
    return options


def payable_wallets(user: Any, session: CheckoutSession) -> list[Any]:
    """The wallets of :func:`payment_options`."""
    return [option.wallet for option in payment_options(user, session)]


@exact
def session_fee(session: CheckoutSession, wallet: Any = None, receiving: Any = None) -> Decimal:
    """The fee paying ``session`` from ``wallet`` would add on top of its amount, by
    the engine's quote (0: none; a fee deducted from the merchant costs the buyer
    nothing). Without a wallet: what a wallet in the session's unit would pay (the
    embedded summary has no customer)."""
    if not fees.active_policies.get():
        return Decimal(0)
    if wallet is None:
        places = units().get(session.unit, conf.get("DEFAULT_DECIMAL_PLACES"))
        wallet = get_wallet_model()(unit=session.unit, decimal_places=places)
    receiving = receiving if receiving is not None else _receiving_wallet(session)
    try:
        quote = fees.quote(fees.PAYMENT, wallet, session.amount, receiving, session)
    except FeeConfigurationError:
        return Decimal(0)  # paying refuses it with the reason; the page still shows
    return quote.fee if quote is not None and not quote.deductible else Decimal(0)


def _receiving_wallet(session: CheckoutSession) -> Any:
    """The merchant's wallet the payment goes to (``merchant_wallet``'s choice),
    read without opening one: a page that shows a fee writes nothing."""
    found = list(wallets_of(session.merchant).filter(unit=session.unit).order_by("pk"))
    default = [w for w in found if w.slug == conf.get("DEFAULT_SLUG")]
    if default or found:
        return (default or found)[0]
    if session.unit == conf.get("DEFAULT_UNIT"):
        return unopened_wallet(session.merchant)
    return unopened_wallet(session.merchant, session.unit.lower(), unit=session.unit)


@exact
def fee_paid(session: CheckoutSession) -> Decimal:
    """The fee the payer's wallet paid on top of the session's payment (0: none)."""
    from shop.selectors import fees_paid

    if session.payment_id is None:
        return Decimal(0)
    return fees_paid(session.payment.from_wallet_id, [session.payment_id])
