"""The portal's main journeys in Chromium against a live server."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.e2e.conftest import (
    assert_no_serious_a11y_violations,
    screenshot,
    screenshots_at_both_widths,
    session_cookie,
)
from wallets.models import RiskRule, TransferHold
from wallets.swappable import get_transaction_model, get_transfer_model

Transaction = get_transaction_model()
Transfer = get_transfer_model()

pytestmark = pytest.mark.e2e


def test_sign_up_verify_email_and_log_in(page, live_server, axe, transactional_db):
    page.goto(f"{live_server.url}/accounts/signup/")
    page.locator("#id_email").fill("dora@example.com")
    page.locator("#id_username").fill("dora")
    page.locator("#id_password1").fill("a-long-passphrase-42")
    page.locator("#id_password2").fill("a-long-passphrase-42")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()

    confirm_path = re.search(r"(/accounts/confirm-email/\S+/)", mail.outbox[-1].body).group(1)
    page.goto(live_server.url + confirm_path)
    page.get_by_role("button", name="Confirm").click()

    page.goto(f"{live_server.url}/accounts/login/")
    assert_no_serious_a11y_violations(axe, page)
    page.locator("#id_login").fill("dora@example.com")
    page.locator("#id_password").fill("a-long-passphrase-42")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="Your wallets")).to_be_visible()


def test_dashboard_wallet_history_filter_and_csv_export(
    page, live_server, people, login_as, axe, console_errors
):
    alice = people["alice"]
    login_as(alice)
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="Your wallets")).to_be_visible()
    expect(page.get_by_role("link", name="Euro savings", exact=True)).to_be_visible()
    screenshot(page, "journey-dashboard")
    assert_no_serious_a11y_violations(axe, page)

    page.get_by_role("link", name="Main wallet", exact=True).click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    assert_no_serious_a11y_violations(axe, page)

    page.get_by_label("Search").fill("lunch")
    expect(page).to_have_url(re.compile(r"q=lunch"))
    table = page.locator("#tx-table")
    expect(table.get_by_text("Bob Baker")).to_be_visible()
    expect(table.get_by_text("Welcome credit")).to_have_count(0)
    assert_no_serious_a11y_violations(axe, page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export these rows as CSV").click()
    content = download_info.value.path().read_text()
    rows = list(csv.reader(io.StringIO(content)))
    assert len(rows) == 2  # header and the one filtered row
    assert rows[1][6] == "Lunch"

    # The filtered view is a plain URL: reloading it shows the same rows.
    page.reload()
    expect(page.locator("#tx-table").get_by_text("Welcome credit")).to_have_count(0)
    # Back to the unfiltered history: a whole page again, not a fragment.
    page.go_back()
    expect(page.locator("#tx-table").get_by_text("Welcome credit")).to_be_visible()
    expect(page.get_by_role("heading", name="History")).to_be_visible()

    # Open another wallet from the dashboard; a taken slug is refused inline first.
    page.goto(live_server.url + "/")
    form = page.locator("#open-wallet-form")
    form.locator("#id_name").fill("Gems")
    form.locator("#id_unit").fill("GEM")
    form.get_by_text("Advanced").click()
    form.locator("#id_slug").fill("eur")
    form.locator("#id_decimal_places").fill("0")
    form.get_by_role("button", name="Open wallet").click()
    expect(page.locator("#open-wallet-form")).to_contain_text("already have a wallet")
    page.locator("#id_slug").fill("gems")
    page.get_by_role("button", name="Open wallet").click()
    expect(page.get_by_role("heading", name="Gems")).to_be_visible()
    assert alice.get_wallet("gems").unit == "GEM"
    assert [error for error in console_errors if "422" not in error] == []  # no CSP refusals


def test_transfer_with_review_confirm_and_double_click(
    page, live_server, people, login_as, axe, console_errors
):
    alice, bob = people["alice"], people["bob"]
    login_as(alice)
    page.goto(f"{live_server.url}/transfer/")
    assert_no_serious_a11y_violations(axe, page)

    page.get_by_label("Recipient's email or username").fill("bob@example.com")
    expect(page.get_by_test_id("recipient-match")).to_contain_text("Bob B.")
    page.get_by_label("Amount").fill("40.00")
    page.get_by_label("Note (optional)").fill("Concert tickets")
    page.get_by_role("button", name="Review transfer").click()

    expect(page.get_by_role("heading", name="Review your transfer")).to_be_visible()
    expect(page.get_by_test_id("balance-after")).to_have_text("197.50 USD")
    screenshot(page, "journey-transfer-review")
    assert_no_serious_a11y_violations(axe, page)

    page.get_by_role("button", name=re.compile("Confirm and send")).dblclick()
    expect(page.get_by_role("heading", name="Money sent")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/transfers/[0-9a-f-]+/$"))
    # The balance list beside the form refreshed through the balanceChanged event.
    expect(page.get_by_test_id(f"balance-{alice.wallet.uuid}")).to_contain_text("177.50 USD")

    transfers = Transfer.objects.filter(meta__note="Concert tickets")
    assert transfers.count() == 1
    bob.wallet.refresh_from_db()
    assert bob.wallet.balance == Decimal("132.50")

    # An inline error: more than is available.
    page.goto(f"{live_server.url}/transfer/")
    page.get_by_label("Recipient's email or username").fill("bob")
    page.locator("#id_amount").fill("10000")
    page.get_by_role("button", name="Review transfer").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Your Main wallet has 177.50 USD available; this needs 10,000.00 USD."
    )
    assert_no_serious_a11y_violations(axe, page)
    # The 422 response is swapped in by htmx; its status shows up as a failed resource.
    assert [error for error in console_errors if "422" not in error] == []


def test_a_transfer_held_for_review_is_announced_then_reserved_and_cancelable(
    page, live_server, people, login_as, axe, console_errors
):
    alice, bob = people["alice"], people["bob"]
    RiskRule.objects.create(
        name="Large transfers", max_single=Decimal("50"), on_breach=RiskRule.OnBreach.HOLD
    )
    login_as(alice)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/transfer/")
    page.get_by_label("Recipient's email or username").fill("bob@example.com")
    page.get_by_label("Amount").fill("60.00")
    page.get_by_label("Note (optional)").fill("Deposit for the flat")
    page.get_by_role("button", name="Review transfer").click()
    expect(page.get_by_role("heading", name="Review your transfer")).to_be_visible()
    notice = page.get_by_test_id("review-notice")
    expect(notice).to_contain_text("will be held for review")
    expect(notice).not_to_contain_text("Large transfers")
    assert_no_serious_a11y_violations(axe, page)
    screenshots_at_both_widths(page, "transfer-review-hold")

    page.get_by_role("button", name=re.compile("Confirm and send")).click()
    expect(page).to_have_url(re.compile(r"/pending/$"))
    expect(page.get_by_role("status").filter(has_text="held for review").first).to_be_visible()
    row = page.locator("tr", has_text="Transfer to Bob Baker")
    expect(row).to_contain_text("Held for review")
    expect(row).to_contain_text("60.00 USD")
    assert_no_serious_a11y_violations(axe, page)
    screenshots_at_both_widths(page, "pending-held-transfer")
    alice.wallet.refresh_from_db()
    assert alice.wallet.held == Decimal("80.00")  # the payout's 20.00 and this transfer's 60.00

    row.get_by_role("button", name=re.compile("Cancel transfer to Bob Baker")).click()
    expect(page.get_by_role("status").filter(has_text="Canceled")).to_be_visible()
    assert TransferHold.objects.get().state == TransferHold.State.CANCELED
    bob.wallet.refresh_from_db()
    assert bob.wallet.balance == Decimal("92.50")
    assert console_errors == []


def test_exchange_and_top_up_request_on_a_phone(
    page, live_server, people, login_as, console_errors
):
    alice = people["alice"]
    login_as(alice)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/exchange/")
    page.locator("#id_to_wallet").select_option(value=str(alice.get_wallet("eur").pk))
    page.locator("#id_amount").fill("10.00")
    page.get_by_role("button", name="See the rate").click()
    expect(page.get_by_test_id("exchange-rate")).to_have_text("1 USD = 0.92 EUR")
    expect(page.get_by_test_id("exchange-received")).to_contain_text("9.20 EUR")
    page.get_by_role("button", name="Confirm exchange").click()
    expect(page.get_by_role("heading", name="Exchange done")).to_be_visible()
    assert alice.get_wallet("eur").balance == Decimal("9.20")

    page.goto(f"{live_server.url}/requests/")
    top_up = page.locator("#topup-form")
    top_up.get_by_label("Amount").fill("75.00")
    top_up.get_by_label("Payment reference").fill("Bank transfer 991")
    top_up.get_by_role("button", name="Request top-up").click()
    expect(page.get_by_text("Top-up requested")).to_be_visible()

    page.goto(f"{live_server.url}/pending/")
    expect(page.get_by_text("Bank transfer 991")).to_be_visible()
    # Wide tables scroll inside their box; the page itself never scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name=re.compile("Cancel withdrawal")).click()
    expect(page.get_by_role("status").filter(has_text="Canceled")).to_be_visible()
    assert Transaction.objects.filter(state="canceled").count() == 1
    assert console_errors == []


def test_reading_and_filtering_work_without_javascript(browser, live_server, people):
    context = browser.new_context(java_script_enabled=False)
    context.add_cookies([session_cookie(people["alice"], live_server.url)])
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Main wallet", exact=True).click()
    page.get_by_label("Search").fill("welcome")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"q=welcome"))
    expect(page.locator("#tx-table").get_by_text("Welcome credit")).to_be_visible()
    expect(page.locator("#tx-table").get_by_text("Bob Baker")).to_have_count(0)
    context.close()
