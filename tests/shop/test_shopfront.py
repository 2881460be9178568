import re
from decimal import Decimal

import pytest
from django.test import Client

from portal.models import User
from shop.models import Membership, MerchantAPIKey, Order, Organization, WebhookDelivery
from shop.services import pay_cart
from tests.html import hidden_value

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(make_product):
    return {
        "book": make_product("Django Book", "30.00", stock=2, category="Books"),
        "mug": make_product("Mug", "8.50", category="Kitchen", description="A mug for coffee"),
        "ebook": make_product("Ebook", "5.00", is_digital=True, category="Books"),
        "gone": make_product("Retired", "1.00", is_active=False),
    }


def names(response):
    return re.findall(r'<h2 class="h5 card-title"><a [^>]*>([^<]+)</a>', response.content.decode())


def form_key(page: str, name: str = "idempotency_key", after: str = "") -> str:
    """The hidden idempotency key named ``name`` (in the first form after ``after``)."""
    page = page.split(after, 1)[1] if after else page
    return re.search(rf'name="{re.escape(name)}" value="([^"]+)"', page).group(1)


def test_catalog_search_filters_and_sort(client, catalog):
    assert names(client.get("/shop/")) == ["Django Book", "Ebook", "Mug"]
    assert names(client.get("/shop/?q=coffee")) == ["Mug"]
    assert names(client.get("/shop/?category=Books&sort=-price")) == ["Django Book", "Ebook"]
    assert names(client.get("/shop/?min_price=6&max_price=10")) == ["Mug"]
    assert names(client.get("/shop/?sort=price")) == ["Ebook", "Mug", "Django Book"]


