"""SQL statements per operation, counted at the top level as a request runs them
(``transaction=True``: no test savepoints around the operation).

Transaction control (BEGIN/COMMIT, which the SQLite backend issues as SQL and
psycopg does not) is counted apart, so the bound means the same on both."""

import re
from contextlib import contextmanager

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

User = get_user_model()
pytestmark = pytest.mark.django_db(transaction=True)
CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


@contextmanager
def assert_max_statements(limit):
    with CaptureQueriesContext(connection) as captured:
        yield
    data = [q["sql"] for q in captured.captured_queries if not CONTROL.match(q["sql"])]
    control = len(captured.captured_queries) - len(data)
    assert len(data) <= limit, "\n".join(data)
    assert control <= 2  # at most one BEGIN and one COMMIT: a single transaction


@pytest.fixture
def loaded():
    alice = User.objects.create_user(username="alice", email="a@example.com")
    bob = User.objects.create_user(username="bob", email="b@example.com")
    alice.deposit(100)
    return alice.wallet, bob.wallet


def test_deposit_needs_at_most_four_statements(loaded):
    wallet, _ = loaded
    with assert_max_statements(4):
        wallet.deposit(5)
    assert wallet.balance == 105


def test_withdrawal_needs_at_most_four_statements(loaded):
    wallet, _ = loaded
    with assert_max_statements(4):
        wallet.withdraw(5)
    assert wallet.balance == 95


def test_transfer_needs_at_most_eight_statements(loaded):
    source, destination = loaded
    with assert_max_statements(8):
        source.transfer(destination, 5)
    assert (source.balance, destination.balance) == (95, 5)
