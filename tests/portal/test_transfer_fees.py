"""The portal shows a fee on the transfer review and receipt."""

from decimal import Decimal

import pytest
from django.urls import reverse

from shop.models import Organization
from tests.portal.conftest import HTMX
from wallets.models import FeePolicy
from wallets.swappable import get_transfer_model

Transfer = get_transfer_model()

pytestmark = pytest.mark.django_db


@pytest.fixture
def fee_policy(settings):
    house = Organization.objects.create(name="Tally fees", slug="tally-fees")
    settings.WALLETS = {**getattr(settings, "WALLETS", {}), "FEE_WALLET": lambda unit: house}
    return FeePolicy.objects.create(name="Transfer fee", fixed=Decimal("0.30"))


def data(source, amount="10.00"):
    return {
        "source": source.pk,
        "recipient": "bob@example.com",
        "amount": amount,
        "note": "",
        "idempotency_key": "fee-1",
    }


def test_review_and_receipt_show_the_fee_and_the_total(fee_policy, alice, bob, alice_client):
    review = alice_client.post(reverse("portal:transfer"), data(alice.wallet), **HTMX)
    body = review.content.decode()
    assert 'data-testid="review-fee">0.30 USD<' in body
    assert 'data-testid="review-total">10.30 USD<' in body
    assert "89.70 USD" in body  # the balance after counts the fee
    assert not Transfer.objects.exists()
    alice_client.post(reverse("portal:transfer_confirm"), data(alice.wallet))
    transfer = Transfer.objects.get()
    receipt = alice_client.get(reverse("portal:transfer_receipt", args=[transfer.uuid]))
    text = receipt.content.decode()
    assert 'data-testid="receipt-fee">0.30 USD<' in text
    assert 'data-testid="receipt-total">10.30 USD<' in text
    assert "89.70 USD" in text
    assert alice.balance == Decimal("89.70")


def test_no_fee_row_without_a_policy(alice, bob, alice_client):
    review = alice_client.post(reverse("portal:transfer"), data(alice.wallet), **HTMX)
    assert 'data-testid="review-fee"' not in review.content.decode()


def test_history_names_the_fee_row(fee_policy, alice, bob, alice_client):
    from portal.activity import describe_transaction

    alice_client.post(reverse("portal:transfer_confirm"), data(alice.wallet))
    fee_row = alice.wallet.transactions.get(meta__fee=True)
    assert describe_transaction(fee_row, alice) == "Fee"
    assert fee_row.amount == Decimal("-0.30")


def test_history_and_csv_show_the_fee_as_a_row_of_its_own(fee_policy, alice, bob, alice_client):
    import csv
    import io

    alice_client.post(reverse("portal:transfer_confirm"), data(alice.wallet))
    url = reverse("portal:wallet", args=[alice.wallet.uuid])
    page = alice_client.get(url).content.decode()
    assert ">Fee<" in page or "Fee</" in page
    response = alice_client.get(url + "?_export=csv")
    body = b"".join(response.streaming_content).decode()
    header, *rows = list(csv.reader(io.StringIO(body)))
    described = header.index("Description")
    assert ["Fee", "-0.30"] in [[row[described], row[3]] for row in rows]
    assert [row[3] for row in rows if row[3] == "-10.00"] == ["-10.00"]
