"""The staff console in the portal: search, history, the moderation queue (pending top-ups
and payouts, held transfers) with htmx decisions, freeze and unfreeze, and refunds of
transfers and orders. Every action goes through the engine with a StaffActor: one audit
entry (actor, action, target, reason, IP), its permission, and its idempotency key.
Who may reach the console at all: test_console_access.py."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from shop.models import Order
from tests.staff.conftest import HTMX, decision, form, fresh_key, make_user
from wallets.models import AuditEntry, TransferHold
from wallets.swappable import get_transaction_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()

pytestmark = pytest.mark.django_db


def assert_one_entry(actor, action: str, target, reason: str) -> AuditEntry:
    """The only audit entry: who, what, on what, why, from where, with the form's key."""
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.target, entry.reason) == (
        actor,
        action,
        target,
        reason,
    )
    assert entry.ip_address == "127.0.0.1"  # the test client's REMOTE_ADDR
    assert entry.idempotency_key
    return entry


def post_twice(client: Client, url: str, data: dict, **extra) -> list[int]:
    """The same form submitted twice (a double click, a retry); both status codes."""
    return [client.post(url, data, **extra).status_code for _ in range(2)]


def balance(wallet: Wallet) -> Decimal:
    return Wallet.objects.get(pk=wallet.pk).balance


def test_holder_search_and_pages(moderator_client, holder, other):
    page = moderator_client.get("/staff/", {"q": "holly@"}).content.decode()
    assert "Holly Tester" in page and "Otto" not in page
    fragment = moderator_client.get("/staff/", {"q": "otto"}, **HTMX).content.decode()
    assert 'id="results"' in fragment and "<html" not in fragment and "Otto Tester" in fragment
    holder.deposit("5", meta={"reference": "REF-9"})
    page = moderator_client.get(reverse("staff:holder", args=["user", holder.pk])).content.decode()
    assert "Main wallet" in page and "105.00" in page
    page = moderator_client.get(reverse("staff:wallet", args=[holder.wallet.uuid])).content
    assert b"REF-9" in page
    filtered = moderator_client.get(
        reverse("staff:wallet", args=[holder.wallet.uuid]), {"q": "nothing-like-it"}, **HTMX
    )
    assert b"REF-9" not in filtered.content and b'id="tx-table"' in filtered.content


def test_queue_lists_top_ups_payouts_and_held_transfers(moderator_client, holder, hold):
    top_up = holder.wallet.deposit(
        "30.00", meta={"request": "top-up", "reference": "T-1"}, confirmed=False
    )
    page = moderator_client.get("/staff/queue/").content.decode()
    assert "Top-up" in page and "T-1" in page and f'id="queue-{top_up.uuid}"' in page
    # The held transfer: both holders, the amount, the rule and its message.
    assert f'id="hold-{hold.uuid}"' in page
    assert "Holly Tester" in page and "Otto Tester" in page and "60.00 USD" in page
    assert "Big ones" in page and "A single transfer may be at most" in page
    assert reverse("staff:decide_hold", args=[hold.uuid, "release"]) in page
    # Its reservation is decided through the hold, not listed as a payout.
    assert f'id="queue-{hold.reservation.uuid}"' not in page
    home = moderator_client.get("/staff/").content.decode()
    assert "2 items waiting" in home


