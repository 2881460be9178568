"""Staff journeys in a browser: freezing a wallet (a message for the holder, a note for staff),
confirming a top-up from the queue, and releasing a transfer held for review."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from portal.models import User
from tests.e2e.conftest import assert_no_serious_a11y_violations, screenshots_at_both_widths
from tests.staff.conftest import ALL_STAFF_PERMISSIONS, make_user
from wallets.models import AuditEntry, RiskRule, TransferHold

pytestmark = pytest.mark.e2e



@pytest.fixture
def staff_member(transactional_db) -> User:
    return make_user("moderator", staff=True, perms=ALL_STAFF_PERMISSIONS)


def test_staff_freezes_a_wallet_and_the_holder_cannot_transfer(
    live_server, people, staff_member, axe, logged_in_page
):
    alice = people["alice"]
    staff = logged_in_page(staff_member)
    staff.set_viewport_size({"width": 1280, "height": 900})
    staff.goto(f"{live_server.url}/")
    staff.get_by_role("link", name="Staff").click()
    staff.get_by_label("Name, username or email").fill("alice@")
    staff.get_by_role("button", name="Search").click()
    staff.get_by_role("link", name="Alice Archer").click()
    assert_no_serious_a11y_violations(axe, staff)
    staff.get_by_role("link", name="Freeze Main wallet").click()
    expect(staff.locator("#what-happens")).to_contain_text("will be refused until it is unfrozen")
    assert_no_serious_a11y_violations(axe, staff)
    staff.get_by_label("Message to the holder").fill("Please contact support about a card payment.")
    staff.get_by_label("Staff note / reason").fill("Chargeback under review")
    screenshots_at_both_widths(staff, "staff-freeze-form")
    staff.get_by_role("button", name="Freeze wallet").click()
    expect(staff.get_by_role("status").filter(has_text="is frozen")).to_be_visible()
    expect(staff.get_by_test_id("frozen-message")).to_have_text(
        "Please contact support about a card payment."
    )
    expect(staff.get_by_test_id("frozen-note")).to_have_text("Chargeback under review")
    expect(staff.get_by_text("Chargeback under review", exact=True).last).to_be_visible()
    expect(staff.get_by_role("link", name="Unfreeze Main wallet")).to_be_visible()
    assert_no_serious_a11y_violations(axe, staff)
    screenshots_at_both_widths(staff, "staff-holder")

    holder = logged_in_page(alice)
    holder.goto(f"{live_server.url}/wallets/{alice.wallet.uuid}/")
    expect(holder.get_by_text("Frozen", exact=True)).to_be_visible()
    expect(holder.get_by_test_id("frozen-message")).to_contain_text("about a card payment")
    expect(holder.get_by_text("Chargeback under review")).to_have_count(0)
    screenshots_at_both_widths(holder, "holder-frozen-wallet")
    # The frozen wallet is not offered as a source: shown disabled, with the holder's reason.
    holder.goto(f"{live_server.url}/transfer/")
    source = holder.get_by_label("From wallet")
    expect(source.locator("option", has_text="Main wallet")).to_be_disabled()
    expect(holder.get_by_text("about a card payment")).to_be_visible()
    expect(holder.get_by_text("Chargeback under review")).to_have_count(0)

    alice.wallet.refresh_from_db()
    assert alice.wallet.is_frozen and alice.wallet.balance == Decimal("237.50")
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.reason, entry.actor) == (
        "freeze",
        "Chargeback under review",
        staff_member,
    )


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


def test_staff_releases_a_held_transfer_from_the_queue(
    live_server, people, staff_member, axe, logged_in_page
):
    alice, bob = people["alice"], people["bob"]
    RiskRule.objects.create(
        name="Large transfers", max_single=Decimal("50"), on_breach=RiskRule.OnBreach.HOLD
    )
    hold = alice.transfer(bob, "60.00", meta={"note": "Deposit for the flat"})
    assert isinstance(hold, TransferHold)
    staff = logged_in_page(staff_member)
    staff.set_viewport_size({"width": 1280, "height": 900})
    staff.goto(f"{live_server.url}/staff/queue/")
    row = staff.locator(f"#hold-{hold.uuid}")
    expect(row).to_contain_text("Transfer held for review")
    expect(row).to_contain_text("Alice Archer")
    expect(row).to_contain_text("Bob Baker")
    expect(row).to_contain_text("60.00 USD")
    expect(row).to_contain_text("Large transfers")
    expect(row).to_contain_text("A single transfer may be at most")
    assert_no_serious_a11y_violations(axe, staff)
    screenshots_at_both_widths(staff, "staff-queue-hold")
    row.get_by_label("Reason").fill("Known landlord")
    row.get_by_role("button", name="Release").click()
    expect(staff.locator(f"#hold-{hold.uuid}").get_by_role("status")).to_have_text("Released")
    assert staff.url.endswith("/staff/queue/")  # swapped in place, no page load

    bob.wallet.refresh_from_db()
    alice.wallet.refresh_from_db()
    assert bob.wallet.balance == Decimal("152.50")
    assert alice.wallet.balance == Decimal("177.50") and alice.wallet.held == Decimal("20.00")
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.reason, entry.target) == ("release_hold", "Known landlord", hold)
