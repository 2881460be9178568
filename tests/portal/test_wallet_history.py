import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.portal.conftest import HTMX, make_user

pytestmark = pytest.mark.django_db


def wallet_url(wallet, query: str = "") -> str:
    return reverse("portal:wallet", args=[wallet.uuid]) + query


def streamed(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_history_lists_transactions_with_counterparty_and_reference(alice, bob, alice_client):
    alice.transfer(bob, "12.50", meta={"note": "Lunch"})
    response = alice_client.get(wallet_url(alice.wallet))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Bob Baker" in body
    assert "Lunch" in body
    assert "Welcome" in body
    assert "-12.50 USD" in body
    assert "87.50 USD" in body  # balance after


def test_filters_narrow_the_rows_and_htmx_gets_only_the_table(alice, bob, alice_client):
    alice.transfer(bob, "12.50", meta={"note": "Lunch"})
    alice.withdraw("5.00", confirmed=False, meta={"reference": "Payout"})

    response = alice_client.get(wallet_url(alice.wallet, "?state=pending"), **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="tx-table"')
    assert "Payout" in body and "Lunch" not in body and "Welcome" not in body

    body = alice_client.get(wallet_url(alice.wallet, "?q=lunch")).content.decode()
    assert "Bob Baker" in body and "Payout" not in body

    body = alice_client.get(
        wallet_url(alice.wallet, "?amount_min=10&amount_max=20")
    ).content.decode()
    assert "Lunch" in body and "Payout" not in body and "Welcome" not in body

    body = alice_client.get(wallet_url(alice.wallet, "?type=deposit")).content.decode()
    assert "Welcome" in body and "Lunch" not in body


def test_sorting_and_pagination_links_swap_with_htmx_and_keep_hrefs(alice, alice_client):
    for _ in range(30):
        alice.deposit("1.00")
    body = alice_client.get(wallet_url(alice.wallet, "?sort=amount")).content.decode()
    assert 'hx-target="#tx-table"' in body
    assert 'hx-push-url="true"' in body
    assert "page=2" in body
    assert 'aria-sort="ascending"' in body


def test_csv_export_contains_exactly_the_filtered_rows_and_escapes_formulas(
    alice, bob, alice_client
):
    alice.transfer(bob, "3.00", meta={"note": '=HYPERLINK("http://evil")'})
    alice.deposit("7.00", meta={"reference": "@SUM(A1)"})
    for _ in range(30):
        alice.deposit("1.00", meta={"reference": "filler"})

    response = alice_client.get(wallet_url(alice.wallet, "?amount_min=2&_export=csv"))
    assert response.status_code == 200
    assert response.streaming  # rows are written as they are read, never all in memory
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(streamed(response))))
    header, data = rows[0], rows[1:]
    assert header[:4] == ["Time", "Type", "State", "Amount"]
    assert "Receipt" not in header
    references = sorted(row[6] for row in data)
    assert references == ['\'=HYPERLINK("http://evil")', "'@SUM(A1)", "Welcome"]
    amounts = sorted(row[3] for row in data)
    assert "-3.00" in amounts[0]  # a plain negative number stays a number


def test_someone_elses_wallet_is_a_404_and_so_is_its_export(alice, bob, bob_client):
    assert bob_client.get(wallet_url(alice.wallet)).status_code == 404
    assert bob_client.get(wallet_url(alice.wallet, "?_export=csv")).status_code == 404


def test_receipt_page_and_its_404_for_strangers(alice, bob, alice_client, bob_client):
    transfer = alice.transfer(bob, "12.50", meta={"note": "Lunch"})
    url = reverse("portal:transaction", args=[transfer.withdraw.uuid])
    body = alice_client.get(url).content.decode()
    assert str(transfer.withdraw.uuid) in body and "Bob Baker" in body and "Lunch" in body

    carol_tx = alice.deposit("1.00")
    assert bob_client.get(reverse("portal:transaction", args=[carol_tx.uuid])).status_code == 404
    # Bob may see his own leg of the same transfer.
    assert (
        bob_client.get(reverse("portal:transaction", args=[transfer.deposit.uuid])).status_code
        == 200
    )


def test_organization_wallets_are_visible_to_members_only(acme, alice, bob, bob_client):
    from django.test import Client

    assert bob_client.get(wallet_url(acme.wallet)).status_code == 200
    outsider = Client()
    outsider.force_login(make_user("carol"))
    assert outsider.get(wallet_url(acme.wallet)).status_code == 404


def test_htmx_history_restore_gets_the_whole_page(alice, alice_client):
    response = alice_client.get(
        wallet_url(alice.wallet, "?q=x"), HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX
    )
    assert "<html" in response.content.decode()


def test_history_page_names_counterparties_without_a_query_per_row(
    alice, bob, alice_client, django_assert_max_num_queries
):
    for index in range(20):
        alice.transfer(bob, "1.00", meta={"note": f"Round {index}"})
    with django_assert_max_num_queries(15):
        body = alice_client.get(wallet_url(alice.wallet)).content.decode()
    assert body.count("Bob Baker") == 20


