"""The shop's cart and receipt show the fee the buyer pays."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from shop.models import Organization
from shop.services import pay_cart
from wallets.models import FeePolicy

pytestmark = pytest.mark.django_db


@pytest.fixture
def fee_policy(settings):
    house = Organization.objects.create(name="Tally fees", slug="tally-fees")
    settings.WALLETS = {**getattr(settings, "WALLETS", {}), "FEE_WALLET": lambda unit: house}
    return FeePolicy.objects.create(name="Card", percent=Decimal("2"), fixed=Decimal("0.10"))


def test_cart_and_receipt_show_fee_and_total(fee_policy, buyer, make_product):
    book = make_product("Book", "10.00")
    client = Client()
    client.force_login(buyer)
    client.post(reverse("shop:cart-add", args=[book.pk]), {"quantity": 1})
    cart = client.get(reverse("shop:cart")).content.decode()
    # 2% of 10.00 + 0.10 = 0.30
    assert 'data-testid="cart-fee">0.30 USD<' in cart
    assert 'data-testid="cart-fee-total">10.30 USD<' in cart
    order = pay_cart(buyer, buyer.wallet, [(book, 1)])
    receipt = client.get(reverse("shop:receipt", args=[order.number])).content.decode()
    assert 'data-testid="order-fee">0.30 USD<' in receipt
    assert 'data-testid="order-fee-total">10.30 USD<' in receipt
    assert buyer.balance == Decimal("89.70")
