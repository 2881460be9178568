"""The portal in a browser, at desktop (1280) and phone (390) widths: whose money it is,
who paid whom on the staff holder page, the open-wallet form's one error box, frozen
wallets shown but not offered, and the dashboard's charts.

Every page visited is checked with axe (no serious or critical violation) and the
browser console must stay free of CSP and script errors. Screenshots of each page go
to ``test-artifacts/screenshots/`` (``<page>-desktop.png`` / ``<page>-phone.png``).
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from shop.models import Membership, Organization, Product
from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    assert_no_serious_a11y_violations,
    screenshot,
)
from tests.staff.conftest import ALL_STAFF_PERMISSIONS, make_user
from wallets.models import AuditEntry
from wallets.services import wallet_service
from wallets.swappable import get_transfer_model

Transfer = get_transfer_model()

pytestmark = pytest.mark.e2e

SIZES = {"desktop": DESKTOP, "phone": PHONE}
both_widths = pytest.mark.parametrize("size", list(SIZES))


def shot(page: Page, name: str, size: str) -> None:
    """A full-page screenshot under test-artifacts/screenshots/; nothing sticks out sideways."""
    screenshot(page, f"{name}-{size}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= SIZES[size]["width"], (name, size, width)


def check(axe, page: Page) -> None:
    page.mouse.move(0, 0)  # judge colours at rest, not under the pointer
    assert_no_serious_a11y_violations(axe, page)


def no_errors(console_errors: list[str]) -> list[str]:
    # A 422 (form errors, swapped in by htmx) shows up as a failed resource; nothing else may.
    return [error for error in console_errors if "422" not in error]


@pytest.fixture
def acme(people) -> Organization:
    """Alice owns Acme Coffee; Bob is a member who may look but not spend."""
    org = Organization.objects.create(
        name="Acme Coffee", slug="acme-coffee", kind=Organization.Kind.MERCHANT
    )
    Membership.objects.create(organization=org, user=people["alice"], role="owner")
    Membership.objects.create(organization=org, user=people["bob"], role="member")
    org.deposit("1200.00", meta={"reference": "Opening float"})
    return org


@both_widths
def test_whose_money_is_named_everywhere_and_forms_start_on_your_own_wallet(
    page, live_server, people, acme, login_as, axe, console_errors, size
):
    alice = people["alice"]
    page.set_viewport_size(SIZES[size])
    login_as(alice)

    # The dashboard: your own wallets first, then the organization's under its name.
    page.goto(live_server.url + "/")
    groups = page.get_by_test_id("wallet-group")
    expect(groups).to_have_count(2)
    expect(groups.nth(0).get_by_role("heading", level=2)).to_have_text("Yours")
    expect(groups.nth(1).get_by_role("heading", level=2)).to_have_text("Acme Coffee")
    expect(groups.nth(0).get_by_test_id("wallet-holder").first).to_have_text("You")
    expect(groups.nth(1).get_by_test_id("wallet-holder")).to_have_text("Acme Coffee")
    expect(page.get_by_test_id("own-totals")).to_contain_text("237.50 USD")
    check(axe, page)

    # The transfer form starts on Alice's own wallet, never Acme's.
    page.goto(f"{live_server.url}/transfer/")
    source = page.get_by_label("From wallet")
    expect(source.locator("option:checked")).to_have_text(re.compile(r"^Your Main wallet"))
    expect(source.locator("optgroup[label='Acme Coffee'] option")).to_have_text(
        re.compile(r"^Acme Coffee's Main wallet · 1,200\.00 USD available")
    )
    check(axe, page)

    # Moving Acme's money is an explicit choice, and the review says so in words.
    source.select_option(value=str(acme.wallet.pk))
    page.get_by_label("Recipient's email or username").fill("bob@example.com")
    page.get_by_label("Amount").fill("25")
    page.get_by_label("Note (optional)").fill("Beans for the week")
    page.get_by_role("button", name="Review transfer").click()
    expect(page.get_by_role("heading", name="Review your transfer")).to_be_visible()
    expect(page.get_by_test_id("review-summary")).to_contain_text("from Acme Coffee's Main wallet")
    expect(page.get_by_test_id("organization-money")).to_contain_text(
        "This is Acme Coffee's money, not yours."
    )
    expect(page.get_by_test_id("review-source")).to_have_text("Acme Coffee's Main wallet (USD)")
    check(axe, page)
    shot(page, "transfer-review", size)

    page.get_by_role("button", name=re.compile("Confirm and send 25.00 USD")).click()
    expect(page.get_by_role("heading", name="Money sent")).to_be_visible()
    expect(page.get_by_test_id("receipt-own-wallet")).to_have_text(
        "Acme Coffee's Main wallet (USD)"
    )
    expect(page.get_by_test_id("receipt-summary")).to_have_text("Sent to Bob Baker")
    check(axe, page)
    shot(page, "receipt", size)
    transfer = Transfer.objects.get(meta__note="Beans for the week")
    assert transfer.from_wallet == acme.wallet and transfer.meta["initiated_by"] == "alice"

    # The pending list: each row says whose wallet.
    page.goto(f"{live_server.url}/pending/")
    expect(page.get_by_test_id("pending-wallet")).to_have_text("Your Main wallet")
    check(axe, page)

    # Recent activity names the counterparty and the reference.
    page.goto(live_server.url + "/")
    activity = page.get_by_test_id("activity")
    latest = activity.get_by_role("listitem").first
    expect(latest).to_contain_text("Sent to Bob Baker")
    expect(latest).to_contain_text("Beans for the week")
    expect(latest).to_contain_text("Acme Coffee's Main wallet")
    expect(latest).to_contain_text("-25.00 USD")
    shot(page, "dashboard", size)
    assert no_errors(console_errors) == []


@both_widths
def test_dashboard_charts_have_ranges_axes_and_the_value_under_the_pointer(
    page, live_server, people, login_as, axe, console_errors, size
):
    alice = people["alice"]
    page.set_viewport_size(SIZES[size])
    login_as(alice)
    page.goto(live_server.url + "/")
    card = page.get_by_test_id("wallet-card").first
    chart = card.locator("svg.balance-chart")
    expect(chart).to_have_attribute("role", "img")
    expect(chart.locator("title").first).to_contain_text("over the last 30 days")
    expect(chart.locator(".chart-tick").first).to_be_visible()  # a value on the axis
    expect(chart.locator(".chart-date").last).to_have_text("Today")

    page.get_by_role("link", name="7 days").click()
    expect(page).to_have_url(re.compile(r"\?days=7$"))
    chart = page.get_by_test_id("wallet-card").first.locator("svg.balance-chart")
    expect(chart.locator("title").first).to_contain_text("over the last 7 days")
    expect(page.get_by_role("link", name="7 days")).to_have_attribute("aria-current", "true")
    check(axe, page)

    # The wallet page: the value of the day under the pointer, and the figures as a table.
    page.goto(f"{live_server.url}/wallets/{alice.wallet.uuid}/?days=90")
    figure = page.locator(".balance-chart-page svg:visible")
    expect(figure).to_have_count(1)
    last_day = figure.locator(".chart-col").last
    expect(last_day.locator(".chart-readout")).to_be_hidden()
    last_day.locator(".chart-hit").hover()
    expect(last_day.locator(".chart-readout")).to_be_visible()
    expect(last_day.locator(".chart-readout")).to_contain_text("237.50 USD")
    page.get_by_text("Balance by day, as a table").click()
    expect(page.get_by_role("table").first).to_contain_text("237.50 USD")
    expect(page.get_by_test_id("chart-stats")).to_contain_text("Change in 90 days")
    check(axe, page)
    page.get_by_text("Balance by day, as a table").click()
    page.mouse.move(0, 0)
    shot(page, "wallet", size)
    assert no_errors(console_errors) == []



@both_widths
def test_staff_holder_page_says_who_paid_whom_and_lists_the_actions_just_taken(
    live_server, people, axe, logged_in_page, size
):
    from shop.services import pay_cart

    alice = people["alice"]
    staff_member = make_user("moderator", staff=True, perms=ALL_STAFF_PERMISSIONS)
    merchant = Organization.objects.create(name="Corner Shop", slug="corner", kind="merchant")
    mug = Product.objects.create(merchant=merchant, name="Mug", slug="mug", price=Decimal("12"))
    order = pay_cart(alice, alice.wallet, [(mug, 2)])
    alice.wallet.deposit(
        "75.00", confirmed=False, meta={"request": "top-up", "reference": "Bank transfer 991"}
    )
    staff = logged_in_page(staff_member, SIZES[size])
    errors: list[str] = []
    staff.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # Confirm the top-up in the queue, then refund the order from the holder's page.
    staff.goto(f"{live_server.url}/staff/queue/")
    expect(staff.locator(".staff-badge")).to_have_text("Staff console")
    row = staff.locator("li", has_text="Bank transfer 991")
    row.get_by_label("Reason").fill("Payment received")
    row.get_by_role("button", name="Confirm").click()
    expect(row.get_by_role("status")).to_have_text("Confirmed")
    check(axe, staff)
    shot(staff, "staff-queue", size)

    staff.goto(f"{live_server.url}/staff/holders/user/{alice.pk}/")
    staff.get_by_role("link", name=f"Refund order {order.number}").click()
    expect(staff.locator("#what-happens")).to_contain_text("24.00 USD")
    staff.get_by_label("Reason").fill("Arrived broken")
    staff.get_by_role("button", name="Refund order").click()
    expect(staff.get_by_role("status").filter(has_text="was refunded")).to_be_visible()

    # Who paid whom: holder names on both sides; the actions just taken, with amounts.
    transfers = staff.locator("section", has=staff.locator("#transfers-heading"))
    lunch = transfers.get_by_role("row").filter(has_text="12.50 USD")
    expect(lunch).to_contain_text("Alice Archer")
    expect(lunch).to_contain_text("Bob Baker")
    audit = staff.locator("section", has=staff.locator("#audit-heading"))
    expect(audit.get_by_role("row").filter(has_text="Arrived broken")).to_contain_text("24.00 USD")
    expect(audit.get_by_role("row").filter(has_text="Payment received")).to_contain_text(
        "75.00 USD"
    )
    expect(audit).not_to_contain_text("None.")
    orders = staff.locator("section", has=staff.locator("#orders-heading"))
    expect(orders.locator(".ref")).to_have_text(order.number)
    expect(orders).to_contain_text("24.00 USD")
    check(axe, staff)
    shot(staff, "staff-console", size)
    assert AuditEntry.objects.count() == 2
    assert errors == []


@both_widths
def test_open_wallet_shows_one_error_box_and_keeps_engine_terms_aside(
    page, live_server, people, login_as, axe, console_errors, size
):
    alice = people["alice"]
    page.set_viewport_size(SIZES[size])
    login_as(alice)
    page.goto(live_server.url + "/")
    form = page.locator("#open-wallet-form")
    expect(form.get_by_label("Short name in links")).to_be_hidden()  # under "Advanced"
    form.locator("#id_name").fill("Second main")
    form.get_by_text("Advanced").click()
    form.get_by_label("Short name in links").fill("default")
    form.get_by_role("button", name="Open wallet").click()

    form = page.locator("#open-wallet-form")
    alerts = form.get_by_role("alert")
    expect(alerts).to_have_count(1)
    expect(alerts).to_contain_text("already have a wallet with the short name 'default'")
    expect(form.get_by_label("Short name in links")).to_be_visible()  # Advanced opened
    check(axe, page)

    # Name and unit are enough: the slug comes from the name, the places from the unit.
    form.get_by_label("Short name in links").fill("")
    form.locator("#id_name").fill("Gem stash")
    form.locator("#id_unit").fill("PTS")
    form.get_by_role("button", name="Open wallet").click()
    expect(page.get_by_role("heading", name="Gem stash")).to_be_visible()
    wallet = alice.get_wallet("gem-stash")
    assert (wallet.unit, wallet.decimal_places) == ("PTS", 0)
    expect(page.get_by_test_id("wallet-holder")).to_have_text("Your own wallet")
    check(axe, page)
    assert no_errors(console_errors) == []


@both_widths
def test_frozen_wallets_are_shown_with_the_reason_but_not_offered(
    page, live_server, people, login_as, axe, console_errors, size
):
    alice = people["alice"]
    travel = alice.get_wallet("travel", name="Travel fund", unit="USD")
    travel.deposit("60.00")
    wallet_service().freeze(
        travel,
        note="Card reported stolen (staff only)",
        message="Frozen while your card is replaced.",
    )
    page.set_viewport_size(SIZES[size])
    login_as(alice)

    for path, select_id in (
        ("/transfer/", "id_source"),
        ("/requests/", "id_topup-wallet"),
        ("/requests/", "id_payout-wallet"),
        ("/exchange/", "id_from_wallet"),
    ):
        page.goto(live_server.url + path)
        select = page.locator(f"[id='{select_id}']")
        expect(select.locator("option", has_text="Travel fund")).to_be_disabled()
        expect(select.locator("option:checked")).to_have_text(re.compile(r"^Your Main wallet"))
        expect(page.get_by_text("Frozen while your card is replaced.").first).to_be_visible()
        expect(page.get_by_text("staff only")).to_have_count(0)
        check(axe, page)

    # An exchange's receipt offers another exchange, not "Send another transfer".
    page.goto(f"{live_server.url}/exchange/")
    page.locator("#id_to_wallet").select_option(value=str(alice.get_wallet("eur").pk))
    page.get_by_label("Amount").fill("10.00")
    page.get_by_role("button", name="See the rate").click()
    expect(page.get_by_test_id("review-summary")).to_contain_text("arrives in your Euro savings")
    page.get_by_role("button", name="Confirm exchange").click()
    expect(page.get_by_role("heading", name="Exchange done")).to_be_visible()
    expect(page.get_by_role("link", name="Exchange again")).to_be_visible()
    expect(page.get_by_role("link", name="Send another transfer")).to_have_count(0)
    check(axe, page)
    assert no_errors(console_errors) == []
