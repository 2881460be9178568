"""SQL statements per operation, counted at the top level as a request runs them
(``transaction=True``: no test savepoints around the operation), BEGIN and
COMMIT included.

The budget on PostgreSQL: a deposit or withdrawal 1 (one statement: the
conditional ``UPDATE … RETURNING`` and the INSERT it feeds), a transfer
between two loaded wallets 1 (one statement locks both rows, checks them,
updates both balances and inserts both legs and the transfer). One statement
is atomic by itself, so neither opens a transaction; with an idempotency key
they do (BEGIN and COMMIT), and the key costs at most 2 more. SQLite has no
fast path (amounts are text there): it reads the locked rows first, then
writes (a deposit 5, a transfer 6).
"""

import math
import re
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wallets import fees, risk
from wallets.swappable import get_transfer_model, get_wallet_model

User = get_user_model()
Wallet = get_wallet_model()
Transfer = get_transfer_model()
pytestmark = pytest.mark.django_db(transaction=True)
CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


def single_wallet_budget() -> int:
    return 1 if connection.vendor == "postgresql" else 5


def one_statement() -> bool:
    return connection.vendor == "postgresql"


def transfer_budget() -> int:
    return 1 if connection.vendor == "postgresql" else 6


@contextmanager
def assert_max_statements(limit, transactionless=False):
    with CaptureQueriesContext(connection) as captured:
        yield
    sql = [q["sql"] for q in captured.captured_queries]
    control = [q for q in sql if CONTROL.match(q)]
    commits = len([q for q in control if q.upper().startswith("COMMIT")])
    # One transaction, whose BEGIN psycopg sends unlogged; or, for an operation
    # that is one statement on PostgreSQL, none at all.
    begin = 0 if not commits or any(q.upper().startswith("BEGIN") for q in control) else 1
    assert len(sql) + begin <= limit, "\n".join(sql)
    assert commits == (0 if transactionless else 1), "\n".join(sql)


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
    yield alice.wallet, bob.wallet
    for cache in (risk.active_rules, fees.active_policies):
        cache.changed()  # the rows this test saw are flushed with its database


def test_deposit(loaded):
    wallet, _ = loaded
    with assert_max_statements(single_wallet_budget(), transactionless=one_statement()):
        wallet.deposit(5)
    assert wallet.balance == 105


def test_withdrawal(loaded):
    wallet, _ = loaded
    with assert_max_statements(single_wallet_budget(), transactionless=one_statement()):
        wallet.withdraw(5)
    assert wallet.balance == 95


def test_pending_withdrawal(loaded):
    wallet, _ = loaded
    with assert_max_statements(single_wallet_budget(), transactionless=one_statement()):
        wallet.withdraw(5, confirmed=False)
    assert (wallet.balance, wallet.held) == (100, 5)


def test_transfer(loaded):
    source, destination = loaded
    with assert_max_statements(transfer_budget(), transactionless=one_statement()):
        transfer = source.transfer(destination, 5)
    assert (source.balance, destination.balance) == (95, 6)
    stored = Transfer.objects.select_related("withdraw", "deposit").get(pk=transfer.pk)
    assert (stored.withdraw.pk, stored.deposit.pk) == (transfer.withdraw.pk, transfer.deposit.pk)
    assert (stored.withdraw.wallet_id, stored.withdraw.amount) == (source.pk, -5)
    assert (stored.deposit.wallet_id, stored.deposit.amount) == (destination.pk, 5)
    assert (stored.withdraw.balance_after, stored.deposit.balance_after) == (95, 6)
    stored_wallets = Wallet.objects.filter(pk__in=[w.pk for w in loaded]).order_by("pk")
    assert [w.balance for w in stored_wallets] == [95, 6]


def test_an_idempotency_key_adds_at_most_two(loaded):
    source, destination = loaded
    with assert_max_statements((3 if one_statement() else 6) + 2):
        source.transfer(destination, 5, idempotency_key="t-1")
    with assert_max_statements((3 if one_statement() else 5) + 2):
        source.deposit(5, idempotency_key="d-1")
    assert (source.balance, destination.balance) == (100, 6)


def test_the_one_statement_paths_write_nothing_when_refused(loaded):
    """The conditional UPDATE refuses, so the INSERT it feeds writes no row,
    and the refusal is explained as the slower path would explain it."""
    from wallets.exceptions import InsufficientFunds, WalletFrozen
    from wallets.swappable import get_transaction_model

    Transaction = get_transaction_model()
    wallet, other = loaded
    rows = Transaction.objects.count()
    with pytest.raises(InsufficientFunds, match=r"100 .* available"):
        wallet.withdraw(101)
    Wallet.objects.filter(pk=other.pk).update(is_frozen=True)
    with pytest.raises(WalletFrozen):
        Wallet.objects.get(pk=other.pk).deposit(5)
    assert Transaction.objects.count() == rows
    stored_wallets = Wallet.objects.filter(pk__in=[wallet.pk, other.pk]).order_by("pk")
    assert [w.balance for w in stored_wallets] == [100, 1]
    tx = wallet.withdraw(40)
    stored = Transaction.objects.get(pk=tx.pk)
    assert (stored.wallet_id, stored.amount, stored.balance_after) == (wallet.pk, -40, 60)
    assert (stored.uuid, stored.created_at) == (tx.uuid, tx.created_at)


def test_a_holders_balance_is_one_read(loaded, django_assert_num_queries):
    wallet, _ = loaded
    holder = User.objects.get(username="alice")
    newcomer = User.objects.create_user(username="carol", email="c@example.com")
    with django_assert_num_queries(1):
        assert str(holder.balance) == "100"  # as the ORM reads it: no trailing zeros
    with django_assert_num_queries(1):
        assert newcomer.balance == 0  # never opened, and still not opened
    assert not newcomer.has_wallet("default")
    wallet.deposit("0.25")
    assert holder.balance == Decimal("100.25")
