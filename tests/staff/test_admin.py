"""The enhanced admin: read-only ledger, confirmed actions with reasons, per-action
permissions, the dashboard, the audit CSV and query counts on list pages."""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import Client

from tests.staff.conftest import make_user
from wallets import moderation
from wallets.admin import ACTION_CHECKBOX_NAME
from wallets.models import AuditEntry, Transaction, Transfer

pytestmark = pytest.mark.django_db

WALLETS_URL = "/admin/wallets/wallet/"
TX_URL = "/admin/wallets/transaction/"
TRANSFERS_URL = "/admin/wallets/transfer/"
AUDIT_URL = "/admin/wallets/auditentry/"


def run_action(client: Client, url: str, action: str, objects, **data):
    payload = {"action": action, ACTION_CHECKBOX_NAME: [str(o.pk) for o in objects], **data}
    return client.post(url, payload, follow=True)


def test_wallet_list_shows_holder_by_name_and_filters(moderator_client, holder, other):
    holder.freeze_wallet("default", reason="x")
    page = moderator_client.get(WALLETS_URL).content.decode()
    assert "Holly Tester &lt;holly@example.com&gt;" in page
    assert "100.00 USD" in page
    frozen = moderator_client.get(WALLETS_URL, {"is_frozen__exact": "1"}).content.decode()
    assert "holly@example.com" in frozen and "otto@example.com" not in frozen


@pytest.mark.parametrize("term", ["holly@example", "Holly", str(0)])
def test_wallet_search_by_holder_name_email_uuid_or_slug(moderator_client, holder, other, term):
    if term == "0":
        term = str(holder.wallet.uuid)
    page = moderator_client.get(WALLETS_URL, {"q": term}).content.decode()
    assert "holly@example.com" in page and "otto@example.com" not in page


def test_wallet_page_has_recent_transactions_read_only(moderator_client, holder):
    for n in range(12):
        holder.deposit(n + 1, meta={"reference": f"ref-{n}"})
    page = moderator_client.get(f"{WALLETS_URL}{holder.wallet.pk}/change/").content.decode()
    assert "Recent transactions (last 10)" in page
    newest = holder.wallet.transactions.order_by("-id")
    assert str(newest[0].uuid) in page and str(newest[9].uuid) in page
    assert str(newest[11].uuid) not in page
    assert 'name="transactions-0-amount"' not in page  # nothing editable


def test_ledger_is_read_only_even_for_superusers(rf, admin_user):
    request = rf.get("/")
    request.user = admin_user
    for model in (Transaction, Transfer, AuditEntry):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
        assert "delete_selected" not in model_admin.get_actions(request)


def test_freeze_action_shows_what_will_happen_and_needs_a_reason(moderator_client, holder):
    wallet = holder.wallet
    page = run_action(moderator_client, WALLETS_URL, "freeze_wallets", [wallet])
    text = page.content.decode()
    assert "every deposit, withdrawal, transfer and payment in or out will be refused" in text
    assert 'name="reason"' in text and "Nothing changes until you confirm" in text
    wallet.refresh_from_db()
    assert not wallet.is_frozen

    page = run_action(moderator_client, WALLETS_URL, "freeze_wallets", [wallet], confirm="yes")
    assert "This field is required" in page.content.decode()
    wallet.refresh_from_db()
    assert not wallet.is_frozen and not AuditEntry.objects.exists()

    page = run_action(
        moderator_client, WALLETS_URL, "freeze_wallets", [wallet], confirm="yes", reason="fraud"
    )
    assert "Freeze wallets: done for 1 of 1" in page.content.decode()
    wallet.refresh_from_db()
    assert wallet.is_frozen and wallet.frozen_reason == "fraud"
    entry = AuditEntry.objects.get()
    assert entry.action == "freeze" and entry.ip_address == "127.0.0.1"


def test_unfreeze_action(moderator_client, moderator, holder):
    moderation.freeze_wallet(holder.wallet, actor=moderator, reason="r")
    run_action(
        moderator_client,
        WALLETS_URL,
        "unfreeze_wallets",
        [holder.wallet],
        confirm="yes",
        reason="ok",
    )
    holder.wallet.refresh_from_db()
    assert not holder.wallet.is_frozen
    assert AuditEntry.objects.filter(action="unfreeze").count() == 1


