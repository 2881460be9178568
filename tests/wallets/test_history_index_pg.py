"""History readers are served by indexes: the (wallet, -created_at, -id) history index,
the small index of rows confirmed after they were written, and transfers by time."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wallets.selectors import (
    balance_series,
    dashboard_stats,
    last_transactions,
    recent_transactions,
    transaction_history,
)
from wallets.services import wallet_service
from wallets.swappable import get_transaction_model, get_transfer_model

# Index and table names follow the ledger models in use (swappable).
TX = get_transaction_model()._meta
TR = get_transfer_model()._meta

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def plan_of(sql, params=None) -> str:
    with connection.cursor() as cursor:
        # Tiny test tables would be scanned anyway; forbid that to see whether
        # the indexes can serve the filters and the orderings by themselves.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_history_uses_the_wallet_time_index(alice, bob):
    alice.deposit(100)
    for _ in range(5):
        alice.transfer(bob, 1)
    plan = plan_of(*transaction_history(alice.wallet)[:25].query.sql_with_params())
    assert f"{TX.app_label}_tx_history" in plan, plan
    assert "Sort" not in plan.split("Index")[0], plan


def test_the_newest_rows_read_the_wallet_time_index(alice, bob):
    alice.deposit(100)
    alice.transfer(bob, 1)
    with CaptureQueriesContext(connection) as ctx:
        assert len(last_transactions(alice.wallet, 25)) == 2
    (query,) = ctx.captured_queries
    plan = plan_of(query["sql"])
    assert f"{TX.app_label}_tx_history" in plan, plan
    assert "Sort" not in plan.split("Index")[0], plan


def test_balance_series_probes_the_history_and_resolved_indexes(alice):
    alice.deposit(100)
    pending = alice.deposit(5, confirmed=False)
    wallet_service().confirm_transaction(pending)
    with CaptureQueriesContext(connection) as ctx:
        balance_series(alice.wallet, days=7)
    # The probes, then the rows they found by primary key.
    probes, rows = (query["sql"] for query in ctx.captured_queries)
    plan = plan_of(probes)
    assert f"{TX.app_label}_tx_history" in plan and f"{TX.app_label}_tx_resolved" in plan, plan
    assert f"Seq Scan on {TX.db_table}" not in plan, plan
    assert f"{TX.db_table}_pkey" in plan_of(rows)


def test_recent_transactions_read_each_wallet_from_its_history_index(alice):
    alice.deposit(100)
    savings = alice.get_wallet("savings")
    savings.deposit(5)
    with CaptureQueriesContext(connection) as ctx:
        rows = recent_transactions([alice.wallet, savings], limit=10)
    assert len(rows) == 2
    (query,) = ctx.captured_queries
    plan = plan_of(query["sql"])
    # One limited index scan per wallet; only their few rows are merged.
    assert plan.count(f"{TX.app_label}_tx_history") == 2, plan
    assert plan.count("Limit") >= 3, plan


def test_dashboard_reads_the_last_day_of_transfers_by_time(alice, bob):
    alice.deposit(100)
    alice.transfer(bob, 1)
    with CaptureQueriesContext(connection) as ctx:
        dashboard_stats()
    transfer_queries = [
        q["sql"] for q in ctx.captured_queries if f'FROM "{TR.db_table}"' in q["sql"]
    ]
    assert transfer_queries
    for sql in transfer_queries:
        assert f"{TR.app_label}_tr_created" in plan_of(sql), sql
