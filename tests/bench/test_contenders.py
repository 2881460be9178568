"""Our engine's and the floor's ledger checks against real databases (SQLite)."""

from decimal import Decimal

import pytest
from django.db import connection, connections

from bench import invariants
from bench.counting import StatementCounter
from bench.floor import Floor, FloorInsufficientFunds
from bench.ours import Ours, OurWallet
from tests.testapp.models import Club
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()


@pytest.fixture
def floor(tmp_path):
    floor = Floor("sqlite", str(tmp_path / "floor.sqlite3"))
    yield floor
    floor.close()


def test_the_floor_moves_money_exactly_and_refuses_overdrafts(floor):
    source, destination = floor.open_wallets("t", 2, Decimal(0))
    floor.deposit(source, Decimal("10.00"))
    with floor.counting() as tally:
        floor.transfer(source, destination, Decimal("2.50"))
    assert tally.total == 7  # BEGIN, lock, 2 UPDATE, 2 INSERT, COMMIT
    assert tally.commit_seconds > 0
    with pytest.raises(FloorInsufficientFunds):
        floor.transfer(source, destination, Decimal("7.51"))
    floor.bulk_transfer([(source, destination, Decimal("1.25"))] * 4)
    assert floor.balances([source, destination]) == [Decimal("2.50"), Decimal("7.50")]
    assert invariants.ledger(floor).passed


def test_the_floor_ledger_check_fails_on_a_corrupted_balance(floor):
    (wallet,) = floor.open_wallets("t", 1, Decimal("5.00"))
    floor.connection.execute("UPDATE floor_wallet SET balance = balance + 1 WHERE id = ?", [wallet])
    check = invariants.ledger(floor)
    assert not check.passed and f"floor wallet {wallet}" in check.detail


@pytest.mark.django_db
def test_our_reconciliation_check_fails_on_a_corrupted_wallet():
    holder = Club.objects.create(name="bench")
    ours = Ours()
    wallet = OurWallet(holder, holder.get_wallet())
    ours.deposit(wallet, Decimal("10.00"))
    assert invariants.ledger(ours).passed
    assert invariants.conservation(ours, [wallet], Decimal("10.00")).passed
    # Behind the engine's back: the stored balance no longer matches its ledger.
    Wallet.objects.filter(pk=wallet.wallet.pk).update(balance=Decimal("10.01"))
    check = invariants.ledger(ours)
    assert not check.passed and "balance is 10.01" in check.detail
    assert not invariants.conservation(ours, [wallet], Decimal("10.00")).passed


@pytest.mark.django_db
def test_an_overdrawn_wallet_fails_the_overdraft_check():
    holder = Club.objects.create(name="bench")
    ours = Ours()
    wallet = OurWallet(holder, holder.get_wallet())
    assert invariants.no_overdraft(ours, [wallet]).passed
    holder.force_withdraw(Decimal("1.00"))
    assert not invariants.no_overdraft(ours, [wallet]).passed


@pytest.mark.django_db(transaction=True)
def test_the_statement_counter_counts_begin_and_commit():
    holder = Club.objects.create(name="bench")
    wallet = holder.get_wallet()
    with StatementCounter(connection) as counter:
        # A key makes it a transaction on every database (it is claimed first).
        wallet.deposit(Decimal("1.00"), idempotency_key="counted")
    assert (counter.begins, counter.commits, counter.rollbacks) == (1, 1, 0)
    assert counter.total == counter.statements + 2 >= 4
    assert counter.commit_seconds > 0  # the COMMIT is timed as well as counted
    assert any("INSERT INTO" in sql for sql in counter.sql)
    with StatementCounter(connection) as counter:
        wallet.deposit(Decimal("1.00"))
    if connection.vendor == "postgresql":
        # One statement, atomic by itself: no BEGIN or COMMIT around it.
        assert (counter.begins, counter.commits, counter.total) == (0, 0, 1)
    else:
        assert (counter.begins, counter.commits) == (1, 1)
    wrapper = connections["default"]
    assert "_commit" not in vars(wrapper) and counter not in wrapper.execute_wrappers
