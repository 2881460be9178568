"""The history pages at scale on PostgreSQL: with 200,000 rows in one wallet, every query
the pages run reads a bounded number of rows through an index (no full-history count,
sum or sort), and the balance chart stays exact.

The rows are written in one statement (``generate_series``) with a consistent running
``balance_after`` and a matching stored balance, then the table is analyzed, so the
planner sees a large history as it would in production.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.portal.conftest import HTMX, make_user
from wallets.swappable import get_transaction_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ROWS = 200_000
SPAN = timedelta(days=400)
# A full scan would read 200,000 rows; the pages' queries each read at most this many
# (a page, the capped count's 1,001 matches, a few index probes a day for the chart).
READ_BOUND = 5_000


def fill_history(wallet: Wallet, rows: int = ROWS) -> None:
    """``rows`` transactions over the last 400 days, in one INSERT: deposits of 2.00 and
    (every third) withdrawals of 1.25; every 101st confirmed five hours after it was
    written, every 211th rejected, a few recent ones still pending. ``balance_after``
    is the running sum in the order the balance changed; the wallet's balance and held
    match the rows."""
    start = timezone.now() - SPAN - timedelta(hours=1)
    step = SPAN.total_seconds() / rows
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO wallets_transaction (uuid, wallet_id, type, amount, state,
                balance_after, meta, created_at, expires_at, resolved_at, resolution_note)
            SELECT gen_random_uuid(), %(wallet)s,
                   CASE WHEN amount > 0 THEN 'deposit' ELSE 'withdraw' END, amount, state,
                   CASE WHEN state = 'confirmed' THEN SUM(
                       CASE WHEN state = 'confirmed' THEN amount ELSE 0 END
                   ) OVER (ORDER BY COALESCE(resolved_at, created_at), i) END,
                   '{}'::jsonb, created_at, NULL, resolved_at, ''
            FROM (
                SELECT *, CASE WHEN state = 'rejected'
                                 OR (state = 'confirmed' AND i %% 101 = 0 AND i < %(rows)s - 200)
                               THEN created_at + interval '5 hours' END AS resolved_at
                FROM (
                    SELECT i, %(start)s::timestamptz + i * %(step)s * interval '1 second'
                               AS created_at,
                           CASE WHEN i %% 3 = 0 THEN -1.25 ELSE 2.00 END AS amount,
                           CASE WHEN i %% 211 = 0 THEN 'rejected'
                                WHEN i %% 307 = 0 AND i > %(rows)s - 3000 THEN 'pending'
                                ELSE 'confirmed' END AS state
                    FROM generate_series(1, %(rows)s) AS i
                ) AS series
            ) AS source
            """,
            {"wallet": wallet.pk, "rows": rows, "start": start, "step": step},
        )
        cursor.execute(
            """
            UPDATE wallets_wallet SET
                balance = (SELECT SUM(amount) FROM wallets_transaction
                           WHERE wallet_id = %(wallet)s AND state = 'confirmed'),
                held = (SELECT COALESCE(-SUM(amount), 0) FROM wallets_transaction
                        WHERE wallet_id = %(wallet)s AND state = 'pending' AND amount < 0)
            WHERE id = %(wallet)s
            """,
            {"wallet": wallet.pk},
        )
        cursor.execute("ANALYZE wallets_transaction")


@pytest.fixture
def big(db) -> Any:
    """A holder whose default wallet has 200,000 transactions, and a logged-in client."""
    holder = make_user("hoarder", "Hal", "Hoarder")
    wallet = holder.get_wallet("default")
    fill_history(wallet)
    client = Client()
    client.force_login(holder)
    holder.wallet_row = Wallet.objects.get(pk=wallet.pk)
    holder.client = client
    return holder


def plan_nodes(node: dict) -> list[dict]:
    nodes = [node]
    for child in node.get("Plans", []):
        nodes += plan_nodes(child)
    return nodes


def explain(sql: str, params: Any = None) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()[0]
    # A plan costed high enough to be compiled with JIT would take ~100 ms to start.
    assert "JIT" not in plan, sql
    return plan_nodes(plan["Plan"])


def rows_read(node: dict) -> float:
    per_loop = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
    return per_loop * node.get("Actual Loops", 1)


