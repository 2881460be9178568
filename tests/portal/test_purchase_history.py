"""Purchases of products no wallet receives, on the portal: the wallet history, its CSV,
recent activity and the receipt name the product, the quantity and what was refunded;
nobody else sees the receipt; the history reads purchases in its one page query."""

from __future__ import annotations

import csv
import html
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.portal.conftest import HTMX
from tests.testapp.models import DigitalCourse
from wallets.services import purchase_service

pytestmark = pytest.mark.django_db

BOUGHT = "Purchase \N{MIDDLE DOT} Python course \N{MULTIPLICATION SIGN}2"


def wallet_url(wallet, query: str = "") -> str:
    return reverse("portal:wallet", args=[wallet.uuid]) + query


def receipt_url(tx) -> str:
    return reverse("portal:transaction", args=[tx.uuid])


def text(response) -> str:
    assert response.status_code == 200
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return html.unescape(response.content.decode())


@pytest.fixture
def course(db) -> DigitalCourse:
    return DigitalCourse.objects.create(title="Python course", price=Decimal("20.00"))


@pytest.fixture
def purchase(alice, course):
    return alice.pay(course, quantity=2)


def test_history_row_names_the_product_and_quantity(alice, purchase, alice_client):
    for headers in ({}, HTMX):
        body = text(alice_client.get(wallet_url(alice.wallet), **headers))
        assert f"<td >{BOUGHT}</td>" in body
        assert f"receipt for {BOUGHT} of -40.00 USD" in body
        assert "-40.00 USD" in body
        assert "60.00 USD" in body  # balance after


def test_history_row_and_refund_row_read_as_purchase_and_refund(alice, purchase, alice_client):
    purchase_service().refund(purchase, "15.00")
    body = text(alice_client.get(wallet_url(alice.wallet)))
    assert BOUGHT in body
    assert "Refund · Python course" in body
    assert "+15.00 USD" in body
    # The counterparty column names the product for both.
    assert body.count(">Python course<") == 2


def test_csv_names_the_product_and_quantity(alice, purchase, alice_client):
    purchase_service().refund(purchase, "15.00")
    content = text(alice_client.get(wallet_url(alice.wallet, "?_export=csv")))
    header, *rows = list(csv.reader(io.StringIO(content)))
    assert header[:4] == ["Time", "Type", "State", "Amount"]
    assert header[-2:] == ["Description", "Unit"]
    by_description = {row[header.index("Description")]: row for row in rows}
    bought = by_description[BOUGHT]
    assert bought[header.index("Type")] == "withdraw"  # the machine value stays
    assert bought[header.index("Amount")] == "-40.00"
    assert bought[header.index("Counterparty")] == "Python course"
    refund = by_description["Refund · Python course"]
    assert refund[header.index("Amount")] == "15.00"
    assert refund[header.index("Counterparty")] == "Python course"
    assert by_description["Deposit"][header.index("Reference")] == "Welcome"


def test_recent_activity_on_the_dashboard_names_the_purchase(alice, purchase, alice_client):
    purchase_service().refund(purchase, "15.00")
    body = text(alice_client.get(reverse("portal:dashboard")))
    assert f"{BOUGHT}</a>" in body
    assert "Refund · Python course</a>" in body


def test_receipt_shows_product_quantity_prices_and_what_was_refunded(alice, purchase, alice_client):
    refund = purchase_service().refund(purchase, "15.00")
    body = text(alice_client.get(receipt_url(purchase.withdraw)))
    assert f'<h1 class="h4 card-title">{BOUGHT}</h1>' in body
    assert '<dd class="col-sm-8" data-testid="purchase-product">Python course</dd>' in body
    assert '<dd class="col-sm-8" data-testid="purchase-quantity">2</dd>' in body
    assert 'data-testid="purchase-unit-price">20.00 USD</dd>' in body
    assert 'data-testid="purchase-total">40.00 USD</dd>' in body
    assert (
        '<dd class="col-sm-8" data-testid="purchase-refunded"><span class="amount">15.00 USD'
        '</span> · partly refunded, <span class="amount">25.00 USD</span> not refunded</dd>'
    ) in body

    refund_body = text(alice_client.get(receipt_url(refund)))
    assert '<h1 class="h4 card-title">Refund · Python course</h1>' in refund_body
    assert f'href="{receipt_url(purchase.withdraw)}">{BOUGHT}</a>' in refund_body
    assert '<span class="amount">40.00 USD</span> paid' in refund_body


def test_receipt_after_a_full_refund_says_so(alice, purchase, alice_client):
    purchase_service().refund(purchase, "15.00")
    purchase_service().refund(purchase)
    body = text(alice_client.get(receipt_url(purchase.withdraw)))
    assert (
        'data-testid="purchase-refunded"><span class="amount">40.00 USD</span>'
        " · refunded in full</dd>"
    ) in body


def test_a_receipt_for_a_single_item_has_no_quantity_sign(alice, course, alice_client):
    single = alice.pay(course)
    body = text(alice_client.get(receipt_url(single.withdraw)))
    assert "Purchase · Python course</h1>" in body
    assert "\N{MULTIPLICATION SIGN}" not in body


def test_someone_else_cannot_see_the_purchase_receipt(alice, bob, purchase, bob_client):
    refund = purchase_service().refund(purchase, "15.00")
    assert bob_client.get(receipt_url(purchase.withdraw)).status_code == 404
    assert bob_client.get(receipt_url(refund)).status_code == 404
    assert bob_client.get(wallet_url(alice.wallet)).status_code == 404


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["full page", "htmx partial"])
def test_history_query_count_does_not_grow_with_purchases(alice, course, alice_client, headers):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            body = text(alice_client.get(wallet_url(alice.wallet), **headers))
        return len(ctx.captured_queries), body.count("<td >Purchase · Python course")

    alice.pay(course)
    few, shown = queries()
    assert shown == 1
    alice.deposit("1000.00")
    for _ in range(20):
        alice.pay(course, quantity=2)
    many, shown = queries()
    assert shown == 21
    assert many == few


def test_the_export_reads_each_cell_as_django_tables2_does(
    alice, bob, purchase, alice_client, monkeypatch
):
    """Every kind of row (a purchase and its refund, a transfer and its refund, a
    reference, pending rows with no balance after): the export reads its cells
    straight from the table's value methods, and writes what django-tables2's own
    cell reading writes."""
    from wallets.services import transfer_service, wallet_service

    purchase_service().refund(purchase, "15.00")
    transfer = alice.transfer(bob, "12.50", meta={"note": "=SUM(A1)"})
    transfer_service().refund(transfer, "2.50")
    alice.deposit("3.00", meta={"reference": "Invoice 7"})
    wallet_service().deposit(alice.wallet, "4.00", confirmed=False)
    wallet_service().withdraw(alice.wallet, "1.00", confirmed=False)
    from portal.tables import TransactionTable, _direct_reader

    table = TransactionTable(data=[])
    exported = [c for c in table.columns.iterall() if not c.column.exclude_from_export]
    assert all(_direct_reader(table, column) for column in exported)
    url = wallet_url(alice.wallet, "?_export=csv")
    direct = text(alice_client.get(url))
    monkeypatch.setattr("portal.tables._direct_reader", lambda table, column: None)
    through_tables2 = text(alice_client.get(url))
    rows = list(csv.reader(io.StringIO(direct)))
    assert len(rows) == 9  # the header, the welcome credit and seven rows
    assert any(row[4] == "" for row in rows[1:])  # a pending row has no balance after
    assert direct == through_tables2