def test_manual_credit_shows_balance_before_and_after(moderator_client, holder):
    wallet = holder.wallet
    page = run_action(
        moderator_client, WALLETS_URL, "credit_wallet", [wallet], confirm="yes", amount="12.5"
    )
    assert "balance 100.00 USD → 112.50 USD" in page.content.decode()  # reason missing
    run_action(
        moderator_client,
        WALLETS_URL,
        "credit_wallet",
        [wallet],
        confirm="yes",
        amount="12.5",
        reason="goodwill",
    )
    wallet.refresh_from_db()
    assert wallet.balance == Decimal("112.50")
    run_action(
        moderator_client,
        WALLETS_URL,
        "debit_wallet",
        [wallet],
        confirm="yes",
        amount="500",
        reason="fee",
    )
    wallet.refresh_from_db()
    assert wallet.balance == Decimal("112.50")  # refused: insufficient funds
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["credit"]


def test_confirm_and_reject_pending_from_the_admin(moderator_client, holder):
    top_up = holder.wallet.deposit("30.00", meta={"request": "top-up"}, confirmed=False)
    payout = holder.wallet.withdraw("10.00", meta={"request": "payout"}, confirmed=False)
    page = run_action(moderator_client, TX_URL, "confirm_pending", [top_up])
    assert "balance 100.00 USD → 130.00 USD" in page.content.decode()
    run_action(moderator_client, TX_URL, "confirm_pending", [top_up], confirm="yes", reason="ok")
    run_action(moderator_client, TX_URL, "reject_pending", [payout], confirm="yes", reason="no")
    holder.wallet.refresh_from_db()
    assert (holder.wallet.balance, holder.wallet.held) == (Decimal("130.00"), Decimal("0.00"))
    assert sorted(AuditEntry.objects.values_list("action", flat=True)) == ["confirm", "reject"]


def test_reverse_from_the_admin_refuses_the_second_time(moderator_client, holder):
    tx = holder.wallet.deposit("10.00")
    run_action(moderator_client, TX_URL, "reverse_transactions", [tx], confirm="yes", reason="dup")
    page = run_action(
        moderator_client, TX_URL, "reverse_transactions", [tx], confirm="yes", reason="dup"
    )
    assert "already been reversed" in page.content.decode()
    assert AuditEntry.objects.filter(action="reverse").count() == 1


def test_partial_refund_from_the_admin(moderator_client, holder, other):
    transfer = holder.transfer(other, "20.00")
    page = run_action(moderator_client, TRANSFERS_URL, "refund_transfers", [transfer])
    assert "all that is left, 20.00 USD" in page.content.decode()
    run_action(
        moderator_client,
        TRANSFERS_URL,
        "refund_transfers",
        [transfer],
        confirm="yes",
        amount="5",
        reason="partial",
    )
    transfer.refresh_from_db()
    assert transfer.refund_state == "partial" and transfer.refunded_amount == Decimal("5")
    page = run_action(
        moderator_client,
        TRANSFERS_URL,
        "refund_transfers",
        [transfer],
        confirm="yes",
        amount="50",
        reason="too much",
    )
    assert "Only 15" in page.content.decode()
    assert AuditEntry.objects.filter(action="refund_transfer").count() == 1


def test_transfer_page_links_legs_and_refunds(moderator_client, moderator, holder, other):
    transfer = holder.transfer(other, "20.00")
    moderation.refund_transfer(transfer, actor=moderator, reason="r", amount="5")
    refund = transfer.refunds.get()
    page = moderator_client.get(f"{TRANSFERS_URL}{transfer.pk}/change/").content.decode()
    assert f"/admin/wallets/transaction/{transfer.withdraw_id}/change/" in page
    assert f"/admin/wallets/transfer/{refund.pk}/change/" in page
    page = moderator_client.get(f"{TX_URL}{transfer.withdraw_id}/change/").content.decode()
    assert f"/admin/wallets/transfer/{transfer.pk}/change/" in page


