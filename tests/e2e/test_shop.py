"""Buying from the catalog in a real browser."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from shop.models import Order, Organization, Product
from tests.e2e.conftest import assert_no_serious_a11y_violations, screenshots_at_both_widths

pytestmark = pytest.mark.e2e


@pytest.fixture
def products(transactional_db):
    merchant = Organization.objects.create(name="Acme Books", slug="acme", kind="merchant")
    return {
        "book": Product.objects.create(
            merchant=merchant,
            name="Django Book",
            slug="book",
            price=Decimal("30.00"),
            stock=1,
            category="Books",
        ),
        "mug": Product.objects.create(
            merchant=merchant,
            name="Coffee Mug",
            slug="mug",
            price=Decimal("8.50"),
            category="Kitchen",
            description="Holds coffee",
        ),
    }


def test_search_add_to_cart_and_pay(page, live_server, people, login_as, products, axe):
    alice = people["alice"]
    login_as(alice)
    page.goto(f"{live_server.url}/shop/")
    cards = page.get_by_test_id("product-card")
    expect(cards).to_have_count(2)

    screenshots_at_both_widths(page, "shop")
    page.get_by_label("Search").fill("coffee")
    expect(cards).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/shop/\?.*q=coffee"))
    assert_no_serious_a11y_violations(axe, page)
    page.get_by_label("Search").fill("")
    page.get_by_label("Sort").select_option("-price")
    expect(cards.first).to_contain_text("Django Book")

    cards.first.get_by_role("link").click()
    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(f"{live_server.url}/shop/cart/")
    page.goto(f"{live_server.url}/shop/products/{products['mug'].pk}/")
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_test_id("cart-total")).to_have_text("47.00 USD")

    # htmx update of a quantity
    page.get_by_label("Quantity of Coffee Mug").fill("1")
    page.get_by_role("row", name=re.compile("Coffee Mug")).get_by_role(
        "button", name="Update"
    ).click()
    expect(page.get_by_test_id("cart-total")).to_have_text("38.50 USD")
    page.mouse.move(0, 0)  # judge colours at rest, not under the pointer
    assert_no_serious_a11y_violations(axe, page)
    screenshots_at_both_widths(page, "shop-cart")

    page.get_by_test_id("pay-cart").click()
    expect(page).to_have_url(re.compile(r"/shop/orders/ord_"))
    expect(page.get_by_test_id("order-total")).to_have_text("38.50 USD")
    order = Order.objects.get()
    assert order.buyer == alice and order.total == Decimal("38.50")
    products["book"].refresh_from_db()
    assert products["book"].stock == 0
    assert_no_serious_a11y_violations(axe, page)
    expect(page.get_by_role("heading", name=re.compile("Receipt"))).to_contain_text(order.number)
    screenshots_at_both_widths(page, "shop-receipt")


def test_merchant_sales_refund_and_a_new_api_key(
    page, live_server, people, login_as, products, axe
):
    from shop.models import Membership
    from shop.services import pay_cart

    alice, bob = people["alice"], people["bob"]
    merchant = products["mug"].merchant
    Membership.objects.create(organization=merchant, user=bob, role="manager")
    order = pay_cart(alice, alice.wallet, [(products["mug"], 2)])
    login_as(bob)

    page.goto(f"{live_server.url}/shop/sales/{merchant.slug}/")
    expect(page.get_by_test_id("net")).to_have_text("17.00 USD")
    assert_no_serious_a11y_violations(axe, page)
    page.get_by_label("Refund Coffee Mug").fill("1")
    page.get_by_label("Reason").first.fill("chipped")
    page.get_by_role("button", name="Refund").first.click()
    expect(page.get_by_test_id("net")).to_have_text("8.50 USD")
    order.refresh_from_db()
    assert order.status == "partially_refunded"

    page.goto(f"{live_server.url}/shop/merchants/{merchant.slug}/developers/")
    page.get_by_label("Key name").fill("server")
    page.get_by_role("button", name="Create a secret key").click()
    expect(page.get_by_test_id("new-key")).to_contain_text("sk_")
    assert_no_serious_a11y_violations(axe, page)
    page.goto(f"{live_server.url}/shop/merchants/{merchant.slug}/developers/")
    expect(page.get_by_test_id("new-key")).to_have_count(0)
    expect(page.get_by_role("cell", name=re.compile(r"^sk_\w+_…$"))).to_have_count(1)


def test_the_cart_names_each_wallets_total_when_their_fees_differ(
    page, live_server, people, login_as, products, settings, axe
):
    from wallets.models import FeePolicy

    house = Organization.objects.create(name="Tally fees", slug="tally-fees")
    settings.WALLETS = {**getattr(settings, "WALLETS", {}), "FEE_WALLET": lambda unit: house}
    # 2.1% of 8.50 + 0.10 = 0.2785: 0.28 in cents, 0.3 in a wallet of tenths.
    FeePolicy.objects.create(name="Card fee", percent=Decimal("2.1"), fixed=Decimal("0.10"))
    alice = people["alice"]
    coarse = alice.get_wallet("coarse", name="Pocket money", unit="USD", decimal_places=1)
    coarse.deposit("20")
    login_as(alice)
    page.goto(f"{live_server.url}/shop/products/{products['mug'].pk}/")
    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(f"{live_server.url}/shop/cart/")
    select = page.get_by_label("Pay from")
    expect(select.locator("option").nth(0)).to_contain_text("pays 8.78 USD")
    expect(select.locator("option").nth(1)).to_contain_text("pays 8.8 USD")
    totals = page.get_by_test_id("totals-per-wallet")
    expect(totals).to_contain_text("your Pocket money pays 8.8 USD")
    assert_no_serious_a11y_violations(axe, page)
    screenshots_at_both_widths(page, "shop-cart-fees-per-wallet")
    select.select_option(value=str(coarse.pk))
    page.get_by_test_id("pay-cart").click()
    expect(page.get_by_text(re.compile(r"Paid\. Order"))).to_be_visible()
    coarse.refresh_from_db()
    assert coarse.balance == Decimal("11.2")  # 20 - 8.50 - 0.3
