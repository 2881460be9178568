"""SQL statements per operation, counted at the top level as a request runs them
(``transaction=True``: no test savepoints around the operation), BEGIN and
COMMIT included.

The budget on PostgreSQL: a deposit or withdrawal 4 (one conditional
``UPDATE … RETURNING``, the INSERT), a transfer between two loaded wallets 6
(lock both rows, insert both legs, update both balances, insert the
transfer), and an idempotency key at most 2 more. SQLite has no fast path
for a single wallet (amounts are text there): it reads the locked row first.
"""

import math
import re
from contextlib import contextmanager

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wallets import fees, risk

User = get_user_model()
pytestmark = pytest.mark.django_db(transaction=True)
CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


def single_wallet_budget() -> int:
    return 4 if connection.vendor == "postgresql" else 5


@contextmanager
def assert_max_statements(limit):
    with CaptureQueriesContext(connection) as captured:
        yield
    sql = [q["sql"] for q in captured.captured_queries]
    control = [q for q in sql if CONTROL.match(q)]
    # One transaction: psycopg's implicit BEGIN is not logged, so count it.
    begin = 0 if any(q.upper().startswith("BEGIN") for q in control) else 1
    assert len(sql) + begin <= limit, "\n".join(sql)
    assert len([q for q in control if q.upper().startswith("COMMIT")]) == 1


@pytest.fixture
def loaded():
    alice = User.objects.create_user(username="alice", email="a@example.com")
    bob = User.objects.create_user(username="bob", email="b@example.com")
    alice.deposit(100)
    bob.deposit(1)
    # The risk rules as a running process holds them: read, no recent change.
    risk.active_rules.changed_at = -math.inf
    risk.active_rules.read_at = -math.inf
    risk.active_rules.get()
    # And the fee policies (none active: a transfer or withdrawal asks nothing more).
    fees.active_policies.changed_at = -math.inf
    fees.active_policies.read_at = -math.inf
    fees.active_policies.get()
    return alice.wallet, bob.wallet


def test_deposit(loaded):
    wallet, _ = loaded
    with assert_max_statements(single_wallet_budget()):
        wallet.deposit(5)
    assert wallet.balance == 105


def test_withdrawal(loaded):
    wallet, _ = loaded
    with assert_max_statements(single_wallet_budget()):
        wallet.withdraw(5)
    assert wallet.balance == 95


def test_pending_withdrawal(loaded):
    wallet, _ = loaded
    with assert_max_statements(single_wallet_budget()):
        wallet.withdraw(5, confirmed=False)
    assert (wallet.balance, wallet.held) == (100, 5)


def test_transfer(loaded):
    source, destination = loaded
    with assert_max_statements(6):
        source.transfer(destination, 5)
    assert (source.balance, destination.balance) == (95, 6)


def test_an_idempotency_key_adds_at_most_two(loaded):
    source, destination = loaded
    with assert_max_statements(6 + 2):
        source.transfer(destination, 5, idempotency_key="t-1")
    with assert_max_statements(single_wallet_budget() + 2):
        source.deposit(5, idempotency_key="d-1")
    assert (source.balance, destination.balance) == (100, 6)