def test_transactions_searchable_by_meta_reference(moderator_client, holder):
    holder.deposit(1, meta={"reference": "INV-778"})
    holder.deposit(2, meta={"reference": "other"})
    page = moderator_client.get(TX_URL, {"q": "inv-778"}).content.decode()
    assert "INV-778" in page and ">other<" not in page


def test_staff_without_the_permission_cannot_run_the_action(viewer_client, viewer, holder):
    page = viewer_client.get(WALLETS_URL).content.decode()
    assert "freeze_wallets" not in page
    run_action(
        viewer_client, WALLETS_URL, "freeze_wallets", [holder.wallet], confirm="yes", reason="r"
    )
    tx = holder.wallet.deposit("5", confirmed=False)
    run_action(viewer_client, TX_URL, "confirm_pending", [tx], confirm="yes", reason="r")
    holder.wallet.refresh_from_db()
    assert not holder.wallet.is_frozen and holder.wallet.balance == Decimal("100.00")
    assert not AuditEntry.objects.exists()


def test_only_the_permitted_actions_are_offered(holder):
    freezer = make_user("freezer", staff=True, perms=("view_wallet", "freeze_wallet"))
    client = Client()
    client.force_login(freezer)
    page = client.get(WALLETS_URL).content.decode()
    assert "freeze_wallets" in page and "credit_wallet" not in page


def test_non_staff_gets_no_admin_page(holder_client, holder):
    for url in (
        WALLETS_URL,
        TX_URL,
        AUDIT_URL,
        "/admin/wallets/wallet/dashboard/",
        f"{AUDIT_URL}export/",
    ):
        response = holder_client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


def test_dashboard_counts(moderator_client, moderator, holder, other):
    holder.wallet.deposit("5", confirmed=False)
    holder.transfer(other, "10")
    moderation.freeze_wallet(other.wallet, actor=moderator, reason="r")
    changelist = moderator_client.get(WALLETS_URL).content.decode()
    assert 'href="/admin/wallets/wallet/dashboard/"' in changelist
    page = moderator_client.get("/admin/wallets/wallet/dashboard/").content.decode()
    assert '<td id="pending-count">1</td>' in page
    assert '<td id="frozen-count">1</td>' in page
    assert "<td>120.00</td>" in page or "<td>120</td>" in page


def test_audit_log_is_read_only_and_exports_csv(moderator_client, moderator, holder):
    moderation.freeze_wallet(holder.wallet, actor=moderator, reason="=HYPERLINK(1)")
    entry = AuditEntry.objects.get()
    page = moderator_client.get(AUDIT_URL).content.decode()
    assert "Export as CSV" in page
    assert moderator_client.get(f"{AUDIT_URL}{entry.pk}/delete/").status_code == 403
    response = moderator_client.get(f"{AUDIT_URL}export/", {"action__exact": "freeze"})
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    header, row = body.splitlines()[:2]
    assert header.startswith("created_at,actor_label,action")
    assert "mod@example.com,freeze" in row and "'=HYPERLINK(1)" in row
    assert str(holder.wallet.uuid) in row


def test_audit_export_needs_its_permission(holder):
    reader = make_user("reader", staff=True, perms=("view_auditentry",))
    client = Client()
    client.force_login(reader)
    assert client.get(AUDIT_URL).status_code == 200
    assert client.get(f"{AUDIT_URL}export/").status_code == 403


def make_rows(start: int, count: int, moderator):
    for n in range(start, start + count):
        user = make_user(f"user{n}")
        user.deposit("10")
        transfer = user.transfer(moderator, "1")
        moderation.refund_transfer(transfer, actor=moderator, reason="r", amount="0.5")


@pytest.mark.parametrize("url", [WALLETS_URL, TX_URL, TRANSFERS_URL, AUDIT_URL])
def test_list_page_queries_do_not_grow_with_rows(
    url, moderator, moderator_client, django_assert_max_num_queries
):
    moderator.deposit("1")
    make_rows(0, 2, moderator)
    with django_assert_max_num_queries(14) as small:
        assert moderator_client.get(url).status_code == 200
    make_rows(2, 12, moderator)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert moderator_client.get(url).status_code == 200
