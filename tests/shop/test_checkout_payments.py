"""Paying a checkout session and refunding its payment, as engine operations."""

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from portal.models import User
from shop.checkout.services import (
    SessionAlreadyPaid,
    SessionExpired,
    pay_session,
    refund_session_payment,
)
from shop.checkout.services import payments as checkout_payments
from shop.exceptions import NotAllowed
from shop.models import CheckoutSession, Membership, WebhookEvent
from wallets.exceptions import IdempotencyConflict
from wallets.models import AuditEntry
from wallets.swappable import get_transfer_model

Transfer = get_transfer_model()

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(merchant):
    return CheckoutSession.objects.create(
        merchant=merchant,
        amount=Decimal("25.00"),
        unit="USD",
        success_url="https://merchant.example/ok",
        cancel_url="https://merchant.example/no",
        expires_at=timezone.now() + timedelta(minutes=30),
    )


@pytest.fixture
def paid(session, buyer):
    pay_session(session, buyer, buyer.wallet)
    return session


@pytest.fixture
def staff(db):
    return User.objects.create_superuser("staff", "staff@example.com", "pw")


@pytest.fixture
def neutral_refusals(monkeypatch):
    """Refusal texts that name no reason, so only the session's fields can tell."""
    from shop.checkout import selectors

    real = selectors.session_payable_problem
    monkeypatch.setattr(
        selectors, "session_payable_problem", lambda session: "No." if real(session) else None
    )


def open_before_the_lock(monkeypatch):
    """The check before the engine's lock sees the session open (a race lost)."""
    real = checkout_payments.session_refusal
    calls = []

    def refusal(session):
        calls.append(session.pk)
        return None if len(calls) == 1 else real(session)

    monkeypatch.setattr(checkout_payments, "session_refusal", refusal)


def expire(session, how):
    if how == "status":
        CheckoutSession.objects.filter(pk=session.pk).update(status="expired")
    else:
        CheckoutSession.objects.filter(pk=session.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )


def test_paying_completes_the_session_and_writes_its_event_in_the_payment(session, buyer):
    payment = pay_session(session, buyer, buyer.wallet)
    assert session.status == "complete" and session.payment == payment
    assert session.paid_by == buyer and session.completed_at is not None
    [event] = WebhookEvent.objects.all()
    assert event.type == "checkout.session.completed"
    assert json.loads(event.body)["data"]["object"]["payment"]["id"] == str(payment.uuid)


def test_a_paid_session_refuses_another_payer(paid, buyer, merchant):
    other = User.objects.create_user("other", email="other@example.com", password="pw")
    other.deposit("50.00")
    with pytest.raises(SessionAlreadyPaid):
        pay_session(paid, other, other.wallet)
    with pytest.raises(SessionAlreadyPaid):
        pay_session(paid, buyer, buyer.wallet)
    assert other.balance == Decimal("50.00") and merchant.balance == Decimal("25.00")


@pytest.mark.parametrize("how", ["status", "time"])
def test_an_expired_session_raises_session_expired(session, buyer, neutral_refusals, how):
    expire(session, how)
    with pytest.raises(SessionExpired):
        pay_session(session, buyer, buyer.wallet)
    assert buyer.balance == Decimal("100.00")


@pytest.mark.parametrize("state", ["paid", "expired_status", "expired_time"])
def test_a_refusal_under_the_lock_is_named_from_the_sessions_fields(
    session, buyer, monkeypatch, neutral_refusals, state
):
    """The session changed between the check and the lock: the engine refuses
    with a text that names no reason, and the fields decide which error."""
    other = User.objects.create_user("other", email="other@example.com", password="pw")
    other.deposit("50.00")
    if state == "paid":
        pay_session(session, other, other.wallet)
    else:
        expire(session, state.removeprefix("expired_"))
    open_before_the_lock(monkeypatch)
    expected = SessionAlreadyPaid if state == "paid" else SessionExpired
    with pytest.raises(expected):
        pay_session(session, buyer, buyer.wallet)
    assert buyer.balance == Decimal("100.00")


def test_the_payers_second_wallet_gets_already_paid_not_a_key_conflict(paid, buyer, monkeypatch):
    second = buyer.get_wallet("second", name="Second")
    second.deposit("30.00")
    open_before_the_lock(monkeypatch)
    with pytest.raises(SessionAlreadyPaid) as caught:
        pay_session(paid, buyer, second)
    assert not isinstance(caught.value, IdempotencyConflict)
    second.refresh_from_db()
    assert second.balance == Decimal("30.00")


