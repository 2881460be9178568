"""Paying a checkout session and refunding its payment: engine operations.

The session is the product of the payment (``CheckoutSession`` implements the
engine's product protocol), so the engine locks its row before the wallets and
asks ``purchase_refusal`` under that lock: a session is paid at most once.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from shop.checkout.exceptions import (
    FeeChanged,
    SessionAlreadyPaid,
    SessionExpired,
    SessionNotPayable,
)
from shop.checkout.selectors import money, session_data
from shop.exceptions import NotAllowed
from shop.models import CheckoutSession
from shop.selectors import can_manage_merchant, fees_paid, owns_wallet
from shop.webhooks import emit_event
from wallets.amounts import Amount, exact, parse_amount
from wallets.audit import AuditDraft
from wallets.exceptions import IdempotencyConflict, ProductNotAvailable
from wallets.models import AuditEntry
from wallets.operations import Context, Operation, run
from wallets.services import purchase_service, transfer_service
from wallets.services.refunds import refund_wallets
from wallets.staff import acting_as_staff
from wallets.swappable import get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transfer = get_transfer_model()

Action = AuditEntry.Action


def session_refusal(session: CheckoutSession) -> SessionNotPayable | None:
    """Why the session cannot be paid, read from its fields (never from a message)."""
    if session.payment_id is not None or session.status == CheckoutSession.Status.COMPLETE:
        return SessionAlreadyPaid()
    if session.status == CheckoutSession.Status.EXPIRED or session.expires_at <= timezone.now():
        return SessionExpired()
    return None


@exact
def pay_session(
    session: CheckoutSession, user: Any, wallet: Wallet, expected_fee: Decimal | None = None
) -> Transfer:
    """Pay a session from one of ``user``'s wallets, once.

    In the payment's operation, with the session locked, the session is
    marked complete and its ``checkout.session.completed`` event written. A
    second confirm, by anyone, raises SessionAlreadyPaid; an expired session
    raises SessionExpired. The payer's double click replays the first payment.
    With ``expected_fee`` (the fee the customer was shown; 0 for none), a fee
    that changed in the meantime raises FeeChanged and nothing is paid.
    """
    if not owns_wallet(user, wallet):
        raise NotAllowed("You can only pay from your own wallets.")
    session.refresh_from_db()
    refusal = session_refusal(session)
    if refusal is not None:
        raise refusal

    def complete(transfers: list[Transfer]) -> None:
        [payment] = transfers
        # Under the operation's locks: raising here undoes the payment.
        if expected_fee is not None:
            fee = fees_paid(wallet.pk, [payment.pk])
            if fee != expected_fee:
                raise _fee_changed(fee, expected_fee, session.unit)
        updated = CheckoutSession.objects.filter(
            pk=session.pk, status=CheckoutSession.Status.OPEN, payment__isnull=True
        ).update(
            status=CheckoutSession.Status.COMPLETE,
            payment=payment,
            paid_by=user,
            completed_at=timezone.now(),
        )
        if updated != 1:
            # The engine asked purchase_refusal under this row's lock; raising
            # undoes the payment if something still slipped past it.
            raise SessionNotPayable()
        paid = CheckoutSession.objects.select_related("merchant", "payment").get(pk=session.pk)
        emit_event(paid.merchant, "checkout.session.completed", session_data(paid))

    try:
        payment = purchase_service().pay(
            wallet,
            session,
            meta={"checkout_session": session.public_id},
            idempotency_key=f"checkout:{session.public_id}",
            customer=user,
            on_paid=complete,
        )
    except (ProductNotAvailable, IdempotencyConflict):
        # Refused under the lock (paid or expired meanwhile), or the payer's
        # key already paid it from another wallet: say which, from the fields.
        session.refresh_from_db()
        refusal = session_refusal(session)
        if refusal is None:
            raise
        raise refusal from None
    session.refresh_from_db()
    return payment


def _fee_changed(fee: Decimal, expected: Decimal, unit: str) -> FeeChanged:
    return FeeChanged(
        f"The fee is now {money(fee, unit)} {unit}, not {money(expected, unit)}: the fees "
        "changed since this page was shown. Check the new total and pay again."
    )


@exact
def refund_session_payment(
    session: CheckoutSession,
    by: Any,
    amount: Amount | None = None,
    reason: str = "",
    *,
    idempotency_key: str = "",
    ip: str | None = None,
) -> Transfer:
    """Refund a paid session in full or in part and tell the merchant (``payment.refunded``).

    One engine operation, with the session locked as a product and the
    payment's two wallets: the refund and its event commit together. The
    merchant's managers refund on their own authority; other staff need the
    permission and a reason, and the door writes their audit entry. A retry
    with the same ``idempotency_key`` returns the first refund.
    """
    is_owner = can_manage_merchant(by, session.merchant_id)
    try:
        actor = acting_as_staff(by, Action.REFUND_TRANSFER, is_owner=is_owner, reason=reason, ip=ip)
    except PermissionDenied:
        raise NotAllowed("Only staff or the merchant's managers can refund this payment.") from None
    paid = CheckoutSession.objects.select_related("payment__from_wallet", "payment__to_wallet").get(
        pk=session.pk
    )
    payment = paid.payment
    if payment is None:
        raise SessionNotPayable("This checkout has not been paid.")
    requested = (
        None if amount in (None, "") else parse_amount(amount, payment.from_wallet.decimal_places)
    )

    def perform(context: Context) -> Transfer:
        before = Transfer.objects.values_list("refunded_amount", flat=True).get(pk=payment.pk)
        note = (context.reason or reason.strip())[:200]
        refund = transfer_service().refund(
            payment, requested, meta={"checkout_session": paid.public_id, "reason": note}
        )
        fresh = CheckoutSession.objects.select_related("merchant", "payment").get(pk=paid.pk)
        data = session_data(fresh)
        data["refund"] = {"id": str(refund.uuid), "amount": money(refund.received, fresh.unit)}
        emit_event(fresh.merchant, "payment.refunded", data)
        context.audit = AuditDraft(
            target=fresh.payment,
            amount=refund.received,
            unit=fresh.unit,
            before={
                "checkout_session": fresh.public_id,
                "refunded_amount": money(before, fresh.unit),
            },
            after={
                "checkout_session": fresh.public_id,
                "refunded_amount": money(fresh.payment.refunded_amount, fresh.unit),
                "refund": str(refund.uuid),
            },
        )
        return refund

    return run(
        Operation(
            "refund_checkout_session",
            products=[paid],
            wallets=refund_wallets([payment]),
            idempotency_key=idempotency_key or None,
            # Staff keys are scoped to the staff member by the door.
            scope=None if actor else f"user:{by.pk}",
            fingerprint=[paid.public_id, None if requested is None else str(requested)],
            actor=actor,
            action=Action.REFUND_TRANSFER,
        ),
        perform,
    )
