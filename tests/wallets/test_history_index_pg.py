"""The history query is served by the (wallet, -created_at, -id) index."""

import pytest
from django.db import connection

from wallets.selectors import transaction_history

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_history_uses_the_wallet_time_index(alice, bob):
    alice.deposit(100)
    for _ in range(5):
        alice.transfer(bob, 1)
    query = transaction_history(alice.wallet)[:25]
    with connection.cursor() as cursor:
        # Tiny test tables would be scanned anyway; forbid that to see whether
        # the index can serve the filter and the ordering by itself.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "wallets_tx_history" in plan, plan
    assert "Sort" not in plan.split("Index")[0], plan