def assert_reads_bounded(captured: list[dict]) -> set[str]:
    """Every captured query on the ledger reads few rows; returns the indexes they used."""
    indexes: set[str] = set()
    for query in captured:
        sql = query["sql"]
        if '"wallets_transaction"' not in sql or not sql.lstrip().upper().startswith(
            ("SELECT", "WITH")
        ):
            continue
        for node in explain(sql):
            if node.get("Relation Name") == "wallets_transaction":
                # A sequential scan may serve a capped count when nearly every row is the
                # wallet's; what matters is that it stops early.
                assert rows_read(node) <= READ_BOUND, (node["Node Type"], rows_read(node), sql)
                indexes.add(node.get("Index Name", ""))
            if node["Node Type"] in ("Sort", "Aggregate", "Hash"):
                assert node.get("Actual Rows", 0) <= READ_BOUND, (node["Node Type"], sql)
    return indexes


def count_queries(captured: list[dict]) -> list[str]:
    return [q["sql"] for q in captured if "COUNT(" in q["sql"].upper()]


def test_wallet_page_reads_only_what_it_shows_at_200k_rows(big):
    wallet = big.wallet_row
    url = reverse("portal:wallet", args=[wallet.uuid])
    day = timezone.localdate() - timedelta(days=50)
    variants = [
        ("", {}),
        ("?page=3", HTMX),
        ("?type=withdraw", HTMX),
        ("?state=pending", {}),
        (f"?date_from={day:%Y-%m-%d}&date_to={day:%Y-%m-%d}", HTMX),
        ("?sort=created_at&page=2", HTMX),
    ]
    for query, headers in variants:
        with CaptureQueriesContext(connection) as ctx:
            response = big.client.get(url + query, **headers)
        assert response.status_code == 200, query
        counts = count_queries(ctx.captured_queries)
        assert len(counts) <= 1 and all("LIMIT" in sql for sql in counts), (query, counts)
        indexes = assert_reads_bounded(ctx.captured_queries)
        assert "wallets_tx_history" in indexes, (query, indexes)
    body = big.client.get(url).content.decode()
    assert "More than 1,000 transactions" in body
    assert 'rel="next">Older' in body


def test_staff_history_and_dashboards_read_few_rows_at_200k_rows(big, django_user_model):
    staff = django_user_model.objects.create_user(
        username="staffer", email="staffer@example.com", is_staff=True
    )
    client = Client()
    client.force_login(staff)
    pages = [
        (client, reverse("staff:wallet", args=[big.wallet_row.uuid]) + "?page=2"),
        (big.client, reverse("portal:dashboard")),
    ]
    for page_client, url in pages:
        with CaptureQueriesContext(connection) as ctx:
            assert page_client.get(url).status_code == 200, url
        assert len(count_queries(ctx.captured_queries)) <= 1, url
        assert_reads_bounded(ctx.captured_queries)

    from wallets.selectors import dashboard_stats

    with CaptureQueriesContext(connection) as ctx:
        stats = dashboard_stats()
    assert stats.pending_count > 0
    assert_reads_bounded(ctx.captured_queries)


def test_last_50_and_recent_activity_use_the_history_index_at_200k_rows(big):
    from portal.selectors import recent_activity
    from wallets.selectors import transaction_history

    nodes = explain(*transaction_history(big.wallet_row)[:50].query.sql_with_params())
    scans = [n for n in nodes if n.get("Relation Name") == "wallets_transaction"]
    assert [n.get("Index Name") for n in scans] == ["wallets_tx_history"]
    assert not [n for n in nodes if n["Node Type"] == "Sort"]
    assert rows_read(scans[0]) <= 50

    big.get_wallet("spare", name="Spare").deposit("1.00")
    with CaptureQueriesContext(connection) as ctx:
        rows = recent_activity(big, limit=10)
    assert len(rows) == 10
    assert_reads_bounded(ctx.captured_queries)


