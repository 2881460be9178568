import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from tests.portal.conftest import HTMX, make_user
from wallets.swappable import get_transaction_model

Transaction = get_transaction_model()

pytestmark = pytest.mark.django_db


def test_pending_page_lists_own_pending_items_with_state_and_age(alice, bob, alice_client):
    alice.withdraw("20.00", confirmed=False, meta={"reference": "Payout to bank"})
    alice.deposit("5.00", confirmed=False, meta={"reference": "Card top-up"})
    bob.withdraw("1.00", confirmed=False, meta={"reference": "Bob's payout"})
    body = alice_client.get(reverse("portal:pending")).content.decode()
    assert "Payout to bank" in body and "Card top-up" in body
    assert "Bob's payout" not in body
    assert "Pending" in body and "ago" in body
    assert body.count(">Cancel<") == 1  # only the withdrawal can be canceled


def test_cancel_a_pending_withdrawal_releases_the_hold(alice, alice_client):
    tx = alice.withdraw("20.00", confirmed=False)
    response = alice_client.post(reverse("portal:cancel_pending", args=[tx.uuid]), **HTMX)
    tx.refresh_from_db()
    alice.wallet.refresh_from_db()
    assert response.status_code == 200
    assert "balanceChanged" in json.loads(response["HX-Trigger-After-Settle"])
    assert response.content.decode().lstrip().startswith(f'<tr id="pending-{tx.uuid}"')
    assert tx.state == Transaction.State.CANCELED
    assert alice.wallet.held == Decimal(0)


def test_cancel_without_htmx_redirects_with_a_message(alice, alice_client):
    tx = alice.withdraw("20.00", confirmed=False)
    response = alice_client.post(reverse("portal:cancel_pending", args=[tx.uuid]), follow=True)
    assert "was canceled" in response.content.decode()


def test_a_pending_deposit_cannot_be_canceled_by_the_holder(alice, alice_client):
    tx = alice.deposit("5.00", confirmed=False)
    alice_client.post(reverse("portal:cancel_pending", args=[tx.uuid]))
    tx.refresh_from_db()
    assert tx.state == Transaction.State.PENDING


def test_cancel_someone_elses_withdrawal_is_a_404(alice, bob, bob_client, acme):
    tx = alice.withdraw("20.00", confirmed=False)
    assert bob_client.post(reverse("portal:cancel_pending", args=[tx.uuid])).status_code == 404
    # A plain member may see the organization's pending items but not cancel them.
    org_tx = acme.withdraw("10.00", confirmed=False)
    assert bob_client.post(reverse("portal:cancel_pending", args=[org_tx.uuid])).status_code == 404
    tx.refresh_from_db()
    org_tx.refresh_from_db()
    assert tx.is_pending and org_tx.is_pending


def test_cancel_needs_a_csrf_token_on_htmx_posts(alice):
    tx = alice.withdraw("20.00", confirmed=False)
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(reverse("portal:cancel_pending", args=[tx.uuid]), **HTMX)
    assert response.status_code == 403


def test_top_up_request_becomes_a_pending_deposit_once(alice, alice_client):
    data = {
        "topup-wallet": alice.wallet.pk,
        "topup-amount": "40.00",
        "topup-reference": "Bank transfer #4411",
        "topup-idempotency_key": "key-1",
    }
    url = reverse("portal:request_submit", args=["topup"])
    first = alice_client.post(url, data, **HTMX)
    alice_client.post(url, data, **HTMX)
    tx = Transaction.objects.get(state=Transaction.State.PENDING)
    assert first.status_code == 200
    assert "Top-up requested" in first.content.decode()
    assert (tx.type, tx.amount, tx.meta["reference"]) == (
        "deposit",
        Decimal("40.00"),
        data["topup-reference"],
    )
    assert alice.balance == Decimal("100.00")


def test_payout_request_holds_the_amount_and_refuses_overdraft(alice, alice_client):
    url = reverse("portal:request_submit", args=["payout"])
    data = {
        "payout-wallet": alice.wallet.pk,
        "payout-amount": "30.00",
        "payout-reference": "IBAN DE89 3704",
        "payout-idempotency_key": "key-1",
    }
    response = alice_client.post(url, data)
    assert response.status_code == 302 and response["Location"] == reverse("portal:pending")
    alice.wallet.refresh_from_db()
    assert alice.wallet.held == Decimal("30.00")

    response = alice_client.post(
        url, {**data, "payout-amount": "500.00", "payout-idempotency_key": "key-2"}, **HTMX
    )
    assert response.status_code == 422
    assert "available; this needs" in response.content.decode()


def test_requests_on_someone_elses_wallet_are_refused(alice, bob_client):
    url = reverse("portal:request_submit", args=["topup"])
    data = {
        "topup-wallet": alice.wallet.pk,
        "topup-amount": "40.00",
        "topup-reference": "x",
        "topup-idempotency_key": "k",
    }
    assert bob_client.post(url, data).status_code == 422
    assert not Transaction.objects.filter(state="pending").exists()


def test_unknown_request_kind_is_a_404(alice_client):
    assert alice_client.post(reverse("portal:request_submit", args=["steal"])).status_code == 404


def test_requests_page_renders_both_forms(alice_client):
    body = alice_client.get(reverse("portal:requests")).content.decode()
    assert "Request top-up" in body and "Request payout" in body
    assert body.count('name="topup-idempotency_key"') == 1


def test_pending_page_requires_login():
    assert Client().get(reverse("portal:pending")).status_code == 302
    make_user("nobody")


def test_large_payouts_ask_for_reauthentication(alice, alice_client, settings):
    settings.PORTAL_REAUTH_THRESHOLD = {"USD": "50"}
    url = reverse("portal:request_submit", args=["payout"])
    data = {
        "payout-wallet": alice.wallet.pk,
        "payout-amount": "60.00",
        "payout-reference": "IBAN DE89 3704",
        "payout-idempotency_key": "key-1",
    }
    response = alice_client.post(url, data)
    assert "/reauthenticate/" in response["Location"]
    assert not Transaction.objects.filter(state="pending").exists()
    # Top-ups of any size bring money in and need no password.
    topup = {
        "topup-wallet": alice.wallet.pk,
        "topup-amount": "600.00",
        "topup-reference": "Wire",
        "topup-idempotency_key": "key-2",
    }
    response = alice_client.post(reverse("portal:request_submit", args=["topup"]), topup)
    assert response["Location"] == reverse("portal:pending")


def test_receipt_of_a_pending_withdrawal_offers_cancel_to_its_holder_only(
    acme, alice, bob_client, alice_client
):
    tx = acme.withdraw("10.00", confirmed=False)
    url = reverse("portal:transaction", args=[tx.uuid])
    assert "Cancel this withdrawal" in alice_client.get(url).content.decode()  # owner
    assert "Cancel this withdrawal" not in bob_client.get(url).content.decode()  # member
    response = alice_client.post(reverse("portal:cancel_pending", args=[tx.uuid]))
    assert response["Location"] == reverse("portal:pending")
    assert "Cancel this withdrawal" not in alice_client.get(url).content.decode()
