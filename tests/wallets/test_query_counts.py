"""SQL statements per operation, counted at the top level as a request runs them
(``transaction=True``: no test savepoints around the operation), BEGIN and
COMMIT included.

The budget on PostgreSQL: a deposit or withdrawal 3 (one statement: the
conditional ``UPDATE … RETURNING`` and the INSERT it feeds), a transfer
between two loaded wallets 4 (lock both rows, then one statement inserts both
legs, updates both balances and inserts the transfer), and an idempotency key
at most 2 more. SQLite has no fast path for a single wallet (amounts are text
there): it reads the locked row first (5), and runs a transfer's three writes
one by one (6).
"""

import math
import re
from contextlib import contextmanager

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
    return 3 if connection.vendor == "postgresql" else 5


def transfer_budget() -> int:
    return 4 if connection.vendor == "postgresql" else 6


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
    with assert_max_statements(transfer_budget()):
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
    with assert_max_statements(transfer_budget() + 2):
        source.transfer(destination, 5, idempotency_key="t-1")
    with assert_max_statements(single_wallet_budget() + 2):
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