def test_balance_chart_is_exact_and_indexed_at_200k_rows(big):
    from wallets.selectors import SERIES_DAYS, balance_series

    wallet = big.wallet_row
    longest = balance_series(wallet, days=max(SERIES_DAYS))
    ends = [
        timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
        for day, _ in longest
    ]
    with connection.cursor() as cursor:
        # The brute force: a sum over the whole history for each day.
        cursor.execute(
            """
            SELECT COALESCE(SUM(amount), 0) FROM unnest(%s::timestamptz[]) AS ends(moment)
            LEFT JOIN wallets_transaction ON wallet_id = %s AND state = 'confirmed'
                AND COALESCE(resolved_at, created_at) < ends.moment
            GROUP BY ends.moment ORDER BY ends.moment
            """,
            [ends, wallet.pk],
        )
        expected = [total for (total,) in cursor.fetchall()]
    assert [value for _, value in longest] == expected
    assert longest[-1][1] == wallet.balance
    assert all(isinstance(value, Decimal) for _, value in longest)

    for days in SERIES_DAYS:
        with CaptureQueriesContext(connection) as ctx:
            series = balance_series(wallet, days=days)
        assert series == longest[-days:]
        assert len(ctx.captured_queries) == 2  # the probes, then the rows they found
        indexes = assert_reads_bounded(ctx.captured_queries)
        assert {"wallets_tx_history", "wallets_tx_resolved"} <= indexes
    confirmed_later = Transaction.objects.filter(
        wallet=wallet, state="confirmed", resolved_at__isnull=False
    )
    assert confirmed_later.count() > 1000


def test_export_starts_streaming_after_reading_only_its_first_chunks_at_200k_rows(big):
    from bench.pages import close_keeping_connections, export_response
    from portal.tables import EXPORT_CHUNK

    url = reverse("portal:wallet", args=[big.wallet_row.uuid])
    with CaptureQueriesContext(connection) as ctx:
        response = export_response(big, url)
        assert response.status_code == 200 and response.streaming
        lines = 0
        for chunk in response.streaming_content:
            lines += chunk.count(b"\n")
            if lines > 2 * EXPORT_CHUNK + 1:  # the header and two chunks of rows
                break
        close_keeping_connections(response)
    assert lines > 2 * EXPORT_CHUNK + 1
    ledger = [q["sql"] for q in ctx.captured_queries if '"wallets_transaction"' in q["sql"]]
    # A query a chunk, each from where the last ended, none of the whole history.
    assert len(ledger) >= 3 and all(f"LIMIT {EXPORT_CHUNK}" in sql for sql in ledger), ledger
    assert '("wallets_transaction"."created_at", "wallets_transaction"."id") <' in ledger[-1]
    indexes = assert_reads_bounded(ctx.captured_queries)
    assert "wallets_tx_history" in indexes, indexes


def test_a_wallet_whose_rows_end_the_table_is_counted_through_the_index(db):
    """A merchant that joined last: its 20,000 rows come after 200,000 of others in
    the table, the layout in which a capped count by sequential scan reads every
    other row before its first."""
    earlier = make_user("earlier", "Early", "Bird")
    fill_history(earlier.get_wallet("default"))
    merchant = make_user("newcomer", "New", "Comer")
    fill_history(merchant.get_wallet("default"), rows=20_000)
    client = Client()
    client.force_login(merchant)
    url = reverse("portal:wallet", args=[merchant.get_wallet("default").uuid])
    for query, headers in (("", {}), ("?type=withdraw", HTMX), ("?page=2", HTMX)):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url + query, **headers).status_code == 200
        (count,) = count_queries(ctx.captured_queries)
        assert "LIMIT 1001" in count
        # The count, the page's rows and the chart: none reads the others' rows.
        indexes = assert_reads_bounded(ctx.captured_queries)
        assert assert_reads_bounded([{"sql": count}]) == {"wallets_tx_history"}, query
        assert "wallets_tx_history" in indexes, (query, indexes)
    staff = make_user("staffer")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    staff_client = Client()
    staff_client.force_login(staff)
    wallet_uuid = merchant.get_wallet("default").uuid
    for page_client, page in (
        (staff_client, reverse("staff:wallet", args=[wallet_uuid]) + "?page=2"),
        (client, reverse("portal:dashboard")),
    ):
        with CaptureQueriesContext(connection) as ctx:
            assert page_client.get(page).status_code == 200, page
        assert_reads_bounded(ctx.captured_queries)
