"""Staff journeys in a browser: freezing a wallet, and confirming a top-up from the queue."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from portal.models import User
from tests.e2e.conftest import assert_no_serious_a11y_violations
from tests.staff.conftest import ALL_STAFF_PERMISSIONS, make_user
from wallets.models import AuditEntry

pytestmark = pytest.mark.e2e


@pytest.fixture
def logged_in_page(browser, live_server) -> Iterator[Callable[[User], Page]]:
    """A separate browser context per user; all are closed before the live server stops."""
    contexts = []

    def open_page(user: User) -> Page:
        client = Client()
        client.force_login(user)
        context = browser.new_context()
        contexts.append(context)
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def staff_member(transactional_db) -> User:
    return make_user("moderator", staff=True, perms=ALL_STAFF_PERMISSIONS)


def test_staff_freezes_a_wallet_and_the_holder_cannot_transfer(
    live_server, people, staff_member, axe, logged_in_page
):
    alice = people["alice"]
    staff = logged_in_page(staff_member)
    staff.goto(f"{live_server.url}/")
    staff.get_by_role("link", name="Staff").click()
    staff.get_by_label("Name, username or email").fill("alice@")
    staff.get_by_role("button", name="Search").click()
    staff.get_by_role("link", name="Alice Archer").click()
    assert_no_serious_a11y_violations(axe, staff)
    staff.get_by_role("link", name="Freeze Main wallet").click()
    expect(staff.locator("#what-happens")).to_contain_text("will be refused until it is unfrozen")
    assert_no_serious_a11y_violations(axe, staff)
    staff.get_by_label("Reason").fill("Chargeback under review")
    staff.get_by_role("button", name="Freeze wallet").click()
    expect(staff.get_by_role("status").filter(has_text="is frozen")).to_be_visible()
    expect(staff.get_by_text("Chargeback under review", exact=True)).to_be_visible()

    holder = logged_in_page(alice)
    holder.goto(f"{live_server.url}/wallets/{alice.wallet.uuid}/")
    expect(holder.get_by_text("Frozen", exact=True)).to_be_visible()
    holder.goto(f"{live_server.url}/transfer/")
    holder.get_by_label("Recipient's email or username").fill("bob@example.com")
    holder.get_by_label("Amount").fill("5.00")
    holder.get_by_role("button", name="Review transfer").click()
    expect(holder.get_by_role("alert")).to_contain_text("frozen")

    alice.wallet.refresh_from_db()
    assert alice.wallet.is_frozen and alice.wallet.balance == Decimal("237.50")
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.reason) == ("freeze", "Chargeback under review")


def test_staff_confirms_a_top_up_from_the_queue_and_the_balance_changes(
    live_server, people, staff_member, axe, logged_in_page
):
    alice = people["alice"]
    alice.wallet.deposit(
        "75.00",
        confirmed=False,
        meta={"request": "top-up", "reference": "Bank transfer 991"},
    )
    staff = logged_in_page(staff_member)
    staff.goto(f"{live_server.url}/staff/queue/")
    row = staff.locator("li", has_text="Bank transfer 991")
    expect(row).to_contain_text("Top-up")
    assert_no_serious_a11y_violations(axe, staff)
    row.get_by_label("Reason").fill("Payment received")
    row.get_by_role("button", name="Confirm").click()
    expect(staff.locator("li", has_text="Bank transfer 991").get_by_role("status")).to_have_text(
        "Confirmed"
    )
    assert staff.url.endswith("/staff/queue/")  # swapped in place, no page load

    holder = logged_in_page(alice)
    holder.goto(f"{live_server.url}/wallets/{alice.wallet.uuid}/")
    expect(holder.get_by_role("definition").filter(has_text="312.50 USD").first).to_be_visible()
    alice.wallet.refresh_from_db()
    assert alice.wallet.balance == Decimal("312.50")
    assert AuditEntry.objects.get().action == "confirm"
