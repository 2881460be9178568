"""Transfers a risk rule holds for review, as the customer meets them: the review step says
so (from the engine's preview), confirming lands on Pending with a notice and reserves the
amount, and the held transfer can be canceled there by those who may spend."""

import html
import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.portal.conftest import HTMX
from wallets.models import RiskRule, TransferHold
from wallets.risk import HOLD, REFUSE, RiskDecision, risk_check
from wallets.swappable import get_transaction_model, get_transfer_model

Transaction = get_transaction_model()
Transfer = get_transfer_model()

pytestmark = pytest.mark.django_db

HELD_NOTICE = "This transfer will be held for review."


@pytest.fixture
def big_ones(db) -> RiskRule:
    return RiskRule.objects.create(
        name="Big ones (internal)", max_single=Decimal("50"), on_breach=RiskRule.OnBreach.HOLD
    )


def transfer_data(source, amount="60.00", key="held-1", note="Rent") -> dict:
    return {
        "source": source.pk,
        "recipient": "bob@example.com",
        "amount": amount,
        "note": note,
        "idempotency_key": key,
    }


def confirm_form_fields(review_html: str) -> dict[str, str]:
    """The hidden fields of the review step's confirm form, as the browser would send them."""
    form = re.search(
        r'<form method="post" action="/transfer/confirm/".*?</form>', review_html, re.S
    ).group(0)
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
    return {name: html.unescape(value) for name, value in fields}


def test_review_says_the_transfer_will_be_held_and_moves_nothing(
    alice, bob, alice_client, big_ones
):
    response = alice_client.post(reverse("portal:transfer"), transfer_data(alice.wallet), **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "Review your transfer" in body
    assert HELD_NOTICE in body and "reserved in your Main wallet" in body
    # Neutral words: the rule, its name and its limit are staff business.
    assert "Big ones" not in body and "at most" not in body
    assert "40.00 USD" in body  # the balance after, from the same preview
    assert not TransferHold.objects.exists() and not Transfer.objects.exists()
    alice.wallet.refresh_from_db()
    assert alice.wallet.held == Decimal(0)
    # Under the limit, no notice.
    small = alice_client.post(reverse("portal:transfer"), transfer_data(alice.wallet, "10"))
    assert HELD_NOTICE not in small.content.decode()


def test_review_asks_the_engines_risk_policy(alice, bob, alice_client):
    """Rules added through the engine's risk_check signal show on the review too."""

    def policy(sender, amount, **kwargs):
        if amount == Decimal("7.00"):
            return RiskDecision(HOLD, "Seven", "Sevens are checked.")
        if amount == Decimal("8.00"):
            return RiskDecision(REFUSE, "Eight", "Eights are not sent.")
        return None

    risk_check.connect(policy, dispatch_uid="test-portal-policy")
    try:
        held = alice_client.post(reverse("portal:transfer"), transfer_data(alice.wallet, "7.00"))
        refused = alice_client.post(reverse("portal:transfer"), transfer_data(alice.wallet, "8.00"))
    finally:
        risk_check.disconnect(dispatch_uid="test-portal-policy")
    assert held.status_code == 200 and HELD_NOTICE in held.content.decode()
    assert refused.status_code == 422 and "Eights are not sent." in refused.content.decode()


def test_a_held_transfer_through_the_form_lands_on_pending_with_a_notice(
    alice, bob, alice_client, big_ones
):
    review = alice_client.post(reverse("portal:transfer"), transfer_data(alice.wallet))
    fields = confirm_form_fields(review.content.decode())
    assert fields["amount"] == "60.00" and fields["idempotency_key"] == "held-1"
    response = alice_client.post(reverse("portal:transfer_confirm"), fields, follow=True)
    assert response.redirect_chain[-1][0] == reverse("portal:pending")
    body = response.content.decode()
    notice = re.search(r'<div class="alert alert-(\w+)[^"]*" role="(\w+)">\s*([^<]+)', body)
    assert notice.group(1, 2) == ("info", "status")  # a notice, not an error
    assert "held for review" in notice.group(3)
    assert "Held for review" in body and "Transfer to Bob Baker" in body and "Rent" in body
    hold = TransferHold.objects.get()
    assert (hold.from_wallet, hold.to_wallet, hold.amount) == (
        alice.wallet,
        bob.wallet,
        Decimal("60.00"),
    )
    alice.wallet.refresh_from_db()
    assert alice.wallet.held == Decimal("60.00") and alice.wallet.balance == Decimal("100.00")
    assert bob.balance == Decimal("50.00") and not Transfer.objects.exists()

    # Submitted again (back button, double click): still one hold, and Pending again.
    again = alice_client.post(reverse("portal:transfer_confirm"), fields, **HTMX)
    assert again.status_code == 200 and again["HX-Redirect"] == reverse("portal:pending")
    assert TransferHold.objects.count() == 1
    assert Transaction.objects.filter(wallet=alice.wallet, state="pending").count() == 1


def test_cancel_a_held_transfer_from_pending(alice, bob, alice_client, big_ones):
    alice_client.post(reverse("portal:transfer_confirm"), transfer_data(alice.wallet))
    hold = TransferHold.objects.get()
    url = reverse("portal:cancel_pending", args=[hold.reservation.uuid])
    response = alice_client.post(url, **HTMX)
    assert response.status_code == 200
    assert "balanceChanged" in json.loads(response["HX-Trigger-After-Settle"])
    hold.refresh_from_db()
    hold.reservation.refresh_from_db()
    assert hold.state == TransferHold.State.CANCELED
    assert hold.reservation.state == Transaction.State.CANCELED
    alice.wallet.refresh_from_db()
    assert alice.wallet.held == Decimal(0) and alice.wallet.balance == Decimal("100.00")
    assert bob.balance == Decimal("50.00")


def test_cancel_without_htmx_says_the_transfer_was_canceled(alice, bob, alice_client, big_ones):
    alice_client.post(reverse("portal:transfer_confirm"), transfer_data(alice.wallet))
    hold = TransferHold.objects.get()
    response = alice_client.post(
        reverse("portal:cancel_pending", args=[hold.reservation.uuid]), follow=True
    )
    assert "The transfer was canceled and its amount released." in response.content.decode()


def test_only_those_who_may_spend_can_cancel_an_organizations_held_transfer(
    acme, alice, bob, alice_client, bob_client, big_ones
):
    hold = acme.transfer(bob, "70.00")
    assert isinstance(hold, TransferHold)
    cancel = reverse("portal:cancel_pending", args=[hold.reservation.uuid])
    owner_page = alice_client.get(reverse("portal:pending")).content.decode()
    assert "Held for review" in owner_page and "Transfer to Bob Baker" in owner_page
    assert f'action="{cancel}"' in owner_page
    member_page = bob_client.get(reverse("portal:pending")).content.decode()
    assert "Held for review" in member_page and f'action="{cancel}"' not in member_page
    assert bob_client.post(cancel).status_code == 404
    hold.refresh_from_db()
    assert hold.state == TransferHold.State.HELD


def test_receipt_of_the_reservation_names_the_held_transfer(alice, bob, alice_client, big_ones):
    alice_client.post(reverse("portal:transfer_confirm"), transfer_data(alice.wallet))
    hold = TransferHold.objects.get()
    body = alice_client.get(reverse("portal:transaction", args=[hold.reservation.uuid]))
    body = body.content.decode()
    assert "Held for review" in body and "Bob Baker" in body and "Cancel this transfer" in body