def test_wallet_page_offers_money_actions_only_to_those_who_may_spend(
    acme, alice_client, bob_client
):
    url = wallet_url(acme.wallet)
    owner_body = alice_client.get(url).content.decode()
    member_body = bob_client.get(url).content.decode()
    assert f"/transfer/?from={acme.wallet.uuid}" in owner_body
    assert "/transfer/?from=" not in member_body
    assert '<svg class="balance-chart chart-wide"' in member_body


def test_history_and_export_read_from_the_replica_but_checks_stay_on_the_primary(
    alice, alice_client
):
    from django.db import connection

    from portal.ops import db

    seen: list[tuple[str, bool]] = []

    def record(execute, sql, params, many, context):
        table = "wallets_transaction" if '"wallets_transaction"' in sql else "other"
        seen.append((table, db._prefer_replica.get()))
        return execute(sql, params, many, context)

    for query in ("", "?_export=csv"):
        seen.clear()
        with connection.execute_wrapper(record):
            response = alice_client.get(wallet_url(alice.wallet, query))
            assert response.status_code == 200
            streamed(response)  # an export reads its rows while it streams
        history_reads = [replica for table, replica in seen if table == "wallets_transaction"]
        assert history_reads and all(history_reads)
        # The session, the user and the ownership check ran first, on the primary.
        assert seen[0] == ("other", False)


# Counting, paging and exporting at any size


