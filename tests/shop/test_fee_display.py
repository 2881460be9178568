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


@pytest.fixture
def coarse(fee_policy, buyer):
    """A second wallet of tenths, and a fee it rounds differently from cents."""
    fee_policy.percent = Decimal("2.1")
    fee_policy.save()  # 2.1% of 25.00 + 0.10 = 0.625
    wallet = buyer.get_wallet("coarse", name="Coarse", unit="USD", decimal_places=1)
    wallet.deposit("50")
    return wallet


def cart_with(buyer, product) -> tuple[Client, str]:
    """The buyer's client, with ``product`` in the cart, and the cart page."""
    client = Client()
    client.force_login(buyer)
    client.post(reverse("shop:cart-add", args=[product.pk]), {"quantity": 1})
    return client, client.get(reverse("shop:cart")).content.decode()


def shown(page: str) -> dict[str, str | None]:
    """The hidden fields a cart page's payment form posts back."""
    names = ("idempotency_key", "expected_total", "expected_fee")
    return {name: hidden_value(page, name) for name in names}


def test_cart_and_receipt_show_fee_and_total(fee_policy, buyer, make_product):
    book = make_product("Book", "10.00")
    client, cart = cart_with(buyer, book)
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
    client, page = cart_with(buyer, make_product("Book", "10.00"))
    assert hidden_value(page, "expected_fee") == "0.30"
    fee_policy.fixed = Decimal("0.50")  # 2% of 10.00 + 0.50 = 0.70
    fee_policy.save()
    response = client.post(
        reverse("shop:cart-checkout"),
        {"wallet": buyer.wallet.pk, **shown(page)},
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
        {"wallet": buyer.wallet.pk, **shown(page)},
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
    client, page = cart_with(buyer, make_product("Book", "10.00"))
    posted = {"wallet": buyer.wallet.pk, **shown(page), **tampered}
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
    client, page = cart_with(buyer, make_product("Book", "10.00"))
    response = client.post(
        reverse("shop:cart-checkout"),
        {"idempotency_key": hidden_value(page, "idempotency_key"), "expected_fee": "0.30"},
    )
    assert response.status_code == 422
    assert "Choose a wallet to pay from." in response.content.decode()
    assert buyer.balance == Decimal("100.00")


def test_wallets_whose_fees_differ_each_show_and_pay_their_own(coarse, buyer, make_product):
    """A wallet with fewer decimal places rounds the fee differently: the cart
    names each wallet's total, and paying from either charges the fee it showed."""
    client, page = cart_with(buyer, make_product("Book", "25.00"))
    fees = {w.pk: hidden_value(page, f"fee-{w.pk}") for w in (buyer.wallet, coarse)}
    assert fees == {buyer.wallet.pk: "0.63", coarse.pk: "0.6"}
    assert "pays 25.63 USD" in page and "pays 25.6 USD" in page
    response = client.post(
        reverse("shop:cart-checkout"),
        {"wallet": coarse.pk, **shown(page), **{f"fee-{pk}": fee for pk, fee in fees.items()}},
    )
    assert response.status_code == 302
    coarse.refresh_from_db()
    assert coarse.balance == Decimal("24.4")
    assert buyer.wallet.balance == Decimal("100.00")


def test_one_fee_for_every_wallet_names_no_totals(fee_policy, buyer, make_product):
    other = buyer.get_wallet("other", name="Other", unit="USD", decimal_places=2)
    other.deposit("50")
    _, page = cart_with(buyer, make_product("Book", "10.00"))
    assert "pays " not in page
    assert hidden_value(page, f"fee-{other.pk}") == "0.30"


def test_a_form_shown_again_keeps_each_wallets_fee(coarse, buyer, make_product):
    """Sent without a wallet, the cart comes back with the per-wallet fees still
    in the form, so paying from the second wallet then charges its own fee."""
    client, page = cart_with(buyer, make_product("Book", "25.00"))
    again = client.post(reverse("shop:cart-checkout"), shown(page)).content.decode()
    assert "Choose a wallet to pay from." in again
    assert hidden_value(again, f"fee-{coarse.pk}") == "0.6"
    assert "pays 25.6 USD" in again
