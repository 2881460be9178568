"""The checkout in a real browser, the merchant and the portal on different sites.

The merchant page is opened as http://localhost:<port>/demo-merchant/ and the
portal as http://127.0.0.1:<port>/ (one server bound to 127.0.0.1), so
Chromium applies its cross-site rules to framing, cookies and postMessage.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from shop.checkout.services import add_allowed_origin
from shop.models import CheckoutSession, Organization, WebhookDelivery
from shop.webhook_signature import HEADER, verify
from shop.webhooks import WebhookEndpoint, deliver_due
from tests.e2e.conftest import assert_no_serious_a11y_violations, screenshots_at_both_widths
from tests.shop.test_webhooks import Receiver

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def two_sites_server(django_db_setup, django_db_blocker):
    """One live server bound to 127.0.0.1 for this module (as pytest-django's own)."""
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock():
        server = LiveServer("127.0.0.1:0")
    yield server
    server.stop()


@pytest.fixture
def two_sites(two_sites_server, transactional_db, settings):
    """The server reachable as two sites: the portal and the merchant."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost", "127.0.0.1"]
    settings.SHOP_DEMO_MERCHANT = True
    port = two_sites_server.thread.port
    return {"portal": f"http://127.0.0.1:{port}", "merchant": f"http://localhost:{port}"}


@pytest.fixture
def customer(people, page, two_sites):
    """Alice, logged in on the portal's site only (first-party cookie)."""
    alice = people["alice"]
    client = Client()
    client.force_login(alice)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": two_sites["portal"],
            }
        ]
    )
    return alice


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def text_edge(locator, side: str) -> float:
    """Where the element's text starts ("left") or ends ("right") on the page."""
    return locator.evaluate(
        "(element, side) => { const range = document.createRange();"
        " range.selectNodeContents(element); return range.getBoundingClientRect()[side]; }",
        side,
    )


def demo_merchant_with_webhook(receiver) -> WebhookEndpoint:
    merchant, _ = Organization.objects.get_or_create(
        slug="demo-merchant", defaults={"name": "Demo Shop", "kind": "merchant"}
    )
    return WebhookEndpoint.objects.create(merchant=merchant, url=receiver.url)


def test_hosted_checkout_round_trip(page, two_sites, customer, receiver, axe):
    endpoint = demo_merchant_with_webhook(receiver)
    page.goto(two_sites["merchant"] + "/demo-merchant/")
    page.get_by_role("button", name="Pay on the wallet site").click()

    expect(page).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/checkout/cs_"))
    expect(page.get_by_test_id("merchant")).to_have_text("Demo Shop")
    expect(page.get_by_test_id("total")).to_have_text("25.00 USD")
    expect(page.get_by_test_id("balance-after").first).to_have_text("192.50")
    assert_no_serious_a11y_violations(axe, page)
    screenshots_at_both_widths(page, "checkout")
    page.get_by_test_id("pay").click()

    expect(page).to_have_url(
        re.compile(r"^http://localhost:\d+/demo-merchant/success/\?session_id=cs_")
    )
    expect(page.get_by_test_id("server-status")).to_have_text("complete")

    # The webhook arrives signed, on loopback.
    assert deliver_due().delivered == 1
    [(headers, body)] = receiver.requests
    verify(endpoint.secret, body, headers[HEADER])
    event = json.loads(body)
    assert event["type"] == "checkout.session.completed"
    assert WebhookDelivery.objects.get().status == "delivered"


