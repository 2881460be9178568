"""The shop's cart and receipt show the fee the buyer pays."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from shop.models import Order, Organization
from shop.services import pay_cart
from tests.html import hidden_value
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



def test_a_fee_that_changed_after_the_cart_was_shown_is_not_charged(
    fee_policy, buyer, make_product
):
    book = make_product("Book", "10.00")
    client = Client()
    client.force_login(buyer)
    client.post(reverse("shop:cart-add", args=[book.pk]), {"quantity": 1})
    page = client.get(reverse("shop:cart")).content.decode()
    assert hidden_value(page, "expected_fee") == "0.30"
    fee_policy.fixed = Decimal("0.50")  # 2% of 10.00 + 0.50 = 0.70
    fee_policy.save()
    response = client.post(
        reverse("shop:cart-checkout"),
        {
            "wallet": buyer.wallet.pk,
            "idempotency_key": hidden_value(page, "idempotency_key"),
            "expected_total": hidden_value(page, "expected_total"),
            "expected_fee": hidden_value(page, "expected_fee"),
        },
    )
    assert response.status_code == 422
    assert "The fee is now 0.70 USD, not 0.30" in response.content.decode()
    assert buyer.balance == Decimal("100.00")
    assert not Order.objects.exists()

    # Shown the new fee, the buyer pays exactly it.
    page = client.get(reverse("shop:cart")).content.decode()
    assert hidden_value(page, "expected_fee") == "0.70"
    response = client.post(
        reverse("shop:cart-checkout"),
        {
            "wallet": buyer.wallet.pk,
            "idempotency_key": hidden_value(page, "idempotency_key"),
            "expected_total": hidden_value(page, "expected_total"),
            "expected_fee": hidden_value(page, "expected_fee"),
        },
    )
    assert response.status_code == 302
    assert buyer.balance == Decimal("89.30")


@pytest.mark.parametrize(
    "tampered",
    [{"expected_fee": "not-a-number"}, {"expected_total": "1e999999"}, {"idempotency_key": ""}],
)
def test_an_altered_hidden_field_is_told_as_a_stale_page_and_pays_nothing(
    fee_policy, buyer, make_product, tampered
):
    book = make_product("Book", "10.00")
    client = Client()
    client.force_login(buyer)
    client.post(reverse("shop:cart-add", args=[book.pk]), {"quantity": 1})
    page = client.get(reverse("shop:cart")).content.decode()
    posted = {
        "wallet": buyer.wallet.pk,
        "idempotency_key": hidden_value(page, "idempotency_key"),
        "expected_total": hidden_value(page, "expected_total"),
        "expected_fee": hidden_value(page, "expected_fee"),
        **tampered,
    }
    response = client.post(reverse("shop:cart-checkout"), posted)
    body = response.content.decode()
    assert response.status_code == 422
    assert "This page was out of date. Check the amounts shown and pay again." in body
    assert "Choose a wallet" not in body
    # A fresh form, as the cart is now: the fee and total it shows, a new key.
    assert hidden_value(body, "expected_fee") == "0.30"
    assert hidden_value(body, "expected_total") == hidden_value(page, "expected_total")
    assert hidden_value(body, "idempotency_key") not in ("", posted["idempotency_key"])
    assert buyer.balance == Decimal("100.00") and not Order.objects.exists()


def test_no_wallet_chosen_is_still_asked_for(fee_policy, buyer, make_product):
    book = make_product("Book", "10.00")
    client = Client()
    client.force_login(buyer)
    client.post(reverse("shop:cart-add", args=[book.pk]), {"quantity": 1})
    page = client.get(reverse("shop:cart")).content.decode()
    response = client.post(
        reverse("shop:cart-checkout"),
        {"idempotency_key": hidden_value(page, "idempotency_key"), "expected_fee": "0.30"},
    )
    assert response.status_code == 422
    assert "Choose a wallet to pay from." in response.content.decode()
    assert buyer.balance == Decimal("100.00")
