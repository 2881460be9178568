"""A wallet with a credit limit that is using it, and purchases of products no wallet
receives, in a browser at desktop (1280) and phone (390) widths: the wallet page, the
dashboard and the purchase receipt say the credit is included and name what was bought.

Every page is checked with axe (no serious or critical violation), also after an htmx
swap of the history, and the console stays free of CSP and script errors. Screenshots go
to ``test-artifacts/screenshots/credit-*-desktop.png`` / ``credit-*-phone.png``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_serious_a11y_violations, screenshots_at_both_widths
from tests.testapp.models import DigitalCourse
from wallets.services import purchase_service, wallet_service

pytestmark = pytest.mark.e2e

BOUGHT = "Purchase \N{MIDDLE DOT} Python course \N{MULTIPLICATION SIGN}2"


@pytest.fixture
def shopper(people):
    """Alice (237.50 USD, 20.00 held) gets 500.00 USD of credit, buys two Python courses
    (15.00 refunded) and a bootcamp that takes her below zero: -37.50 USD."""
    alice = people["alice"]
    wallet_service().set_credit_limit(alice.wallet, "500.00")
    course = DigitalCourse.objects.create(title="Python course", price=Decimal("20.00"))
    bootcamp = DigitalCourse.objects.create(title="Cloud bootcamp", price=Decimal("250.00"))
    bought = alice.pay(course, quantity=2)
    purchase_service().refund(bought, "15.00")
    alice.pay(bootcamp)
    alice.wallet.refresh_from_db()
    assert alice.wallet.balance == Decimal("-37.50")
    alice.bought = bought
    return alice


def calm(page) -> None:
    page.mouse.move(0, 0)  # judge colours at rest, not under the pointer


def test_wallet_with_credit_and_purchases_at_both_widths(
    page, live_server, shopper, login_as, axe, console_errors
):
    login_as(shopper)
    wallet = shopper.wallet

    page.goto(f"{live_server.url}/wallets/{wallet.uuid}/")
    header = page.locator(".totals")
    expect(header.get_by_test_id("wallet-balance")).to_have_text("-37.50 USD · using credit")
    expect(header.get_by_test_id("wallet-available")).to_have_text(
        "442.50 USD incl. 500.00 USD credit"
    )
    table = page.locator("#tx-table")
    expect(table.get_by_role("cell", name=BOUGHT, exact=True)).to_be_visible()
    expect(
        table.get_by_role("cell", name="Refund \N{MIDDLE DOT} Python course", exact=True)
    ).to_be_visible()
    expect(
        table.get_by_role("cell", name="Purchase \N{MIDDLE DOT} Cloud bootcamp", exact=True)
    ).to_be_visible()
    calm(page)
    assert_no_serious_a11y_violations(axe, page)
    screenshots_at_both_widths(page, "credit-wallet")

    # The history swapped by htmx (a filter) still names the purchase and stays clean.
    page.get_by_label("Type").select_option("withdraw")
    expect(table.get_by_role("cell", name="Refund \N{MIDDLE DOT} Python course")).to_have_count(0)
    expect(table.get_by_role("cell", name=BOUGHT, exact=True)).to_be_visible()
    calm(page)
    assert_no_serious_a11y_violations(axe, page)

    # The receipt, from the row's link.
    table.get_by_role("link", name=f"View receipt for {BOUGHT} of -40.00 USD").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(BOUGHT)
    expect(page.get_by_test_id("purchase-refunded")).to_have_text(
        "15.00 USD · partly refunded, 25.00 USD not refunded"
    )
    calm(page)
    assert_no_serious_a11y_violations(axe, page)
    screenshots_at_both_widths(page, "credit-receipt")

    page.goto(f"{live_server.url}/")
    card = page.get_by_test_id("wallet-card").filter(has_text="using credit")
    expect(card.get_by_test_id("wallet-available")).to_contain_text(
        "442.50 USD available incl. 500.00 USD credit"
    )
    expect(page.get_by_test_id("activity")).to_contain_text("Purchase · Cloud bootcamp")
    calm(page)
    assert_no_serious_a11y_violations(axe, page)
    screenshots_at_both_widths(page, "credit-dashboard")

    page.goto(f"{live_server.url}/transfer/")
    expect(page.locator("#id_source")).to_contain_text(
        "442.50 USD available incl. 500.00 USD credit"
    )
    calm(page)
    assert_no_serious_a11y_violations(axe, page)
    screenshots_at_both_widths(page, "credit-transfer-form")

    # The review step (an htmx swap): what is left to spend, the credit included.
    page.get_by_label("Recipient's email or username").fill("bob@example.com")
    page.get_by_label("Amount").fill("100.00")
    page.get_by_role("button", name="Review transfer").click()
    expect(page.get_by_role("heading", name="Review your transfer")).to_be_visible()
    expect(page.get_by_test_id("balance-after")).to_have_text("-137.50 USD · using credit")
    expect(page.get_by_test_id("available-after")).to_have_text(
        "342.50 USD incl. 500.00 USD credit"
    )
    calm(page)
    assert_no_serious_a11y_violations(axe, page)
    screenshots_at_both_widths(page, "credit-transfer-review")

    assert [error for error in console_errors if "422" not in error] == []
