from decimal import Decimal

import pytest
from django.urls import reverse

from tests.portal.conftest import HTMX
from wallets.swappable import get_transfer_model

Transfer = get_transfer_model()

pytestmark = pytest.mark.django_db


@pytest.fixture
def euros(alice):
    return alice.get_wallet("eur", name="Euros", unit="EUR")


def exchange_data(source, destination, amount="10.00", key="x-1", rate=""):
    return {
        "from_wallet": source.pk,
        "to_wallet": destination.pk,
        "amount": amount,
        "idempotency_key": key,
        "quoted_rate": rate,
    }


def test_review_shows_rate_and_result_before_anything_moves(alice, euros, alice_client):
    response = alice_client.post(
        reverse("portal:exchange"), exchange_data(alice.wallet, euros), **HTMX
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "1 USD = 0.92 EUR" in body
    assert "9.20 EUR" in body
    assert 'name="quoted_rate" value="0.92' in body
    assert not Transfer.objects.exists()


def test_confirm_exchanges_once_per_key(alice, euros, alice_client):
    data = exchange_data(alice.wallet, euros, rate="0.92")
    first = alice_client.post(reverse("portal:exchange_confirm"), data)
    second = alice_client.post(reverse("portal:exchange_confirm"), data)
    transfer = Transfer.objects.get()
    assert first["Location"] == second["Location"]
    assert first["Location"] == reverse("portal:transfer_receipt", args=[transfer.uuid])
    euros.refresh_from_db()
    assert euros.balance == Decimal("9.20")
    assert alice.balance == Decimal("90.00")
    body = alice_client.get(first["Location"]).content.decode()
    assert "Exchange done" in body and "9.20 EUR" in body


def test_confirm_over_htmx_redirects_to_the_receipt(alice, euros, alice_client):
    response = alice_client.post(
        reverse("portal:exchange_confirm"), exchange_data(alice.wallet, euros), **HTMX
    )
    assert response["HX-Redirect"].startswith("/transfers/")


def test_a_changed_rate_is_shown_again_before_moving(alice, euros, alice_client):
    response = alice_client.post(
        reverse("portal:exchange_confirm"), exchange_data(alice.wallet, euros, rate="0.50")
    )
    assert "rate changed" in response.content.decode()
    assert not Transfer.objects.exists()


@pytest.mark.parametrize(
    ("amount", "message"),
    [("500.00", "available; this needs"), ("0.001", "decimal"), ("-1", "greater than")],
)
def test_errors_inline(alice, euros, alice_client, amount, message):
    response = alice_client.post(
        reverse("portal:exchange"), exchange_data(alice.wallet, euros, amount=amount), **HTMX
    )
    assert response.status_code == 422
    assert message in response.content.decode()


def test_same_wallet_and_missing_rate(alice, alice_client):
    gems = alice.get_wallet("gems", name="Gems", unit="GEM", decimal_places=0)
    response = alice_client.post(
        reverse("portal:exchange"), exchange_data(alice.wallet, alice.wallet), **HTMX
    )
    assert "cannot be exchanged into itself" in response.content.decode()
    response = alice_client.post(
        reverse("portal:exchange"), exchange_data(alice.wallet, gems), **HTMX
    )
    assert response.status_code == 422
    assert not Transfer.objects.exists()


def test_wallets_of_other_holders_are_refused(alice, bob, euros, acme, alice_client, bob_client):
    response = bob_client.post(reverse("portal:exchange"), exchange_data(alice.wallet, euros))
    assert response.status_code == 422
    response = alice_client.post(
        reverse("portal:exchange_confirm"), exchange_data(acme.wallet, euros)
    )
    assert "same holder" in response.content.decode()
    assert not Transfer.objects.exists()