def test_queue_confirm_in_place_with_htmx(moderator_client, moderator, holder):
    tx = holder.wallet.deposit(
        "30.00", meta={"request": "top-up", "reference": "T-1"}, confirmed=False
    )
    url = reverse("staff:decide", args=[tx.uuid, "confirm"])
    response = moderator_client.post(url, decision(tx, reason=""), **HTMX)
    assert response.status_code == 422 and "Reason" in response.content.decode()
    tx.refresh_from_db()
    assert tx.state == "pending"
    response = moderator_client.post(url, decision(tx, reason="card paid"), **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "Confirmed" in body and "<html" not in body
    assert balance(holder.wallet) == Decimal("130.00")
    assert_one_entry(moderator, "confirm", tx, "card paid")
    # A decided transaction is refused with a new key, and nothing is written.
    response = moderator_client.post(url, decision(tx, reason="again"), **HTMX)
    assert response.status_code == 422 and "not pending" in response.content.decode()
    assert AuditEntry.objects.count() == 1


def test_queue_confirm_submitted_twice_confirms_once(moderator_client, holder):
    tx = holder.wallet.deposit("30.00", meta={"request": "top-up"}, confirmed=False)
    url = reverse("staff:decide", args=[tx.uuid, "confirm"])
    assert post_twice(moderator_client, url, decision(tx, reason="card paid"), **HTMX) == [200, 200]
    assert balance(holder.wallet) == Decimal("130.00")
    assert AuditEntry.objects.count() == 1


def test_queue_reject_without_javascript_twice_rejects_once(moderator_client, moderator, holder):
    tx = holder.wallet.withdraw("40.00", meta={"request": "payout"}, confirmed=False)
    url = reverse("staff:decide", args=[tx.uuid, "reject"])
    data = decision(tx, reason="wrong IBAN")
    response = moderator_client.post(url, data, follow=True)
    assert "Rejected: withdrawal of 40.00 USD" in response.content.decode()
    response = moderator_client.post(url, data, follow=True)
    assert "Rejected" in response.content.decode()
    holder.wallet.refresh_from_db()
    assert holder.wallet.held == Decimal("0.00") and holder.wallet.balance == Decimal("100.00")
    tx.refresh_from_db()
    assert tx.state == Transaction.State.REJECTED
    assert_one_entry(moderator, "reject", tx, "wrong IBAN")


def test_release_a_held_transfer_twice_moves_once(moderator_client, moderator, holder, other, hold):
    url = reverse("staff:decide_hold", args=[hold.uuid, "release"])
    data = decision(hold, reason="known customer")
    response = moderator_client.post(url, data, **HTMX)
    assert response.status_code == 200 and "Released" in response.content.decode()
    again = moderator_client.post(url, data, **HTMX)  # a double click replays the release
    assert again.status_code == 200 and "Released" in again.content.decode()
    hold.refresh_from_db()
    assert hold.state == TransferHold.State.RELEASED and hold.transfer is not None
    holder.wallet.refresh_from_db()
    assert holder.wallet.balance == Decimal("40.00") and holder.wallet.held == Decimal(0)
    assert balance(other.wallet) == Decimal("80.00")
    assert_one_entry(moderator, "release_hold", hold, "known customer")


def test_reject_a_held_transfer_then_it_is_decided(moderator_client, moderator, holder, hold):
    url = reverse("staff:decide_hold", args=[hold.uuid, "reject"])
    response = moderator_client.post(url, decision(hold, reason="mule pattern"), follow=True)
    assert "Rejected: held transfer of 60.00 USD" in response.content.decode()
    hold.refresh_from_db()
    holder.wallet.refresh_from_db()
    assert hold.state == TransferHold.State.REJECTED
    assert holder.wallet.held == Decimal(0) and holder.wallet.balance == Decimal("100.00")
    assert_one_entry(moderator, "reject_hold", hold, "mule pattern")
    # A decided hold cannot be released any more: refused, nothing written.
    release = reverse("staff:decide_hold", args=[hold.uuid, "release"])
    response = moderator_client.post(release, decision(hold), **HTMX)
    assert response.status_code == 422 and "already rejected" in response.content.decode()
    assert AuditEntry.objects.count() == 1


def test_a_held_transfers_reservation_is_decided_through_its_hold(moderator_client, hold):
    url = reverse("staff:decide", args=[hold.reservation.uuid, "confirm"])
    response = moderator_client.post(url, decision(hold.reservation), **HTMX)
    assert response.status_code == 422 and "release or reject" in response.content.decode()
    hold.refresh_from_db()
    assert hold.state == TransferHold.State.HELD and not AuditEntry.objects.exists()


def test_freeze_form_message_to_the_holder_and_staff_note(moderator_client, moderator, holder):
    url = reverse("staff:freeze", args=[holder.wallet.uuid])
    page = moderator_client.get(url).content.decode()
    assert "will be refused until it is unfrozen" in page
    assert "Message to the holder" in page and "Staff note / reason" in page
    assert 'type="hidden" name="idempotency_key"' in page
    key = fresh_key()
    data = {"message": "Please call us.", "reason": "", "idempotency_key": key}
    assert moderator_client.post(url, data).status_code == 422  # the note is required
    assert not Wallet.objects.get(pk=holder.wallet.pk).is_frozen
    data["reason"] = "chargeback from card issuer"
    assert post_twice(moderator_client, url, data) == [302, 302]
    wallet = Wallet.objects.get(pk=holder.wallet.pk)
    assert wallet.is_frozen and wallet.frozen_message == "Please call us."
    assert wallet.frozen_note == "chargeback from card issuer" and wallet.frozen_by == moderator
    assert_one_entry(moderator, "freeze", wallet, "chargeback from card issuer")
    page = moderator_client.get(reverse("staff:holder", args=["user", holder.pk])).content
    page = page.decode()
    assert "Message to the holder" in page and "Please call us." in page
    assert "Staff note" in page and "chargeback from card issuer" in page
    assert reverse("staff:unfreeze", args=[wallet.uuid]) in page
    # Freezing again (a new form) is refused and writes nothing.
    response = moderator_client.post(url, {**data, "idempotency_key": fresh_key()})
    assert response.status_code == 422 and "already frozen" in response.content.decode()
    assert AuditEntry.objects.count() == 1


def test_freeze_without_a_message_shows_the_holder_the_neutral_default(moderator_client, holder):
    url = reverse("staff:freeze", args=[holder.wallet.uuid])
    data = form("sanctions hit", message="")
    moderator_client.post(url, data)
    wallet = Wallet.objects.get(pk=holder.wallet.pk)
    assert wallet.frozen_message == "" and wallet.frozen_note == "sanctions hit"
    page = moderator_client.get(reverse("staff:holder", args=["user", holder.pk])).content
    assert Wallet.FROZEN_DEFAULT_MESSAGE in page.decode()


def test_unfreeze_asks_for_a_reason_and_refuses_a_wallet_not_frozen(
    moderator_client, moderator, holder
):
    holder.freeze_wallet(reason="chargeback", message="Call us")
    url = reverse("staff:unfreeze", args=[holder.wallet.uuid])
    page = moderator_client.get(url).content.decode()
    assert "Call us" in page and "chargeback" in page and 'name="reason"' in page
    data = form(" ")
    assert moderator_client.post(url, data).status_code == 422
    assert Wallet.objects.get(pk=holder.wallet.pk).is_frozen
    assert post_twice(moderator_client, url, {**data, "reason": "cleared"}) == [302, 302]
    wallet = Wallet.objects.get(pk=holder.wallet.pk)
    assert not wallet.is_frozen and wallet.frozen_note == ""
    assert_one_entry(moderator, "unfreeze", wallet, "cleared")
    response = moderator_client.post(url, form("again"))
    assert response.status_code == 422 and "not frozen" in response.content.decode()
    assert AuditEntry.objects.count() == 1


def test_refund_transfer_partial_twice_then_over_refund(moderator_client, moderator, holder, other):
    transfer = holder.transfer(other, "20.00")
    url = reverse("staff:refund_transfer", args=[transfer.uuid])
    assert "up to 20.00 USD is left" in moderator_client.get(url).content.decode()
    assert post_twice(moderator_client, url, form("dispute", amount="5")) == [302, 302]
    response = moderator_client.post(url, form("more", amount="50"))
    assert response.status_code == 422 and "Only 15.00 USD" in response.content.decode()
    assert balance(holder.wallet) == Decimal("85.00")
    assert balance(other.wallet) == Decimal("35.00")
    entry = assert_one_entry(moderator, "refund_transfer", transfer, "dispute")
    assert entry.amount == Decimal("5.00")


def test_refund_order_submitted_twice_refunds_once_with_one_entry(
    moderator_client, moderator, holder, order
):
    url = reverse("staff:refund_order", args=[order.number])
    assert "Refund everything not yet refunded" in moderator_client.get(url).content.decode()
    assert post_twice(moderator_client, url, form("damaged")) == [302, 302]
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert balance(holder.wallet) == Decimal("100.00")
    entry = assert_one_entry(moderator, "refund_order", order, "damaged")
    assert entry.before["status"] == "paid" and entry.after["status"] == "refunded"
    assert entry.amount == Decimal("20.00")
    response = moderator_client.post(url, form("again"))
    assert response.status_code == 422 and "already been refunded" in response.content.decode()
    assert AuditEntry.objects.count() == 1


def test_refund_order_by_staff_who_also_manage_the_merchant_is_audited(holder, order):
    """The console always acts as staff, even for the merchant's own managers."""
    from shop.models import Membership

    manager = make_user("merchant-mod", staff=True, perms=("refund_transfer",))
    merchant = order.lines.get().merchant
    Membership.objects.create(organization=merchant, user=manager, role=Membership.Role.OWNER)
    client = Client()
    client.force_login(manager)
    url = reverse("staff:refund_order", args=[order.number])
    assert client.post(url, form("goodwill")).status_code == 302
    assert AuditEntry.objects.get().actor == manager


def test_holder_page_answers_who_paid_whom(moderator_client, holder, other, order, hold):
    """Transfers name both holders; staff actions on the holder's transactions, transfers,
    held transfers, orders and wallets are listed, newest first."""
    tx = holder.wallet.deposit("5", confirmed=False)
    transfer = holder.transfer(other, "3")
    moderator_client.post(reverse("staff:decide", args=[tx.uuid, "confirm"]), decision(tx, "tx"))
    moderator_client.post(
        reverse("staff:refund_transfer", args=[transfer.uuid]),
        form("transfer", amount="1"),
    )
    moderator_client.post(
        reverse("staff:decide_hold", args=[hold.uuid, "reject"]), decision(hold, "hold")
    )
    moderator_client.post(
        reverse("staff:refund_order", args=[order.number]),
        form("order"),
    )
    moderator_client.post(
        reverse("staff:freeze", args=[holder.wallet.uuid]),
        form("wallet"),
    )
    # An action on someone else's money stays off this page.
    other_tx = other.wallet.deposit("1", confirmed=False)
    moderator_client.post(
        reverse("staff:decide", args=[other_tx.uuid, "confirm"]), decision(other_tx, "otto's")
    )
    assert AuditEntry.objects.count() == 6
    page = moderator_client.get(reverse("staff:holder", args=["user", holder.pk])).content
    page = page.decode()
    audit = page[page.index('id="audit-heading"') :]
    positions = [
        audit.index(f"“{reason}”") for reason in ("wallet", "order", "hold", "transfer", "tx")
    ]
    assert positions == sorted(positions)  # newest first
    assert "“otto's”" not in audit
    transfers = page[page.index('id="transfers-heading"') : page.index('id="audit-heading"')]
    assert "Holly Tester" in transfers and "Otto Tester" in transfers


def test_webhook_panel_on_the_admin_dashboard(moderator_client):
    page = moderator_client.get("/admin/wallets/wallet/dashboard/").content.decode()
    assert "Failed webhook deliveries" in page


def test_holder_page_writes_amounts_by_the_one_rule(moderator_client, holder, order):
    """Order totals and audit amounts at their unit's places, never "20 USD"."""
    moderator_client.post(reverse("staff:refund_order", args=[order.number]), form("order"))
    page = moderator_client.get(reverse("staff:holder", args=["user", holder.pk])).content
    page = page.decode()
    orders = page[page.index('id="orders-heading"') :]
    audit = page[page.index('id="audit-heading"') : page.index('id="orders-heading"')]
    assert "20.00 USD" in orders and f'<span class="ref">{order.number}</span>' in orders
    assert "20.00 USD" in audit and "“order”" in audit
    assert "<code" not in page
