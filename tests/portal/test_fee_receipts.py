"""A transaction's receipt names the fee it bore, and a fee row names the payment it was for."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shop.models import Membership, Organization, Product
from shop.services import pay_cart
from tests.portal.conftest import make_user
from wallets.models import FeeCharge, FeePolicy
from wallets.services import transfer_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def house(settings):
    house = Organization.objects.create(name="Tally fees", slug="tally-fees")
    settings.WALLETS = {**getattr(settings, "WALLETS", {}), "FEE_WALLET": lambda unit: house}
    return house


@pytest.fixture
def transfer_fee(house):
    return FeePolicy.objects.create(name="Transfer fee", fixed=Decimal("0.30"))


def receipt(client, tx) -> tuple[int, str]:
    response = client.get(reverse("portal:transaction", args=[tx.uuid]))
    return response.status_code, response.content.decode()


def test_a_transfers_receipt_shows_its_fee_and_the_total(transfer_fee, alice, bob, alice_client):
    transfer = alice.transfer(bob, "10.00")
    status, page = receipt(alice_client, transfer.withdraw)
    assert status == 200
    assert 'data-testid="fee"><span class="amount">0.30 USD</span> (Transfer fee)</dd>' in page
    assert 'data-testid="fee-total">10.30 USD<' in page
    assert 'data-testid="fee-for"' not in page


def test_the_recipient_of_a_fee_the_payer_paid_sees_no_fee(transfer_fee, alice, bob, bob_client):
    transfer = alice.transfer(bob, "10.00")
    status, page = receipt(bob_client, transfer.deposit)
    assert status == 200
    assert "Fee" not in page and "fee" not in page.lower().split("<main", 1)[1]


def test_a_fee_deducted_from_the_recipient_is_on_its_receipt(transfer_fee, alice, bob, bob_client):
    transfer_fee.mode = FeePolicy.Mode.DEDUCTIBLE
    transfer_fee.save()
    transfer = alice.transfer(bob, "10.00")
    status, page = receipt(bob_client, transfer.deposit)
    assert status == 200
    assert 'Fee deducted</dt><dd class="col-sm-8" data-testid="fee">' in page
    assert '<span class="amount">0.30 USD</span> (Transfer fee)' in page
    assert "You received</dt>" in page and 'data-testid="fee-total">9.70 USD<' in page


def test_a_fee_rows_receipt_links_the_payment_it_was_for(transfer_fee, alice, bob, alice_client):
    transfer = alice.transfer(bob, "10.00")
    fee_row = FeeCharge.objects.get().payer_leg
    status, page = receipt(alice_client, fee_row)
    assert status == 200
    link = reverse("portal:transaction", args=[transfer.withdraw.uuid])
    assert f'data-testid="fee-for"><a href="{link}">Transfer of 10.00 USD</a>' in page
    assert '<span class="amount">0.30 USD</span> (Transfer fee)' in page


def test_the_fee_wallets_row_names_the_payment_without_a_link(transfer_fee, house, alice, bob):
    from django.test import Client

    carol = make_user("carol")
    Membership.objects.create(organization=house, user=carol, role=Membership.Role.OWNER)
    alice.transfer(bob, "10.00")
    client = Client()
    client.force_login(carol)
    status, page = receipt(client, FeeCharge.objects.get().fee_leg)
    assert status == 200
    assert 'data-testid="fee-for">Transfer of 10.00 USD</dd>' in page


def test_a_cart_payments_receipt_shows_the_card_fee_and_what_was_returned(
    house, alice, alice_client
):
    FeePolicy.objects.create(name="Card fee", percent=Decimal("2"), fixed=Decimal("0.10"))
    merchant = Organization.objects.create(
        name="Acme Books", slug="acme-books", kind=Organization.Kind.MERCHANT
    )
    book = Product.objects.create(
        merchant=merchant, name="Book", slug="book", price=Decimal("10.00")
    )
    order = pay_cart(alice, alice.wallet, [(book, 1)])
    payment = order.lines.get().transfer
    status, page = receipt(alice_client, payment.withdraw)
    # 2% of 10.00 + 0.10 = 0.30
    assert '<span class="amount">0.30 USD</span> (Card fee)</dd>' in page
    assert 'data-testid="fee-total">10.30 USD<' in page
    assert "returned with refunds" not in page
    transfer_service().refund(payment)
    status, page = receipt(alice_client, payment.withdraw)
    assert status == 200
    assert '(Card fee) · <span class="amount">0.30 USD</span> returned with refunds</dd>' in page


def test_a_wallet_without_fees_shows_no_fee_on_receipts(alice, bob, alice_client):
    transfer = alice.transfer(bob, "10.00")
    for tx in (transfer.withdraw, alice.wallet.transactions.earliest("created_at")):
        status, page = receipt(alice_client, tx)
        assert status == 200
        assert 'data-testid="fee' not in page and "Fee" not in page


def test_someone_else_gets_404_on_the_receipts_of_a_payment_and_its_fee(
    transfer_fee, alice, bob, bob_client
):
    transfer = alice.transfer(bob, "10.00")
    charge = FeeCharge.objects.get()
    for tx in (transfer.withdraw, charge.payer_leg, charge.fee_leg):
        assert receipt(bob_client, tx)[0] == 404


def test_the_receipt_reads_the_fee_in_one_query(transfer_fee, alice, bob, alice_client):
    transfer = alice.transfer(bob, "10.00")
    with CaptureQueriesContext(connection) as queries:
        receipt(alice_client, transfer.withdraw)
    table = FeeCharge._meta.db_table
    assert len([q for q in queries.captured_queries if table in q["sql"]]) == 1
