"""Staff actions on the ledger from the admin: pending transactions, reversals,
refunds and held transfers, and the permission each needs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from tests.wallets.admin_pages.support import (
    AUDIT_URL,
    DASHBOARD_URL,
    HOLDS_URL,
    TRANSFERS_URL,
    TX_URL,
    WALLETS_URL,
    Transfer,
    Wallet,
    action_page,
    confirm_action,
    fresh,
    held_transfer,
    page_key,
    text,
    the_entry,
)
from tests.wallets.conftest import make_user
from wallets.models import AuditEntry
from wallets.reconciliation import reconcile_wallets
from wallets.services import transfer_service
from wallets.staff import StaffActor

pytestmark = pytest.mark.django_db


# Pending transactions


def test_confirm_pending_top_up(admin_staff_client, admin_staff, holder):
    top_up = holder.wallet.deposit("30.00", meta={"request": "top-up"}, confirmed=False)
    page = text(action_page(admin_staff_client, TX_URL, "confirm_pending", [top_up]))
    assert "balance 100.00 USD → 130.00 USD" in page
    confirm_action(admin_staff_client, TX_URL, "confirm_pending", [top_up], reason="paid in")
    assert fresh(holder.wallet).balance == Decimal("130.00")
    top_up.refresh_from_db()
    assert top_up.state == "confirmed"
    the_entry("confirm", top_up, actor=admin_staff, reason="paid in", amount=Decimal("30"))


def test_confirm_pending_sent_twice_moves_money_once(admin_staff_client, holder):
    top_up = holder.wallet.deposit("30.00", confirmed=False)
    key = page_key(action_page(admin_staff_client, TX_URL, "confirm_pending", [top_up]))
    for _ in range(2):
        response = confirm_action(
            admin_staff_client, TX_URL, "confirm_pending", [top_up], key=key, reason="paid in"
        )
        # The second is a replay of the first, not a refusal of a row no longer pending.
        assert "Confirm pending transactions: done for 1 of 1" in text(response)
        assert "not pending" not in text(response)
    assert fresh(holder.wallet).balance == Decimal("130.00")
    assert AuditEntry.objects.count() == 1


def test_confirm_refuses_a_transaction_that_is_not_pending(admin_staff_client, holder):
    done = holder.wallet.deposit("5.00")
    page = text(action_page(admin_staff_client, TX_URL, "confirm_pending", [done]))
    assert "Confirmed, not pending: will be refused." in page
    response = confirm_action(admin_staff_client, TX_URL, "confirm_pending", [done], reason="r")
    assert "not pending" in text(response)
    assert fresh(holder.wallet).balance == Decimal("105.00")
    assert not AuditEntry.objects.exists()


def test_reject_pending_payout_releases_its_hold(admin_staff_client, admin_staff, holder):
    payout = holder.wallet.withdraw("10.00", meta={"request": "payout"}, confirmed=False)
    assert fresh(holder.wallet).held == Decimal("10.00")
    confirm_action(admin_staff_client, TX_URL, "reject_pending", [payout], reason="no docs")
    wallet = fresh(holder.wallet)
    assert (wallet.balance, wallet.held) == (Decimal("100.00"), Decimal("0.00"))
    the_entry("reject", payout, actor=admin_staff, reason="no docs", amount=Decimal("-10"))


def test_a_reservation_of_a_held_transfer_is_decided_under_transfer_holds(
    admin_staff_client, holder, other
):
    hold = held_transfer(holder, other)
    reservation = hold.reservation
    page = text(action_page(admin_staff_client, TX_URL, "confirm_pending", [reservation]))
    assert "decide it under Transfer holds" in page
    response = confirm_action(
        admin_staff_client, TX_URL, "confirm_pending", [reservation], reason="ok"
    )
    assert "release or reject the held transfer" in text(response)
    assert fresh(other.wallet).balance == Decimal("20.00")
    assert fresh(holder.wallet).held == Decimal("60.00")
    assert not AuditEntry.objects.exists()


def test_rejecting_a_reservation_rejects_its_held_transfer(
    admin_staff_client, admin_staff, holder, other
):
    hold = held_transfer(holder, other)
    page = text(action_page(admin_staff_client, TX_URL, "reject_pending", [hold.reservation]))
    assert "with the transfer it reserves (held by rule &#x27;Big&#x27;)" in page
    confirm_action(admin_staff_client, TX_URL, "reject_pending", [hold.reservation], reason="fraud")
    hold.refresh_from_db()
    assert hold.state == "rejected"
    wallet = fresh(holder.wallet)
    assert (wallet.balance, wallet.held) == (Decimal("100.00"), Decimal("0.00"))
    the_entry("reject", hold.reservation, actor=admin_staff, reason="fraud", amount=Decimal(-60))


# Reversal


def test_reverse_once_then_refused(admin_staff_client, admin_staff, holder):
    tx = holder.wallet.deposit("10.00")
    confirm_action(admin_staff_client, TX_URL, "reverse_transactions", [tx], reason="duplicate")
    assert fresh(holder.wallet).balance == Decimal("100.00")
    the_entry("reverse", tx, actor=admin_staff, reason="duplicate", amount=Decimal("-10"))
    response = confirm_action(
        admin_staff_client, TX_URL, "reverse_transactions", [tx], reason="again"
    )
    assert "already been reversed" in text(response)
    assert AuditEntry.objects.count() == 1


def test_reverse_past_the_available_funds_needs_force(admin_staff_client, holder, other):
    tx = holder.wallet.deposit("10.00")
    holder.transfer(other, "105.00")
    response = confirm_action(
        admin_staff_client, TX_URL, "reverse_transactions", [tx], reason="bounced"
    )
    assert "Insufficient funds" in text(response)
    assert not AuditEntry.objects.exists()
    confirm_action(
        admin_staff_client, TX_URL, "reverse_transactions", [tx], force="on", reason="bounced"
    )
    assert fresh(holder.wallet).balance == Decimal("-5.00")
    assert reconcile_wallets() == []


# Refunds


def test_partial_refund_then_over_refund_refused(admin_staff_client, admin_staff, holder, other):
    transfer = holder.transfer(other, "20.00")
    page = text(action_page(admin_staff_client, TRANSFERS_URL, "refund_transfers", [transfer]))
    assert "all that is left, 20.00 USD" in page
    confirm_action(
        admin_staff_client,
        TRANSFERS_URL,
        "refund_transfers",
        [transfer],
        amount="5",
        reason="partial",
    )
    transfer.refresh_from_db()
    assert transfer.refund_state == "partial" and transfer.refunded_amount == Decimal("5")
    assert fresh(holder.wallet).balance == Decimal("85.00")
    the_entry("refund_transfer", transfer, actor=admin_staff, reason="partial", amount=Decimal(5))
    response = confirm_action(
        admin_staff_client,
        TRANSFERS_URL,
        "refund_transfers",
        [transfer],
        amount="50",
        reason="too much",
    )
    assert "Only 15.00 USD of this transfer is left to refund" in text(response)
    assert AuditEntry.objects.count() == 1


def test_a_fully_refunded_transfer_is_refused(admin_staff_client, admin_staff, holder, other):
    transfer = holder.transfer(other, "20.00")
    transfer_service().refund(transfer, actor=StaffActor(admin_staff, "earlier"))
    page = text(action_page(admin_staff_client, TRANSFERS_URL, "refund_transfers", [transfer]))
    assert "Already refunded in full: will be refused." in page
    response = confirm_action(
        admin_staff_client, TRANSFERS_URL, "refund_transfers", [transfer], reason="again"
    )
    assert "already been refunded in full" in text(response)
    assert fresh(holder.wallet).balance == Decimal("100.00")
    assert AuditEntry.objects.count() == 1


def test_refund_sent_twice_moves_money_once(admin_staff_client, holder, other):
    transfer = holder.transfer(other, "20.00")
    key = page_key(action_page(admin_staff_client, TRANSFERS_URL, "refund_transfers", [transfer]))
    for _ in range(2):
        confirm_action(
            admin_staff_client,
            TRANSFERS_URL,
            "refund_transfers",
            [transfer],
            key=key,
            amount="5",
            reason="dispute",
        )
    assert fresh(holder.wallet).balance == Decimal("85.00")
    assert Transfer.objects.filter(kind="refund").count() == 1
    assert AuditEntry.objects.count() == 1


def test_several_transfers_refund_in_full_but_not_by_a_partial_amount(
    admin_staff_client, holder, other
):
    first, second = holder.transfer(other, "3.00"), holder.transfer(other, "4.00")
    response = confirm_action(
        admin_staff_client,
        TRANSFERS_URL,
        "refund_transfers",
        [first, second],
        amount="1",
        reason="r",
    )
    assert "A partial amount refunds one transfer at a time" in text(response)
    assert not AuditEntry.objects.exists()
    response = confirm_action(
        admin_staff_client, TRANSFERS_URL, "refund_transfers", [first, second], reason="r"
    )
    assert "Refund transfers: done for 2 of 2" in text(response)
    assert fresh(holder.wallet).balance == Decimal("100.00")
    assert AuditEntry.objects.filter(action="refund_transfer").count() == 2


def test_refund_past_the_recipients_funds_needs_force(admin_staff_client, holder, other):
    transfer = holder.transfer(other, "20.00")
    other.wallet.withdraw("35.00")
    response = confirm_action(
        admin_staff_client, TRANSFERS_URL, "refund_transfers", [transfer], reason="r"
    )
    assert "Insufficient funds" in text(response)
    confirm_action(
        admin_staff_client, TRANSFERS_URL, "refund_transfers", [transfer], force="on", reason="r"
    )
    assert fresh(other.wallet).balance == Decimal("-15.00")
    assert fresh(holder.wallet).balance == Decimal("100.00")
    assert AuditEntry.objects.count() == 1


# Transfers held for review


def test_hold_list_shows_holders_amount_rule_and_state(admin_staff_client, holder, other):
    held_transfer(holder, other)
    page = text(admin_staff_client.get(HOLDS_URL))
    assert f"{holder} &lt;holly@example.com&gt;" in page
    assert f"{other} &lt;otto@example.com&gt;" in page
    assert "60.00 USD" in page and "Big" in page and "Held for review" in page


def test_release_a_held_transfer(admin_staff_client, admin_staff, holder, other):
    hold = held_transfer(holder, other)
    page = text(action_page(admin_staff_client, HOLDS_URL, "release_holds", [hold]))
    assert f"Send 60.00 USD from &#x27;Main wallet&#x27; of {holder}" in page
    confirm_action(admin_staff_client, HOLDS_URL, "release_holds", [hold], reason="verified")
    hold.refresh_from_db()
    assert hold.state == "released" and hold.decided_by == admin_staff
    assert fresh(holder.wallet).balance == Decimal("40.00")
    assert fresh(holder.wallet).held == Decimal("0.00")
    assert fresh(other.wallet).balance == Decimal("80.00")
    the_entry("release_hold", hold, actor=admin_staff, reason="verified", amount=Decimal(60))
    assert reconcile_wallets() == []


def test_reject_a_held_transfer(admin_staff_client, admin_staff, holder, other):
    hold = held_transfer(holder, other)
    confirm_action(admin_staff_client, HOLDS_URL, "reject_holds", [hold], reason="suspicious")
    hold.refresh_from_db()
    assert hold.state == "rejected" and hold.decision_note == "suspicious"
    wallet = fresh(holder.wallet)
    assert (wallet.balance, wallet.held) == (Decimal("100.00"), Decimal("0.00"))
    assert fresh(other.wallet).balance == Decimal("20.00")
    the_entry("reject_hold", hold, actor=admin_staff, reason="suspicious", amount=Decimal(60))


def test_staff_who_decide_holds_see_them_without_the_view_permission(holder, other):
    decider = make_user("decider", staff=True, perms=("confirm_transaction",))
    client = Client()
    client.force_login(decider)
    hold = held_transfer(holder, other)
    page = text(client.get(HOLDS_URL))
    assert str(hold.uuid) in page and 'value="release_holds"' in page
    confirm_action(client, HOLDS_URL, "release_holds", [hold], reason="verified")
    assert fresh(other.wallet).balance == Decimal("80.00")


@pytest.mark.parametrize("action", ["release_holds", "reject_holds"])
def test_a_decided_hold_is_refused(admin_staff_client, holder, other, action):
    hold = held_transfer(holder, other)
    transfer_service().reject_hold(hold, "earlier")
    page = text(action_page(admin_staff_client, HOLDS_URL, action, [hold]))
    assert "Already rejected: will be refused." in page
    response = confirm_action(admin_staff_client, HOLDS_URL, action, [hold], reason="r")
    assert "already rejected" in text(response)
    assert fresh(other.wallet).balance == Decimal("20.00")
    assert not AuditEntry.objects.exists()


def test_release_sent_twice_moves_money_once(admin_staff_client, holder, other):
    hold = held_transfer(holder, other)
    key = page_key(action_page(admin_staff_client, HOLDS_URL, "release_holds", [hold]))
    for _ in range(2):
        response = confirm_action(
            admin_staff_client, HOLDS_URL, "release_holds", [hold], key=key, reason="ok"
        )
        assert "Release held transfers: done for 1 of 1" in text(response)
    assert fresh(other.wallet).balance == Decimal("80.00")
    assert AuditEntry.objects.count() == 1


# Permissions: an action staff may not run is neither offered nor run.


def wallet_of(holder, other):
    return [holder.wallet]


def pending_of(holder, other):
    return [holder.wallet.deposit("5", confirmed=False)]


def confirmed_of(holder, other):
    return [holder.wallet.deposit("5")]


def transfer_of(holder, other):
    return [holder.transfer(other, "5")]


def hold_of(holder, other):
    return [held_transfer(holder, other)]


ACTIONS = [
    (WALLETS_URL, "freeze_wallets", wallet_of, {}),
    (WALLETS_URL, "unfreeze_wallets", wallet_of, {}),
    (WALLETS_URL, "credit_wallet", wallet_of, {"amount": "5"}),
    (WALLETS_URL, "debit_wallet", wallet_of, {"amount": "5"}),
    (TX_URL, "confirm_pending", pending_of, {}),
    (TX_URL, "reject_pending", pending_of, {}),
    (TX_URL, "reverse_transactions", confirmed_of, {}),
    (TRANSFERS_URL, "refund_transfers", transfer_of, {}),
    (HOLDS_URL, "release_holds", hold_of, {}),
    (HOLDS_URL, "reject_holds", hold_of, {}),
]


@pytest.mark.parametrize(("url", "action", "rows", "data"), ACTIONS)
def test_staff_without_the_permission_neither_see_nor_run_the_action(
    holder, other, url, action, rows, data
):
    viewer = make_user(
        "looker",
        staff=True,
        perms=("view_wallet", "view_transaction", "view_transfer", "view_transferhold"),
    )
    client = Client()
    client.force_login(viewer)
    objects = rows(holder, other)
    if action == "unfreeze_wallets":
        holder.freeze_wallet("default", reason="x")
    before = {w.pk: (w.balance, w.held, w.is_frozen) for w in Wallet.objects.all()}
    assert f'value="{action}"' not in text(client.get(url))
    response = confirm_action(client, url, action, objects, key="k" * 32, reason="r", **data)
    assert response.status_code == 200 and "done for" not in text(response)
    after = {w.pk: (w.balance, w.held, w.is_frozen) for w in Wallet.objects.all()}
    assert after == before
    assert not AuditEntry.objects.exists()


def test_only_the_permitted_actions_are_offered(holder):
    freezer = make_user("freezer", staff=True, perms=("view_wallet", "freeze_wallet"))
    client = Client()
    client.force_login(freezer)
    page = text(client.get(WALLETS_URL))
    assert 'value="freeze_wallets"' in page and 'value="credit_wallet"' not in page


def test_non_staff_gets_no_admin_page(holder_client, holder):
    for url in (WALLETS_URL, TX_URL, HOLDS_URL, AUDIT_URL, DASHBOARD_URL, f"{AUDIT_URL}export/"):
        response = holder_client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
