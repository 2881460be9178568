"""A customer reads the message meant for them, never a staff note: on frozen wallets'
pages and cards, in every error a frozen wallet causes, and on receipts staff resolved."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from portal.models import User
from tests.portal.conftest import HTMX, make_user
from wallets.services import wallet_service
from wallets.staff import StaffActor
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()

pytestmark = pytest.mark.django_db

NOTE = "mule account suspected"  # staff only
MESSAGE = "Please call our support line."  # for the holder


@pytest.fixture
def frozen(alice: User) -> Wallet:
    return wallet_service().freeze(alice.wallet, note=NOTE, message=MESSAGE)


def test_frozen_wallet_pages_show_the_holders_message_only(alice, alice_client, frozen):
    for url in (reverse("portal:dashboard"), reverse("portal:wallet", args=[frozen.uuid])):
        body = alice_client.get(url).content.decode()
        assert MESSAGE in body and "Frozen" in body, url
        assert NOTE not in body, url


def test_an_empty_message_shows_the_neutral_default(bob, bob_client):
    wallet_service().freeze(bob.wallet, note=NOTE)
    body = bob_client.get(reverse("portal:wallet", args=[bob.wallet.uuid])).content.decode()
    assert Wallet.FROZEN_DEFAULT_MESSAGE in body and NOTE not in body


def test_errors_of_a_frozen_wallet_carry_the_message_not_the_note(alice, bob, alice_client, frozen):
    euros = alice.get_wallet("eur", name="Euros", unit="EUR")
    attempts = [
        (
            reverse("portal:transfer"),
            {"source": frozen.pk, "recipient": "bob", "amount": "5", "idempotency_key": "k1"},
        ),
        (
            reverse("portal:transfer_confirm"),
            {"source": frozen.pk, "recipient": "bob", "amount": "5", "idempotency_key": "k2"},
        ),
        (
            reverse("portal:exchange"),
            {
                "from_wallet": frozen.pk,
                "to_wallet": euros.pk,
                "amount": "5",
                "idempotency_key": "k3",
            },
        ),
        (
            reverse("portal:request_submit", args=["payout"]),
            {
                "payout-wallet": frozen.pk,
                "payout-amount": "5",
                "payout-reference": "IBAN",
                "payout-idempotency_key": "k4",
            },
        ),
    ]
    for url, data in attempts:
        response = alice_client.post(url, data, **HTMX)
        body = response.content.decode()
        assert response.status_code == 422, url
        assert MESSAGE in body and NOTE not in body, url
    frozen.refresh_from_db()
    assert frozen.balance == Decimal("100.00") and frozen.held == Decimal(0)


def test_a_sender_learns_nothing_of_the_recipients_freeze(bob, bob_client, frozen):
    data = {"source": bob.wallet.pk, "recipient": "alice", "amount": "5", "idempotency_key": "k"}
    for url in (reverse("portal:transfer"), reverse("portal:transfer_confirm")):
        body = bob_client.post(url, data, **HTMX).content.decode()
        assert "cannot receive money right now" in body
        assert MESSAGE not in body and NOTE not in body


def test_a_staff_decision_reason_stays_off_the_customers_receipt(alice, alice_client):
    staff = make_user("mod")
    User.objects.filter(pk=staff.pk).update(is_staff=True)
    staff = User.objects.get(pk=staff.pk)
    staff.user_permissions.add(Permission.objects.get(codename="confirm_transaction"))
    staff = User.objects.get(pk=staff.pk)
    payout = alice.withdraw("20.00", confirmed=False, meta={"reference": "IBAN DE89"})
    wallet_service().reject_transaction(payout, actor=StaffActor(staff, NOTE, "10.0.0.1"))
    body = alice_client.get(reverse("portal:transaction", args=[payout.uuid])).content.decode()
    assert "Rejected" in body and NOTE not in body
