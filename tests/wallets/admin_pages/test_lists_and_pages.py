"""The engine's admin pages: read-only ledger lists and pages, filters and search,
the dashboard and the audit log, and list queries that do not grow with the ledger."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.test.client import RequestFactory

from tests.testapp.models import Club, Org
from tests.wallets.admin_pages.support import (
    AUDIT_URL,
    DASHBOARD_URL,
    HOLDS_URL,
    TRANSFERS_URL,
    TX_URL,
    WALLETS_URL,
    Transaction,
    Transfer,
    Wallet,
    held_transfer,
    hold_rule,
    text,
)
from tests.wallets.conftest import make_user
from wallets.models import AuditEntry, TransferHold
from wallets.services import transfer_service, wallet_service
from wallets.staff import StaffActor

pytestmark = pytest.mark.django_db


# Lists, pages and filters


def test_wallet_list_shows_holder_by_name_and_amounts_at_the_wallets_places(
    admin_staff_client, holder, other
):
    gold = holder.get_wallet("gold", name="Gold", unit="XAU", decimal_places=3)
    gold.deposit("1.5")
    holder.freeze_wallet("default", reason="x")
    page = text(admin_staff_client.get(WALLETS_URL))
    assert f"{holder} &lt;holly@example.com&gt;" in page
    assert "100.00 USD" in page and "1.500 XAU" in page
    frozen = text(admin_staff_client.get(WALLETS_URL, {"is_frozen__exact": "1"}))
    assert "holly@example.com" in frozen and "otto@example.com" not in frozen


def test_ledger_lists_show_amounts_at_the_wallets_places_with_the_unit(
    admin_staff_client, holder, other
):
    gold = holder.get_wallet("gold", name="Gold", unit="XAU", decimal_places=3)
    gold.deposit("1.5")
    holder.transfer(other, "20")
    page = text(admin_staff_client.get(TX_URL))
    assert "1.500 XAU" in page  # amount and balance after
    assert "-20.00 USD" in page and "80.00 USD" in page
    page = text(admin_staff_client.get(TRANSFERS_URL))
    assert "20.00 USD" in page


def test_holder_type_filter_lists_only_holder_types_with_wallets(admin_staff_client, holder):
    club = Club.objects.create(name="Chess")
    club.deposit(3)
    Org.objects.create(name="No wallet yet")  # a holder model without any wallet
    page = text(admin_staff_client.get(WALLETS_URL))
    user_type = ContentType.objects.get_for_model(holder)
    club_type = ContentType.objects.get_for_model(Club)
    org_type = ContentType.objects.get_for_model(Org)
    assert f"?holder_type={user_type.pk}" in page
    assert f"?holder_type={club_type.pk}" in page
    assert f"?holder_type={org_type.pk}" not in page
    clubs = text(admin_staff_client.get(WALLETS_URL, {"holder_type": str(club_type.pk)}))
    assert "Chess" in clubs and "holly@example.com" not in clubs


@pytest.mark.parametrize("term", ["holly@example", "Holly", "uuid"])
def test_wallet_search_by_holder_name_email_or_uuid(admin_staff_client, holder, other, term):
    if term == "uuid":
        term = str(holder.wallet.uuid)
    page = text(admin_staff_client.get(WALLETS_URL, {"q": term}))
    assert "holly@example.com" in page and "otto@example.com" not in page


def test_wallet_page_shows_recent_transactions_and_frozen_state_read_only(
    admin_staff_client, admin_staff, holder
):
    for n in range(12):
        holder.deposit(n + 1, meta={"reference": f"ref-{n}"})
    wallet_service().freeze(
        holder.wallet,
        message="Call support",
        actor=StaffActor(admin_staff, "chargeback"),
    )
    page = text(admin_staff_client.get(f"{WALLETS_URL}{holder.wallet.pk}/change/"))
    assert "Recent transactions (last 10)" in page
    newest = holder.wallet.transactions.order_by("-id")
    assert str(newest[0].uuid) in page and str(newest[9].uuid) in page
    assert str(newest[11].uuid) not in page
    assert "Call support" in page and "chargeback" in page
    assert 'name="name"' in page and 'name="reason"' in page
    for field in ("balance", "held", "is_frozen", "frozen_message", "frozen_note", "slug"):
        assert f'name="{field}"' not in page, field
    assert f"{WALLETS_URL}add/" not in page
    assert f"{WALLETS_URL}{holder.wallet.pk}/delete/" not in page


def test_wallets_cannot_be_added_or_deleted_even_by_superusers(admin_user):
    request = RequestFactory().get("/")
    request.user = admin_user
    model_admin = admin.site._registry[Wallet]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert "delete_selected" not in model_admin.get_actions(request)


def test_ledger_is_read_only_even_for_superusers(admin_user):
    request = RequestFactory().get("/")
    request.user = admin_user
    for model in (Transaction, Transfer, TransferHold, AuditEntry):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
        assert "delete_selected" not in model_admin.get_actions(request)


def test_transfer_page_links_legs_and_refunds(admin_staff_client, admin_staff, holder, other):
    transfer = holder.transfer(other, "20.00")
    refund = transfer_service().refund(transfer, "5", actor=StaffActor(admin_staff, "r"))
    page = text(admin_staff_client.get(f"{TRANSFERS_URL}{transfer.pk}/change/"))
    assert f"{TX_URL}{transfer.withdraw_id}/change/" in page
    assert f"{TRANSFERS_URL}{refund.pk}/change/" in page
    page = text(admin_staff_client.get(f"{TX_URL}{transfer.withdraw_id}/change/"))
    assert f"{TRANSFERS_URL}{transfer.pk}/change/" in page


def test_transactions_searchable_by_meta_reference(admin_staff_client, holder):
    holder.deposit(1, meta={"reference": "INV-778"})
    holder.deposit(2, meta={"reference": "other"})
    page = text(admin_staff_client.get(TX_URL, {"q": "inv-778"}))
    assert "INV-778" in page and ">other<" not in page


# The dashboard and the audit log


def test_dashboard_counts(admin_staff_client, holder, other):
    top_up = holder.wallet.deposit("5", confirmed=False)  # a top-up to review
    hold = held_transfer(holder, other)  # its reservation is not counted as pending
    holder.transfer(other, "10")
    other.freeze_wallet("default", reason="r")
    changelist = text(admin_staff_client.get(WALLETS_URL))
    assert f'href="{DASHBOARD_URL}"' in changelist
    page = text(admin_staff_client.get(DASHBOARD_URL))
    assert '<td id="pending-count">1</td>' in page
    assert '<td id="hold-count">1</td>' in page
    assert '<td id="frozen-count">1</td>' in page
    assert "<td>120.00 USD</td>" in page  # balances: 90 + 30
    assert "<td>60.00 USD</td>" in page  # held by the reservation
    # The pending count links to the same queue: the reservation is decided elsewhere.
    assert f'href="{TX_URL}?queue=review"' in page
    queue = text(admin_staff_client.get(TX_URL, {"queue": "review"}))
    assert str(top_up.uuid) in queue and str(hold.reservation.uuid) not in queue


def test_audit_log_is_read_only_and_exports_csv(admin_staff_client, admin_staff, holder):
    wallet_service().freeze(
        holder.wallet, actor=StaffActor(admin_staff, "=HYPERLINK(1)", "10.0.0.1")
    )
    entry = AuditEntry.objects.get()
    page = text(admin_staff_client.get(AUDIT_URL))
    assert "Export as CSV" in page
    assert admin_staff_client.get(f"{AUDIT_URL}{entry.pk}/delete/").status_code == 403
    response = admin_staff_client.get(f"{AUDIT_URL}export/", {"action__exact": "freeze"})
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    header, row = body.splitlines()[:2]
    assert header.startswith("created_at,actor_label,action")
    assert "boss@example.com,freeze" in row and "'=HYPERLINK(1)" in row
    assert str(holder.wallet.uuid) in row and "10.0.0.1" in row


@pytest.mark.parametrize("order", ["", "1", "-1"], ids=["log order", "oldest", "newest"])
def test_audit_export_read_in_chunks_has_every_entry_once_in_the_lists_order(
    admin_staff_client, admin_staff, holder, monkeypatch, order
):
    from django.utils import timezone

    moment = timezone.now()
    for index in range(7):
        if index < 4:  # entries that share their moment: only the id orders them
            monkeypatch.setattr(timezone, "now", lambda: moment)
        else:
            monkeypatch.undo()
        wallet_service().rename(
            holder.wallet, f"Name {index}", actor=StaffActor(admin_staff, f"Reason {index}")
        )
    query = {"o": order} if order else {}
    # The change list's rows, read in one query.
    request = RequestFactory().get(AUDIT_URL, query)
    request.user = admin_staff
    audit_admin = admin.site._registry[AuditEntry]
    listed = audit_admin.get_changelist_instance(request).get_queryset(request)
    expected = [entry.reason for entry in listed]
    monkeypatch.setattr("wallets.admin.export.EXPORT_CHUNK", 3)
    response = admin_staff_client.get(f"{AUDIT_URL}export/", query)
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    reasons = [row["reason"] for row in rows]
    assert len(reasons) == 7 == len(set(reasons))
    assert reasons == expected


def test_audit_export_needs_its_permission(holder):
    reader = make_user("reader", staff=True, perms=("view_auditentry",))
    client = Client()
    client.force_login(reader)
    assert client.get(AUDIT_URL).status_code == 200
    assert client.get(f"{AUDIT_URL}export/").status_code == 403


def make_rows(start: int, count: int, staff) -> None:
    hold_rule()
    for n in range(start, start + count):
        user = make_user(f"user{n}")
        user.deposit("100")
        transfer = user.transfer(staff, "1")
        transfer_service().refund(transfer, "0.5", actor=StaffActor(staff, "r"))
        user.transfer(staff, "60")  # held for review


@pytest.mark.parametrize("url", [WALLETS_URL, TX_URL, TRANSFERS_URL, HOLDS_URL, AUDIT_URL])
def test_list_page_queries_do_not_grow_with_rows(
    url, admin_staff, admin_staff_client, django_assert_max_num_queries
):
    admin_staff.deposit("1")
    make_rows(0, 2, admin_staff)
    with django_assert_max_num_queries(16) as small:
        assert admin_staff_client.get(url).status_code == 200
    make_rows(2, 12, admin_staff)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert admin_staff_client.get(url).status_code == 200


@pytest.mark.parametrize("url", [TX_URL, TRANSFERS_URL])
def test_ledger_lists_never_count_or_scan_the_whole_ledger(
    admin_staff_client, holder, other, url, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        holder.transfer(other, 1)
    with CaptureQueriesContext(connection) as captured:
        assert admin_staff_client.get(url).status_code == 200
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    # Every count is capped (a LIMIT inside it); no DISTINCT over ledger rows for filters.
    assert counts and all("LIMIT" in sql.upper() for sql in counts), counts
    ledger_tables = (Transaction._meta.db_table, Transfer._meta.db_table)
    assert not [
        q["sql"]
        for q in captured.captured_queries
        if "DISTINCT" in q["sql"].upper() and any(t in q["sql"] for t in ledger_tables)
    ]
    if url == TX_URL:  # the unit filter reads the units from the wallets
        page = admin_staff_client.get(url, {"unit": "USD"})
        assert page.status_code == 200 and "USD" in page.content.decode()
