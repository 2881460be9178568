"""The brand (name, logo, favicon, account emails), the admin's labels and amounts, and
the plain amount errors of every amount input."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.core import mail
from django.test import Client
from django.urls import reverse

from portal.filters import TransactionFilter
from shop.models import Order, Organization, Product
from tests.html import hidden_value
from tests.portal.conftest import HTMX
from wallets.swappable import get_transaction_model

Transaction = get_transaction_model()

pytestmark = pytest.mark.django_db


def test_the_favicon_is_where_browsers_look_for_it(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("portal/favicon.ico")
    for name in ("favicon.ico", "favicon.svg", "logo.svg", "apple-touch-icon.png"):
        assert finders.find(f"portal/{name}"), name
    with open(finders.find("portal/favicon.ico"), "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # an ICO file


def test_pages_carry_the_name_and_the_logo(client, alice_client, settings):
    body = client.get(reverse("account_login")).content.decode()
    assert "<title>" in body and "· Tally</title>" in body
    assert 'src="/static/portal/logo.svg"' in body and "portal/favicon.ico" in body
    settings.SITE_NAME = "Kestrel"
    assert "· Kestrel</title>" in alice_client.get("/").content.decode()


def test_the_staff_console_looks_unlike_the_customer_side(alice_client):
    from tests.staff.conftest import make_user as make_staff

    staff = Client()
    staff.force_login(make_staff("mod", staff=True))
    console = staff.get(reverse("staff:home")).content.decode()
    customer = alice_client.get("/").content.decode()
    assert "site-staff" in console and "staff-navbar" in console and "Staff console" in console
    assert "You are in the staff console" in console
    assert "site-customer" in customer and "staff-navbar" not in customer


def test_account_emails_are_signed_with_the_site_name(client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "dora@example.com",
            "username": "dora",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
        HTTP_HOST="127.0.0.1:8101",
    )
    assert response.status_code == 302
    message = mail.outbox[-1]
    assert message.subject == "[Tally] Confirm your email address"
    assert "Tally <" in message.from_email
    assert "127.0.0.1:8101!" not in message.body and "Hello from" not in message.body
    assert message.body.startswith("Hello,") and "The Tally team" in message.body
    assert re.search(r"/accounts/confirm-email/\S+/", message.body)
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "Confirm my email address" in html

    client.post(reverse("account_reset_password"), {"email": "dora@example.com"})
    reset = mail.outbox[-1]
    assert reset.subject == "[Tally] Reset your password"
    assert "/accounts/password/reset/key/" in reset.body and "Tally" in reset.body


@pytest.fixture
def admin_client(db) -> Client:
    from portal.models import User

    admin = User.objects.create_superuser("root", "root@example.com", "pw-123-long")
    client = Client()
    client.force_login(admin)
    return client


def test_admin_labels_filters_and_amounts(admin_client, alice):
    points = alice.get_wallet("points", name="Points", unit="PTS", decimal_places=0)
    points.deposit(1500)
    index = admin_client.get("/admin/").content.decode()
    assert "Webhook deliveries" in index and "deliverys" not in index
    assert "Merchant API keys" in index and "Tally admin" in index
    wallets = admin_client.get("/admin/wallets/wallet/").content.decode()
    assert "1,500 PTS" in wallets and "0 PTS" in wallets and "100.00 USD" in wallets
    # The holder type filter lists kinds of holder that have wallets, not every model.
    filter_html = wallets[wallets.index("By holder type") :][:600]
    assert "user" in filter_html and "session" not in filter_html
    assert "permission" not in filter_html


def test_shop_admin_writes_prices_and_totals_by_the_rule(admin_client, alice):
    from shop.services import pay_cart

    merchant = Organization.objects.create(name="Corner", slug="corner", kind="merchant")
    mug = Product.objects.create(merchant=merchant, name="Mug", slug="mug", price=Decimal("12"))
    Product.objects.create(
        merchant=merchant, name="Gems", slug="gems", price=Decimal("1500"), unit="PTS"
    )
    order = pay_cart(alice, alice.wallet, [(mug, 2)])
    orders = admin_client.get("/admin/shop/order/").content.decode()
    assert "24.00 USD" in orders
    products = admin_client.get("/admin/shop/product/").content.decode()
    assert "12.00 USD" in products and "1,500 PTS" in products
    page = admin_client.get(f"/admin/shop/order/{order.pk}/change/").content.decode()
    assert "12.00 USD" in page and "24.00 USD" in page
    assert Order.objects.count() == 1


# Amount errors say what to type, on every amount input.

TRANSFER = reverse("portal:transfer")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-5", "Enter an amount greater than zero, like 12.50."),
        ("0", "Enter an amount greater than zero, like 12.50."),
        ("1e400", "Enter an amount like 12.50."),
        ("12,50", "Enter an amount like 12.50."),
        ("0.00000001", "USD takes at most 2 decimal places."),
        ("12.345", "USD takes at most 2 decimal places."),
        ("1" * 31, "That amount is too large. Enter a smaller one, like 12.50."),
        ("500", "Your Main wallet has 100.00 USD available; this needs 500.00 USD."),
    ],
)
def test_transfer_amount_errors_say_what_to_type(alice, bob, alice_client, typed, message):
    data = {
        "source": alice.wallet.pk,
        "recipient": "bob",
        "amount": typed,
        "note": "",
        "idempotency_key": "k-1",
    }
    body = alice_client.post(TRANSFER, data, **HTMX).content.decode()
    assert message in body
    for jargon in ("greater than or equal", "digits in total", "E-8", "Insufficient"):
        assert jargon not in body


def test_points_take_whole_numbers(alice, alice_client):
    points = alice.get_wallet("points", name="Points", unit="PTS", decimal_places=0)
    points.deposit(10)
    response = alice_client.post(
        reverse("portal:request_submit", args=["payout"]),
        {
            "payout-wallet": points.pk,
            "payout-amount": "1.5",
            "payout-reference": "bank",
            "payout-idempotency_key": "p-1",
        },
        **HTMX,
    )
    assert "PTS takes whole numbers only, like 12." in response.content.decode()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-5", "Enter an amount greater than zero, like 12.50."),
        ("1e400", "Enter an amount like 12.50."),
        ("abc", "Enter an amount like 12.50."),
    ],
)
def test_history_amount_filters_speak_plainly(typed, message):
    filterset = TransactionFilter({"amount_min": typed}, queryset=Transaction.objects.none())
    assert not filterset.is_valid()
    assert filterset.errors["amount_min"] == [message]


def test_history_amount_filters_accept_zero_and_decimals():
    for typed in ("0", "12.5", "0.00000001"):
        filterset = TransactionFilter({"amount_min": typed}, queryset=Transaction.objects.none())
        assert filterset.is_valid(), typed


def test_a_cart_the_wallet_cannot_cover_says_what_is_available_and_needed(alice, alice_client):
    merchant = Organization.objects.create(name="Corner", slug="corner", kind="merchant")
    bike = Product.objects.create(
        merchant=merchant, name="Bike", slug="bike", price=Decimal("1250.00")
    )
    alice_client.post(f"/shop/products/{bike.pk}/add/", {"quantity": 1})
    page = alice_client.get("/shop/cart/").content.decode()
    key = hidden_value(page, "idempotency_key")
    shown = hidden_value(page, "expected_total")
    response = alice_client.post(
        "/shop/cart/checkout/",
        {"wallet": alice.wallet.pk, "idempotency_key": key, "expected_total": shown},
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "Your Main wallet has 100.00 USD available; this order needs 1,250.00 USD." in body
    assert "Insufficient funds" not in body