def count_queries(captured) -> list[str]:
    return [q["sql"] for q in captured if "COUNT(" in q["sql"].upper()]


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["full page", "htmx partial"])
def test_history_page_counts_once_with_a_bounded_number_of_queries(
    alice, bob, alice_client, headers, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for index in range(30):
        alice.transfer(bob, "1.00", meta={"note": f"Round {index}"})
    with django_assert_max_num_queries(14), CaptureQueriesContext(connection) as ctx:
        response = alice_client.get(wallet_url(alice.wallet, "?page=2"), **headers)
    assert response.status_code == 200
    counts = count_queries(ctx.captured_queries)
    # One COUNT, and a capped one: it stops after COUNT_LIMIT + 1 rows.
    assert len(counts) == 1 and "LIMIT" in counts[0].upper(), counts
    assert "31 transactions" in response.content.decode()


def test_long_history_pages_newer_and_older_without_counting(
    alice, alice_client, monkeypatch, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr("portal.tables.COUNT_LIMIT", 5)
    monkeypatch.setattr("portal.views.wallets.COUNT_LIMIT", 5)
    for index in range(11):
        alice.deposit("1.00", meta={"reference": f"Row {index:02d}"})  # 12 rows with Welcome

    first = alice_client.get(wallet_url(alice.wallet, "?per_page=5")).content.decode()
    assert "More than 5 transactions" in first
    assert 'rel="next">Older' in first and 'rel="prev"' not in first
    assert "Row 10" in first and "Row 05" not in first
    assert "Page</span> 2" not in first  # no numbered pages without a count

    with CaptureQueriesContext(connection) as ctx:
        middle = alice_client.get(wallet_url(alice.wallet, "?per_page=5&page=2"), **HTMX)
    body = middle.content.decode()
    assert body.lstrip().startswith('<div id="tx-table"')
    assert 'rel="prev"' in body and 'rel="next">Older' in body and "Page 2" in body
    assert "</span> Newer</a>" in body
    assert "Row 05" in body and "Row 10" not in body and "Row 00" not in body
    assert all("LIMIT" in sql.upper() for sql in count_queries(ctx.captured_queries))

    last = alice_client.get(wallet_url(alice.wallet, "?per_page=5&page=3")).content.decode()
    assert "</span> Newer</a>" in last and 'rel="next"' not in last
    assert "Row 00" in last and "Welcome" in last

    # Filters narrow the rows in this mode too, and keep the sort and page links.
    body = alice_client.get(
        wallet_url(alice.wallet, "?per_page=5&q=Row&sort=created_at"), **HTMX
    ).content.decode()
    assert "Row 00" in body and "Welcome" not in body
    assert "sort=created_at" in body and "page=2" in body
    assert 'rel="next">Newer' in body  # oldest first: the next page is newer


def test_oldest_first_names_the_pages_the_other_way(alice, alice_client):
    for _ in range(30):
        alice.deposit("1.00")
    newest_first = alice_client.get(wallet_url(alice.wallet)).content.decode()
    assert 'rel="next">Older' in newest_first
    oldest_first = alice_client.get(wallet_url(alice.wallet, "?sort=created_at")).content.decode()
    assert 'rel="next">Newer' in oldest_first
    by_amount = alice_client.get(wallet_url(alice.wallet, "?sort=amount")).content.decode()
    assert 'rel="next">Next' in by_amount


def test_a_page_never_reads_more_than_a_hundred_rows(alice, alice_client):
    for _ in range(110):
        alice.deposit("1.00")
    body = alice_client.get(wallet_url(alice.wallet, "?per_page=100000")).content.decode()
    assert body.count("receipt for deposit") == 100


def test_date_filters_cover_whole_local_days(alice, alice_client, monkeypatch):
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    day = timezone.localdate() - timedelta(days=3)
    midnight = timezone.make_aware(datetime.combine(day, time.min))
    for moment, label in [
        (midnight - timedelta(microseconds=1), "Before"),
        (midnight, "First"),
        (midnight + timedelta(days=1) - timedelta(microseconds=1), "Last"),
        (midnight + timedelta(days=1), "After"),
    ]:
        monkeypatch.setattr(timezone, "now", lambda moment=moment: moment)
        alice.deposit("1.00", meta={"reference": label})
    monkeypatch.undo()

    query = f"?date_from={day:%Y-%m-%d}&date_to={day:%Y-%m-%d}"
    for headers in ({}, HTMX):
        body = alice_client.get(wallet_url(alice.wallet, query), **headers).content.decode()
        assert "First" in body and "Last" in body
        assert "Before" not in body and "After" not in body
    export = streamed(alice_client.get(wallet_url(alice.wallet, query + "&_export=csv")))
    assert sorted(row[6] for row in list(csv.reader(io.StringIO(export)))[1:]) == [
        "First",
        "Last",
    ]


def test_export_streams_every_filtered_row_in_the_pages_order(alice, bob, alice_client):
    for index in range(40):
        alice.deposit(f"{index + 1}.00", meta={"reference": f"Row {index}"})
    alice.transfer(bob, "0.50")
    response = alice_client.get(wallet_url(alice.wallet, "?type=deposit&sort=-amount&_export=csv"))
    rows = list(csv.reader(io.StringIO(streamed(response))))[1:]
    assert len(rows) == 41  # every page of it: 40 deposits and the welcome credit
    amounts = [Decimal(row[3]) for row in rows]
    assert amounts == sorted(amounts, reverse=True)
    assert all(row[1] == "deposit" for row in rows)


@pytest.mark.parametrize(
    "query, rows",
    [
        ("?", 12),
        ("?sort=-created_at", 12),
        ("?sort=created_at", 12),
        ("?sort=-amount", 12),
        ("?sort=type", 12),
        ("?q=Row&amount_min=2&sort=created_at", 7),
    ],
    ids=["default", "newest", "oldest", "amount", "type", "filtered"],
)
def test_an_export_read_in_chunks_has_every_row_once_in_the_pages_order(
    alice, alice_client, monkeypatch, query, rows
):
    from django.utils import timezone

    # Rows that share their moment: only the id tells their order apart.
    moment = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: moment)
    for index in range(7):
        alice.deposit(f"{index % 3 + 1}.00", meta={"reference": f"Row {index:02d}"})
    monkeypatch.undo()
    for index in range(7, 11):
        alice.deposit(f"{index % 3 + 1}.00", meta={"reference": f"Row {index:02d}"})
    page = alice_client.get(wallet_url(alice.wallet, query + "&per_page=100"))
    monkeypatch.setattr("portal.tables.EXPORT_CHUNK", 3)
    export = streamed(alice_client.get(wallet_url(alice.wallet, query + "&_export=csv")))
    references = [row[6] for row in list(csv.reader(io.StringIO(export)))[1:]]
    # Eleven rows and the welcome credit; filtered, the seven rows of 2.00 or 3.00.
    assert len(references) == rows == len(set(references))
    body = page.content.decode()
    # The page (one query, no chunks) shows the rows in the same order.
    assert sorted(references, key=lambda ref: body.index(ref)) == references


def test_an_export_is_sent_a_chunk_of_whole_lines_at_a_time(alice, alice_client, monkeypatch):
    for index in range(6):
        alice.deposit("1.00", meta={"reference": f"Row {index}"})
    monkeypatch.setattr("portal.tables.EXPORT_CHUNK", 3)
    response = alice_client.get(wallet_url(alice.wallet, "?_export=csv"))
    pieces = [piece.decode() for piece in response.streaming_content]
    # The header alone (at once), then the seven rows (six and the welcome
    # credit) three lines a piece: each piece one socket write, never a line cut.
    assert [piece.count("\r\n") for piece in pieces] == [1, 3, 3, 1]
    assert all(piece.endswith("\r\n") for piece in pieces)
    rows = list(csv.reader(io.StringIO("".join(pieces))))
    assert len(rows) == 8 and len({row[6] for row in rows[1:]}) == 7


def test_invalid_filter_exports_no_rows(alice, alice_client):
    response = alice_client.get(wallet_url(alice.wallet, "?amount_min=-5&_export=csv"))
    rows = list(csv.reader(io.StringIO(streamed(response))))
    assert rows[0][:2] == ["Time", "Type"] and rows[1:] == []
