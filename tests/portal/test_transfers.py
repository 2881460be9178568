import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from tests.portal.conftest import HTMX, make_user
from wallets.swappable import get_transfer_model

Transfer = get_transfer_model()

pytestmark = pytest.mark.django_db


def transfer_data(source, recipient="bob@example.com", amount="12.50", note="Lunch", key="k-1"):
    return {
        "source": source.pk,
        "recipient": recipient,
        "amount": amount,
        "note": note,
        "idempotency_key": key,
    }


def test_form_page_carries_an_idempotency_key_and_only_spendable_wallets(
    acme, alice, bob, bob_client
):
    body = bob_client.get(reverse("portal:transfer")).content.decode()
    assert 'name="idempotency_key"' in body
    # Bob is a plain member of Acme: he may look at its wallet but not send from it.
    assert f'value="{acme.wallet.pk}"' not in body
    assert f'value="{bob.wallet.pk}"' in body


def test_review_shows_the_balance_after_and_moves_nothing(alice, bob, alice_client):
    response = alice_client.post(reverse("portal:transfer"), transfer_data(alice.wallet), **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Review your transfer" in body
    assert "87.50 USD" in body
    assert "B•" not in body  # the masked email keeps its first letter
    assert "Bob B. (b••@example.com)" in body
    assert not Transfer.objects.exists()


def test_confirm_moves_money_once_and_triggers_balance_refresh(alice, bob, alice_client):
    response = alice_client.post(
        reverse("portal:transfer_confirm"), transfer_data(alice.wallet), **HTMX
    )
    transfer = Transfer.objects.get()
    assert response.status_code == 200
    assert "balanceChanged" in json.loads(response["HX-Trigger-After-Settle"])
    assert response["HX-Push-Url"] == reverse("portal:transfer_receipt", args=[transfer.uuid])
    assert str(transfer.uuid) in response.content.decode()
    alice.wallet.refresh_from_db()
    assert alice.wallet.balance == Decimal("87.50")
    assert bob.balance == Decimal("62.50")


def test_double_submit_with_the_same_key_moves_money_once(alice, bob, alice_client):
    data = transfer_data(alice.wallet, amount="80.00")
    first = alice_client.post(reverse("portal:transfer_confirm"), data)
    second = alice_client.post(reverse("portal:transfer_confirm"), data)
    transfer = Transfer.objects.get()
    receipt = reverse("portal:transfer_receipt", args=[transfer.uuid])
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == receipt
    assert alice.balance == Decimal("20.00")


@pytest.mark.parametrize(
    ("changes", "field_error"),
    [
        ({"amount": "999.00"}, "available; this needs"),
        ({"amount": "0"}, "greater than zero"),
        ({"amount": "1.234"}, "decimal"),
        ({"recipient": "nobody@example.com"}, "No account matches"),
        ({"recipient": "alice"}, "cannot send money to yourself"),
    ],
)
def test_errors_show_inline_and_nothing_moves(alice, bob, alice_client, changes, field_error):
    data = {**transfer_data(alice.wallet), **changes}
    for url in (reverse("portal:transfer"), reverse("portal:transfer_confirm")):
        response = alice_client.post(url, data, **HTMX)
        assert response.status_code == 422
        body = response.content.decode()
        assert field_error in body
        assert body.lstrip().startswith('<div id="transfer-flow"')
    assert not Transfer.objects.exists()


def test_frozen_source_and_frozen_recipient(alice, bob, alice_client):
    bob.freeze_wallet(reason="chargeback investigation", message="Bob, please call us")
    for url in (reverse("portal:transfer"), reverse("portal:transfer_confirm")):
        response = alice_client.post(url, transfer_data(alice.wallet))
        body = response.content.decode()
        assert response.status_code == 422
        assert "cannot receive money right now" in body
        # Bob's freeze, in the words for him or for staff, is his business.
        assert "chargeback" not in body and "please call us" not in body
        assert "frozen" not in body.lower()

    bob.unfreeze_wallet()
    alice.freeze_wallet(reason="mule account suspected", message="Please call support.")
    for url in (reverse("portal:transfer"), reverse("portal:transfer_confirm")):
        body = alice_client.post(url, transfer_data(alice.wallet)).content.decode()
        assert "is frozen. Please call support." in body  # her own wallet, her message
        assert "mule" not in body
    assert not Transfer.objects.exists()


def test_recipient_needs_a_wallet_in_the_same_unit(alice, bob, alice_client):
    eur = alice.get_wallet("eur", name="Euros", unit="EUR")
    eur.deposit("5.00")
    response = alice_client.post(
        reverse("portal:transfer"), transfer_data(eur, amount="1.00"), **HTMX
    )
    assert response.status_code == 422
    assert "has no EUR wallet" in response.content.decode()


def test_sending_from_another_persons_wallet_is_refused(alice, bob, bob_client):
    response = bob_client.post(
        reverse("portal:transfer_confirm"), transfer_data(alice.wallet, recipient="bob")
    )
    assert response.status_code == 422
    assert not Transfer.objects.exists()


def test_organization_owner_can_send_from_the_organization_wallet(acme, alice, bob, alice_client):
    response = alice_client.post(
        reverse("portal:transfer_confirm"), transfer_data(acme.wallet, amount="25.00")
    )
    assert response.status_code == 302
    transfer = Transfer.objects.get()
    assert transfer.from_wallet == acme.wallet
    assert transfer.meta["initiated_by"] == "alice"


def test_large_transfers_ask_for_reauthentication(alice, bob, alice_client, settings):
    settings.PORTAL_REAUTH_THRESHOLD = {"USD": "50"}
    session = alice_client.session
    # Pretend the login happened long ago.
    session["account_authentication_methods"] = [{"method": "password", "at": 0}]
    session.save()
    response = alice_client.post(
        reverse("portal:transfer_confirm"), transfer_data(alice.wallet, amount="60.00")
    )
    assert response.status_code == 302
    assert "/reauthenticate/" in response["Location"]
    assert not Transfer.objects.exists()

    # After the password, allauth replays the suspended confirmation once.
    response = alice_client.post(response["Location"], {"password": "correct-horse-battery"})
    assert Transfer.objects.get().amount == Decimal("60.00")

    # Small transfers go straight through.
    response = alice_client.post(
        reverse("portal:transfer_confirm"), transfer_data(alice.wallet, amount="5.00", key="k-2")
    )
    assert response.status_code == 302
    assert Transfer.objects.count() == 2


def test_recipient_lookup_shows_one_masked_match_only(alice, bob, alice_client):
    make_user("bobby", "Bobby", "Tables")
    response = alice_client.get(reverse("portal:recipient_lookup"), {"recipient": "bob"}, **HTMX)
    body = response.content.decode()
    assert "b••@example.com" in body
    assert "bob@example.com" not in body
    assert "Bobby" not in body

    body = alice_client.get(
        reverse("portal:recipient_lookup"), {"recipient": "bo"}, **HTMX
    ).content.decode()
    assert "b••" not in body


def test_transfer_receipt_is_a_404_for_outsiders(alice, bob, alice_client):
    transfer = alice.transfer(bob, "1.00")
    url = reverse("portal:transfer_receipt", args=[transfer.uuid])
    assert alice_client.get(url).status_code == 200
    carol = Client()
    carol.force_login(make_user("carol"))
    assert carol.get(url).status_code == 404


def test_htmx_confirm_without_csrf_token_is_refused(alice, bob):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(reverse("portal:transfer_confirm"), transfer_data(alice.wallet), **HTMX)
    assert response.status_code == 403
    assert not Transfer.objects.exists()


def test_recipient_lookups_are_throttled_per_user(alice, alice_client):
    from django.core.cache import cache

    cache.clear()
    url = reverse("portal:recipient_lookup")
    statuses = [alice_client.get(url, {"recipient": "bob"}).status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
    cache.clear()


def test_reusing_a_spent_key_for_other_details_asks_again_with_a_fresh_key(
    alice, bob, alice_client
):
    alice_client.post(reverse("portal:transfer_confirm"), transfer_data(alice.wallet))
    response = alice_client.post(
        reverse("portal:transfer_confirm"), transfer_data(alice.wallet, amount="3.00"), **HTMX
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "already used to move money" in body
    assert 'value="k-1"' not in body
    assert Transfer.objects.count() == 1


def test_failed_transfers_are_counted_by_error_class(alice, bob, alice_client):
    from portal.ops.metrics import WALLET_OPERATIONS

    counter = WALLET_OPERATIONS.labels(kind="transfer", outcome="InsufficientFunds")
    before = counter._value.get()
    data = transfer_data(alice.wallet, amount="100.01", key="too-much")
    alice_client.post(reverse("portal:transfer_confirm"), data, **HTMX)
    assert counter._value.get() == before + 1
