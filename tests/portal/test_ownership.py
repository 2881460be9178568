"""Every page that shows or moves money is a 404 for a signed-in stranger."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.portal.conftest import make_user
from wallets.swappable import get_transaction_model

Transaction = get_transaction_model()

pytestmark = pytest.mark.django_db


@pytest.fixture
def stranger() -> Client:
    client = Client()
    client.force_login(make_user("mallory"))
    return client


def money_urls(alice, bob, acme) -> dict[str, tuple[str, str]]:
    transfer = alice.transfer(bob, "5.00")
    pending = alice.withdraw("1.00", confirmed=False)
    org_tx = acme.wallet.transactions.first()
    return {
        "wallet": ("get", reverse("portal:wallet", args=[alice.wallet.uuid])),
        "wallet export": (
            "get",
            reverse("portal:wallet", args=[alice.wallet.uuid]) + "?_export=csv",
        ),
        "transaction receipt": ("get", reverse("portal:transaction", args=[pending.uuid])),
        "transfer receipt": ("get", reverse("portal:transfer_receipt", args=[transfer.uuid])),
        "cancel pending": ("post", reverse("portal:cancel_pending", args=[pending.uuid])),
        "organization": ("get", reverse("portal:organization", args=[acme.slug])),
        "organization wallet": ("get", reverse("portal:wallet", args=[acme.wallet.uuid])),
        "organization receipt": ("get", reverse("portal:transaction", args=[org_tx.uuid])),
    }


def test_every_money_url_is_a_404_for_a_stranger(alice, bob, acme, stranger):
    for name, (method, url) in money_urls(alice, bob, acme).items():
        response = getattr(stranger, method)(url)
        assert response.status_code == 404, name
    assert Transaction.objects.filter(state="canceled").count() == 0


def test_the_same_urls_work_for_the_owner(alice, bob, acme, alice_client):
    for name, (method, url) in money_urls(alice, bob, acme).items():
        response = getattr(alice_client, method)(url)
        assert response.status_code in (200, 302), name


def test_money_forms_refuse_wallets_of_others(alice, bob, stranger):
    attempts = [
        (
            reverse("portal:transfer_confirm"),
            {
                "source": alice.wallet.pk,
                "recipient": "mallory",
                "amount": "5",
                "idempotency_key": "k",
            },
        ),
        (
            reverse("portal:exchange_confirm"),
            {
                "from_wallet": alice.wallet.pk,
                "to_wallet": bob.wallet.pk,
                "amount": "5",
                "idempotency_key": "k",
            },
        ),
        (
            reverse("portal:request_submit", args=["payout"]),
            {
                "payout-wallet": alice.wallet.pk,
                "payout-amount": "5",
                "payout-reference": "x",
                "payout-idempotency_key": "k",
            },
        ),
        (
            reverse("portal:open_wallet"),
            {"holder": "org:1", "name": "x", "slug": "x", "unit": "USD", "decimal_places": 2},
        ),
    ]
    before = Transaction.objects.count()
    for url, data in attempts:
        assert stranger.post(url, data).status_code == 422, url
    assert Transaction.objects.count() == before