def test_catalog_htmx_returns_the_list_fragment(client, catalog):
    response = client.get("/shop/?q=mug", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="product-list"')
    assert "<html" not in body
    assert names(response) == ["Mug"]


def test_inactive_products_are_404(client, catalog):
    assert client.get(f"/shop/products/{catalog['gone'].pk}/").status_code == 404
    assert client.get(f"/shop/products/{catalog['mug'].pk}/").status_code == 200


def test_cart_add_update_and_pay(client, buyer, catalog, merchant):
    client.force_login(buyer)
    client.post(f"/shop/products/{catalog['book'].pk}/add/", {"quantity": 1})
    client.post(f"/shop/products/{catalog['mug'].pk}/add/", {"quantity": 3})
    response = client.post(
        "/shop/cart/update/", {"product": catalog["mug"].pk, "quantity": 2}, HTTP_HX_REQUEST="true"
    )
    assert 'data-testid="cart-total">47.00 USD' in response.content.decode()
    page = client.get("/shop/cart/").content.decode()
    key = hidden_value(page, "idempotency_key")
    data = {"wallet": buyer.wallet.pk, "idempotency_key": key}
    response = client.post("/shop/cart/checkout/", data)
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/shop/orders/{order.number}/"
    assert buyer.balance == Decimal("53.00") and merchant.balance == Decimal("47.00")
    # A resubmitted form does not pay twice.
    client.post(f"/shop/products/{catalog['mug'].pk}/add/", {"quantity": 2})
    client.post(f"/shop/products/{catalog['book'].pk}/add/", {"quantity": 1})
    client.post("/shop/cart/checkout/", data)
    assert Order.objects.count() == 1 and buyer.balance == Decimal("53.00")
    receipt = client.get(f"/shop/orders/{order.number}/").content.decode()
    assert "47.00 USD" in receipt and "Django Book" in receipt
    assert order.number in client.get("/shop/orders/").content.decode()


def test_paying_with_a_problem_shows_a_clear_message_and_charges_nothing(client, buyer, catalog):
    client.force_login(buyer)
    client.post(f"/shop/products/{catalog['book'].pk}/add/", {"quantity": 3})
    page = client.get("/shop/cart/").content.decode()
    assert "Only 2 of" in page
    key = hidden_value(page, "idempotency_key")
    response = client.post(
        "/shop/cart/checkout/", {"wallet": buyer.wallet.pk, "idempotency_key": key}
    )
    assert response.status_code == 422
    assert "Only 2 of &#x27;Django Book&#x27; left." in response.content.decode()
    assert buyer.balance == Decimal("100.00")


def test_checkout_posts_need_csrf(buyer, catalog):
    client = Client(enforce_csrf_checks=True)
    client.force_login(buyer)
    response = client.post(f"/shop/products/{catalog['mug'].pk}/add/", {"quantity": 1})
    assert response.status_code == 403


def test_receipts_are_private(client, buyer, catalog):
    order = pay_cart(buyer, buyer.wallet, [(catalog["mug"], 1)])
    other = User.objects.create_user("o", email="o@example.com", password="pw")
    client.force_login(other)
    assert client.get(f"/shop/orders/{order.number}/").status_code == 404
    assert order.number not in client.get("/shop/orders/").content.decode()


def test_sales_page_and_refund_by_a_manager(client, buyer, catalog, merchant, merchant_manager):
    order = pay_cart(buyer, buyer.wallet, [(catalog["book"], 2)])
    line = order.lines.get()
    client.force_login(merchant_manager)
    page = client.get(f"/shop/sales/{merchant.slug}/").content.decode()
    assert order.number in page and "60.00 USD" in page
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title and merchant.name in title
    assert page.count('id="checkouts-heading"') == 1
    response = client.post(
        f"/shop/sales/{merchant.slug}/orders/{order.number}/refund/",
        {
            f"{order.number}-line_{line.pk}": 1,
            f"{order.number}-reason": "damaged",
            f"{order.number}-idempotency_key": form_key(page, f"{order.number}-idempotency_key"),
        },
    )
    assert response.status_code == 302
    order.refresh_from_db()
    catalog["book"].refresh_from_db()
    assert order.status == "partially_refunded" and catalog["book"].stock == 1
    assert buyer.balance == Decimal("70.00")
    assert (
        'data-testid="net">30.00 USD'
        in client.get(f"/shop/sales/{merchant.slug}/").content.decode()
    )


def test_sales_pages_are_404_for_outsiders_and_members_cannot_refund(
    client, buyer, catalog, merchant
):
    order = pay_cart(buyer, buyer.wallet, [(catalog["mug"], 1)])
    client.force_login(buyer)
    assert client.get(f"/shop/sales/{merchant.slug}/").status_code == 404
    assert client.get(f"/shop/merchants/{merchant.slug}/developers/").status_code == 404
    member = User.objects.create_user("m", email="m@example.com", password="pw")
    Membership.objects.create(organization=merchant, user=member, role="member")
    client.force_login(member)
    assert client.get(f"/shop/sales/{merchant.slug}/").status_code == 200
    line = order.lines.get()
    response = client.post(
        f"/shop/sales/{merchant.slug}/orders/{order.number}/refund/",
        {f"{order.number}-line_{line.pk}": 1},
    )
    assert response.status_code == 404
    assert buyer.balance == Decimal("91.50")


def test_developers_page_shows_a_new_key_once_and_revokes(client, merchant, merchant_manager):
    client.force_login(merchant_manager)
    response = client.post(f"/shop/merchants/{merchant.slug}/keys/", {"name": "prod"})
    raw = response.content.decode().split('data-testid="new-key">')[1].split("<")[0]
    assert raw.startswith("sk_") and response["Cache-Control"] == "no-store"
    page = client.get(f"/shop/merchants/{merchant.slug}/developers/").content.decode()
    assert raw not in page
    key = MerchantAPIKey.objects.get()
    client.post(f"/shop/merchants/{merchant.slug}/keys/{key.pk}/revoke/")
    key.refresh_from_db()
    assert not key.is_active


def test_developers_page_manages_origins_webhooks_and_shows_deliveries(
    client, merchant, merchant_manager, buyer, api, session_body
):
    from shop.checkout.services import pay_session
    from shop.models import CheckoutSession

    client.force_login(merchant_manager)
    client.post(f"/shop/merchants/{merchant.slug}/origins/", {"origin": "https://shop.example/"})
    client.post(f"/shop/merchants/{merchant.slug}/webhooks/", {"url": "https://shop.example/h"})
    assert list(merchant.checkout_origins.values_list("origin", flat=True)) == [
        "https://shop.example"
    ]
    session_id = api.post("/api/checkout/sessions/", session_body).json()["id"]
    pay_session(CheckoutSession.objects.get(public_id=session_id), buyer, buyer.wallet)
    page = client.get(f"/shop/merchants/{merchant.slug}/developers/").content.decode()
    assert "checkout.session.completed" in page and "Pending" in page
    delivery = WebhookDelivery.objects.get()
    response = client.post(f"/shop/merchants/{merchant.slug}/deliveries/{delivery.pk}/retry/")
    assert response.status_code == 302
    other = Organization.objects.create(name="Other", slug="other", kind="merchant")
    assert (
        client.post(f"/shop/merchants/{other.slug}/deliveries/{delivery.pk}/retry/").status_code
        == 404
    )


def test_a_manager_refunds_a_checkout_payment_from_the_sales_page(
    client, merchant, merchant_manager, buyer, api, session_body
):
    from shop.checkout.services import pay_session
    from shop.models import CheckoutSession, WebhookEvent

    session_id = api.post("/api/checkout/sessions/", session_body).json()["id"]
    pay_session(CheckoutSession.objects.get(public_id=session_id), buyer, buyer.wallet)
    client.force_login(merchant_manager)
    page = client.get(f"/shop/sales/{merchant.slug}/").content.decode()
    assert session_id in page
    url = f"/shop/sales/{merchant.slug}/checkouts/{session_id}/refund/"
    key = form_key(page, after=url)
    assert (
        client.post(url, {"amount": "5.00", "reason": "late", "idempotency_key": key}).status_code
        == 302
    )
    assert buyer.balance == Decimal("80.00")
    assert WebhookEvent.objects.filter(type="payment.refunded").count() == 1
    client.force_login(buyer)
    assert client.post(url, {}).status_code == 404


def test_sales_page_queries_do_not_grow_with_orders(
    client, buyer, catalog, merchant, merchant_manager, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(merchant_manager)
    pay_cart(buyer, buyer.wallet, [(catalog["mug"], 1)])

    with CaptureQueriesContext(connection) as few:
        client.get(f"/shop/sales/{merchant.slug}/")
    for _ in range(5):
        pay_cart(buyer, buyer.wallet, [(catalog["mug"], 1)])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(f"/shop/sales/{merchant.slug}/")


def test_a_product_gone_from_the_cart_is_not_silently_skipped(client, buyer, catalog):
    client.force_login(buyer)
    client.post(f"/shop/products/{catalog['mug'].pk}/add/", {"quantity": 1})
    client.post(f"/shop/products/{catalog['book'].pk}/add/", {"quantity": 1})
    page = client.get("/shop/cart/").content.decode()
    key = hidden_value(page, "idempotency_key")
    catalog["book"].delete()
    response = client.post(
        "/shop/cart/checkout/", {"wallet": buyer.wallet.pk, "idempotency_key": key}
    )
    assert response.status_code == 422
    assert "no longer sold and were removed" in response.content.decode()
    assert buyer.balance == Decimal("100.00")
    assert "Mug" in client.get("/shop/cart/").content.decode()


def test_a_price_change_after_the_cart_was_shown_is_not_charged(client, buyer, catalog):
    from shop.models import Product

    client.force_login(buyer)
    client.post(f"/shop/products/{catalog['mug'].pk}/add/", {"quantity": 2})
    page = client.get("/shop/cart/").content.decode()
    key = hidden_value(page, "idempotency_key")
    shown = hidden_value(page, "expected_total")
    Product.objects.filter(pk=catalog["mug"].pk).update(price=Decimal("9.00"))
    response = client.post(
        "/shop/cart/checkout/",
        {"wallet": buyer.wallet.pk, "idempotency_key": key, "expected_total": shown},
    )
    assert response.status_code == 422
    assert "The total is now 18.00 USD, not 17.00" in response.content.decode()
    assert buyer.balance == Decimal("100.00")


def test_an_empty_or_too_long_origin_gets_a_clear_error_and_changes_nothing(
    client, merchant, merchant_manager
):
    client.force_login(merchant_manager)
    for origin in ("", "https://" + "a" * 300):
        response = client.post(
            f"/shop/merchants/{merchant.slug}/origins/", {"origin": origin}, follow=True
        )
        assert "Enter an origin such as https://shop.example." in response.content.decode()
    assert not merchant.checkout_origins.exists()


def test_an_order_number_with_a_nul_character_is_a_404_not_an_error(client, django_user_model):
    user = django_user_model.objects.create_user("nul", email="nul@example.com", password="pw")
    client.force_login(user)
    assert client.get("/shop/orders/ord_1%00x/").status_code == 404
