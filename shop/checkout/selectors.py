"""Readers for checkout sessions."""

from __future__ import annotations

from django.utils import timezone

from shop.models import CheckoutSession


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