def test_hosted_checkout_shows_and_charges_the_fee(page, two_sites, customer, settings, axe):
    from wallets.models import FeePolicy

    house = Organization.objects.create(name="Tally fees", slug="tally-fees")
    settings.WALLETS = {**getattr(settings, "WALLETS", {}), "FEE_WALLET": lambda unit: house}
    FeePolicy.objects.create(name="Card fee", percent=Decimal("2"), fixed=Decimal("0.10"))
    page.goto(two_sites["merchant"] + "/demo-merchant/")
    page.get_by_role("button", name="Pay on the wallet site").click()

    # 2% of 25.00 + 0.10 = 0.60
    expect(page.get_by_test_id("total")).to_have_text("25.00 USD")
    expect(page.get_by_test_id("fee")).to_have_text("0.60 USD")
    expect(page.get_by_test_id("fee-total")).to_have_text("25.60 USD")
    expect(page.get_by_test_id("balance-after").first).to_have_text("191.90")
    expect(page.get_by_test_id("pay")).to_have_text("Pay 25.60 USD")
    # The totals line up with the items' columns: names on one left edge, amounts
    # on one right edge.
    cells = page.locator("table tbody td")
    label, amount = page.get_by_text("Total", exact=True), page.get_by_test_id("total")
    assert abs(text_edge(cells.first, "left") - text_edge(label, "left")) < 1
    assert abs(text_edge(cells.last, "right") - text_edge(amount, "right")) < 1
    assert_no_serious_a11y_violations(axe, page)
    screenshots_at_both_widths(page, "checkout-fee")
    page.get_by_test_id("pay").click()

    expect(page.get_by_test_id("server-status")).to_have_text("complete")
    assert customer.balance == Decimal("211.90")  # 237.50 - 25.00 - 0.60
    assert house.balance == Decimal("0.60")


def test_wallets_that_round_the_fee_differently_each_show_their_total(
    page, two_sites, customer, settings, axe
):
    from wallets.models import FeeCharge, FeePolicy

    house = Organization.objects.create(name="Tally fees", slug="tally-fees")
    settings.WALLETS = {**getattr(settings, "WALLETS", {}), "FEE_WALLET": lambda unit: house}
    # 2.1% of 25.00 + 0.10 = 0.625: 0.63 in cents, 0.6 in a wallet of tenths.
    FeePolicy.objects.create(name="Card fee", percent=Decimal("2.1"), fixed=Decimal("0.10"))
    coarse = customer.get_wallet("coarse", name="Pocket money", unit="USD", decimal_places=1)
    coarse.deposit("40")
    page.goto(two_sites["merchant"] + "/demo-merchant/")
    page.get_by_role("button", name="Pay on the wallet site").click()

    totals = page.get_by_test_id("option-total")
    expect(totals).to_have_count(2)
    expect(totals.nth(0)).to_have_text("Pays 25.63 USD, fee 0.63 USD")
    expect(totals.nth(1)).to_have_text("Pays 25.6 USD, fee 0.6 USD")
    expect(page.get_by_test_id("pay")).to_have_text("Pay")
    assert_no_serious_a11y_violations(axe, page)
    screenshots_at_both_widths(page, "checkout-fees-per-wallet")
    page.get_by_label(re.compile("Pocket money")).check()
    page.get_by_test_id("pay").click()

    expect(page.get_by_test_id("server-status")).to_have_text("complete")
    coarse.refresh_from_db()
    assert coarse.balance == Decimal("14.4")  # 40 - 25.00 - 0.6
    assert FeeCharge.objects.get().amount == Decimal("0.6")