def test_the_same_session_refund_key_twice_moves_money_once(paid, buyer, merchant_manager):
    first = refund_session_payment(paid, by=merchant_manager, amount="10.00", idempotency_key="k")
    again = refund_session_payment(paid, by=merchant_manager, amount="10.00", idempotency_key="k")
    assert again.pk == first.pk
    assert buyer.balance == Decimal("85.00")
    assert WebhookEvent.objects.filter(type="payment.refunded").count() == 1
    with pytest.raises(IdempotencyConflict):
        refund_session_payment(paid, by=merchant_manager, amount="5.00", idempotency_key="k")


def test_a_staff_session_refund_is_audited_once_and_a_managers_is_not(
    paid, buyer, staff, merchant_manager
):
    refund_session_payment(paid, by=merchant_manager, amount="5.00", reason="late")
    assert AuditEntry.objects.count() == 0
    refund = refund_session_payment(paid, by=staff, amount="10.00", reason=" chargeback ")
    entry = AuditEntry.objects.get()
    assert entry.action == AuditEntry.Action.REFUND_TRANSFER and entry.actor == staff
    assert entry.target_id == str(paid.payment_id) and entry.reason == "chargeback"
    assert entry.amount == Decimal("10.00") and entry.unit == "USD"
    assert entry.before["refunded_amount"] == "5.00"
    assert entry.after["refunded_amount"] == "15.00"
    assert entry.after["refund"] == str(refund.uuid)
    assert entry.after["wallets"][str(buyer.wallet.uuid)]["balance"] == "90.00"
    assert buyer.balance == Decimal("90.00")


def test_a_session_refund_by_neither_staff_nor_manager_changes_nothing(paid, buyer, merchant):
    member = User.objects.create_user("member", email="member@example.com", password="pw")
    Membership.objects.create(organization=merchant, user=member, role=Membership.Role.MEMBER)
    for user in (buyer, member):
        with pytest.raises(NotAllowed, match="Only staff or the merchant's managers"):
            refund_session_payment(paid, by=user, reason="please")
    assert buyer.balance == Decimal("75.00")
    assert not Transfer.objects.filter(kind=Transfer.Kind.REFUND).exists()
    assert not WebhookEvent.objects.filter(type="payment.refunded").exists()
    assert AuditEntry.objects.count() == 0


def test_a_refund_that_fails_writes_no_event(paid, buyer, merchant, merchant_manager):
    from wallets.exceptions import InsufficientFunds

    merchant.withdraw("20.00")
    with pytest.raises(InsufficientFunds):
        refund_session_payment(paid, by=merchant_manager)
    assert not WebhookEvent.objects.filter(type="payment.refunded").exists()
    assert buyer.balance == Decimal("75.00")


def test_a_double_submitted_session_refund_form_moves_money_once(
    client, paid, buyer, merchant, merchant_manager
):
    client.force_login(merchant_manager)
    page = client.get(f"/shop/sales/{merchant.slug}/").content.decode()
    url = f"/shop/sales/{merchant.slug}/checkouts/{paid.public_id}/refund/"
    form = page.split(f'action="{url}"', 1)[1].split("</form>", 1)[0]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
    data = {"amount": "5.00", "reason": "late", "idempotency_key": key}
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302
    assert buyer.balance == Decimal("80.00")
    assert Transfer.objects.filter(kind=Transfer.Kind.REFUND).count() == 1
    assert WebhookEvent.objects.filter(type="payment.refunded").count() == 1


def test_staff_without_the_refund_permission_get_a_message_on_the_sales_page(
    client, paid, buyer, merchant
):
    clerk = User.objects.create_user("clerk", email="clerk@example.com", password="pw")
    clerk.is_staff = True
    clerk.save()
    client.force_login(clerk)
    page = client.get(f"/shop/sales/{merchant.slug}/").content.decode()
    url = f"/shop/sales/{merchant.slug}/checkouts/{paid.public_id}/refund/"
    assert paid.public_id in page and url not in page  # no refund form shown
    key = "a-resent-form"
    response = client.post(url, {"reason": "x", "idempotency_key": key}, follow=True)
    assert "Only staff or the merchant&#x27;s managers can refund this payment." in (
        response.content.decode()
    )
    assert buyer.balance == Decimal("75.00")