def test_embedded_checkout_pays_in_a_popup_and_tells_the_merchant_page(
    page, two_sites, customer, receiver
):
    endpoint = demo_merchant_with_webhook(receiver)
    page.goto(two_sites["merchant"] + "/demo-merchant/")
    page.get_by_role("button", name="Pay here (embedded)").click()

    frame = page.frame_locator("iframe[title='Pay with wallet']")
    expect(frame.get_by_test_id("total")).to_have_text("25.00 USD")
    screenshots_at_both_widths(page, "checkout-embedded")
    events = page.get_by_test_id("events")
    expect(events).to_contain_text(f"wallet-checkout:ready from {two_sites['portal']}")

    with page.context.expect_page() as popup_info:
        frame.get_by_test_id("continue").click()
    popup = popup_info.value
    expect(popup).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/checkout/cs_"))
    popup.get_by_test_id("pay").click()
    expect(popup.get_by_test_id("popup-paid")).to_be_visible()

    # The iframe's polling sees the payment and posts to the merchant origin only.
    expect(events).to_contain_text(
        f"wallet-checkout:completed from {two_sites['portal']}", timeout=10_000
    )
    expect(page.get_by_test_id("server-status")).to_have_text("complete")
    expect(frame.get_by_test_id("embed-complete")).to_be_visible()

    session = CheckoutSession.objects.get()
    assert session.status == "complete" and session.paid_by_id == customer.pk
    assert deliver_due().delivered == 1
    [(headers, body)] = receiver.requests
    verify(endpoint.secret, body, headers[HEADER])

    # The popup closes itself; coming back to the session offers no second payment.
    if not popup.is_closed():
        popup.wait_for_event("close", timeout=10_000)
    again = page.context.new_page()
    again.goto(f"{two_sites['portal']}/checkout/{session.public_id}/")
    expect(again.get_by_test_id("checkout-complete")).to_be_visible()
    expect(again.get_by_test_id("pay")).to_have_count(0)


def test_the_checkout_is_not_framed_by_an_unregistered_origin(page, two_sites, people):
    merchant = Organization.objects.create(name="M", slug="m", kind="merchant")
    alice = people["alice"]
    staff = type(alice).objects.create_superuser("root", "root@example.com", "pw")
    add_allowed_origin(merchant, "https://shop.example", by=staff)
    from shop.checkout.services import create_session

    session, _ = create_session(
        None,
        {
            "amount": "5.00",
            "unit": "USD",
            "mode": "embedded",
            "embed_origin": "https://shop.example",
            "success_url": "https://shop.example/ok",
            "cancel_url": "https://shop.example/no",
        },
        merchant=merchant,
    )
    embed = f"{two_sites['portal']}/checkout/{session.public_id}/embed/?cs={session.client_secret}"
    # The demo merchant's origin (localhost) is not this session's origin.
    page.route(
        f"{two_sites['merchant']}/evil/",
        lambda route: route.fulfill(
            content_type="text/html",
            body=f'<!doctype html><title>x</title><iframe title="x" src="{embed}"></iframe>',
        ),
    )
    page.goto(f"{two_sites['merchant']}/evil/")
    page.wait_for_timeout(1000)
    frame = page.frame_locator("iframe[title='x']")
    expect(frame.get_by_test_id("continue")).to_have_count(0)
    expect(frame.get_by_test_id("total")).to_have_count(0)
    # Control: the same URL renders at top level, so only the framing was refused.
    top = page.context.new_page()
    response = top.goto(embed)
    assert "frame-ancestors https://shop.example" in response.headers["content-security-policy"]
    expect(top.get_by_test_id("total")).to_have_text("5.00 USD")


def test_an_expired_session_cannot_be_paid(page, two_sites, customer):
    from datetime import timedelta

    from django.utils import timezone

    page.goto(two_sites["merchant"] + "/demo-merchant/")
    page.get_by_role("button", name="Pay on the wallet site").click()
    expect(page.get_by_test_id("pay")).to_be_visible()
    CheckoutSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    page.get_by_test_id("pay").click()
    expect(page.get_by_test_id("checkout-expired")).to_be_visible()
    assert customer.balance == Decimal("237.50")  # unchanged


def test_cancelling_in_the_popup_tells_the_merchant_page(page, two_sites, customer):
    page.goto(two_sites["merchant"] + "/demo-merchant/")
    page.get_by_role("button", name="Pay here (embedded)").click()
    frame = page.frame_locator("iframe[title='Pay with wallet']")
    with page.context.expect_page() as popup_info:
        frame.get_by_test_id("continue").click()
    popup = popup_info.value
    popup.get_by_role("button", name=re.compile("Cancel and return")).click()
    expect(page.get_by_test_id("events")).to_contain_text(
        f"wallet-checkout:cancelled from {two_sites['portal']}"
    )
    assert CheckoutSession.objects.get().status == "open"
    assert customer.balance == Decimal("237.50")
