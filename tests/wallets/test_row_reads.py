"""A wallet's newest rows, read by a statement compiled once and built off the ORM's
slow path, are the rows the ORM returns: same values, same types, same zones."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext, override_settings

from wallets.selectors import last_transactions, transaction_history
from wallets.services import wallet_service
from wallets.swappable import get_transaction_model

Transaction = get_transaction_model()

pytestmark = pytest.mark.django_db


def as_orm_reads(rows):
    return [
        [(f.attname, getattr(row, f.attname)) for f in row._meta.concrete_fields] for row in rows
    ]


def value_types(rows):
    return [[type(value) for _, value in row] for row in as_orm_reads(rows)]


@pytest.fixture
def varied_history(alice, bob):
    """Deposits, a transfer, a pending row, a rejected one and a reversal: every
    column holds a value somewhere, NULLs and trailing-zero amounts included."""
    alice.deposit(Decimal("100.10"), meta={"reference": "first", "nested": {"n": [1, 2]}})
    alice.transfer(bob, Decimal("7"))
    pending = alice.withdraw(Decimal("3.5"), confirmed=False)
    rejected = alice.deposit(Decimal("0.01"), confirmed=False)
    wallet_service().reject_transaction(rejected, reason="not received")
    reversed_row = alice.deposit(Decimal(12))
    wallet_service().reverse_transaction(reversed_row, meta={"reason": "duplicate"})
    return pending


def test_the_newest_rows_are_the_orm_rows(alice, varied_history):
    ours = last_transactions(alice.wallet, 50)
    theirs = list(transaction_history(alice.wallet)[:50])
    assert [row.pk for row in ours] == [row.pk for row in theirs]
    assert len(ours) == 6
    assert as_orm_reads(ours) == as_orm_reads(theirs)
    # Equal is not enough: 7 and 7.000 are equal decimals, UTC and a zone named
    # UTC are equal zones. The display depends on which.
    assert value_types(ours) == value_types(theirs)
    for mine, orm in zip(ours, theirs, strict=True):
        assert str(mine.amount) == str(orm.amount)
        assert str(mine.balance_after) == str(orm.balance_after)
        assert mine.created_at.tzinfo is orm.created_at.tzinfo
        assert mine.meta == orm.meta
    assert {row.state for row in ours} >= {"pending", "rejected", "confirmed"}
    assert any(row.reversal_of_id for row in ours)


def test_rows_are_saved_rows_of_this_wallet_and_need_no_more_queries(alice, varied_history):
    with CaptureQueriesContext(connection) as reads:
        rows = last_transactions(alice.wallet, 3)
        wallets = [row.wallet for row in rows]
    assert len(reads.captured_queries) == 1
    assert len(rows) == 3
    assert all(wallet is alice.wallet for wallet in wallets)
    assert all(not row._state.adding and row._state.db == "default" for row in rows)
    # A row read this way behaves as any loaded row: it refreshes and resolves.
    (pending,) = [row for row in last_transactions(alice.wallet, 50) if row == varied_history]
    wallet_service().confirm_transaction(pending)
    pending.refresh_from_db()
    assert pending.state == "confirmed"


def test_page_sizes_and_empty_wallets(alice, bob):
    for n in range(1, 6):
        alice.deposit(n)
    assert [row.amount for row in last_transactions(alice.wallet, 2)] == [5, 4]
    assert [row.amount for row in last_transactions(alice.wallet, 10)] == [5, 4, 3, 2, 1]
    assert last_transactions(alice.wallet, 0) == []
    assert last_transactions(bob.wallet, 50) == []
    assert len(last_transactions(alice.wallet, 1000)) == 5


@pytest.mark.parametrize("count", [1001, "50", 2.5, True])
def test_a_page_size_out_of_bounds_is_refused(alice, count):
    # Each size keeps a compiled statement on the connection: sizes are bounded.
    with pytest.raises(ValueError, match="0 to 1000"):
        last_transactions(alice.wallet, count)


def test_a_model_with_init_receivers_is_built_by_the_orm(alice):
    alice.deposit(5)
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=Transaction)
    try:
        rows = last_transactions(alice.wallet, 50)
    finally:
        post_init.disconnect(receiver, sender=Transaction)
    assert seen == rows and len(rows) == 1
    assert rows[0].wallet is alice.wallet and not rows[0]._state.adding


@override_settings(USE_TZ=False)
def test_naive_timestamps_when_the_project_keeps_none(alice):
    alice.deposit(5)
    (ours,) = last_transactions(alice.wallet, 1)
    (theirs,) = transaction_history(alice.wallet)[:1]
    assert ours.created_at.tzinfo is None
    assert ours.created_at == theirs.created_at


@pytest.mark.django_db(transaction=True)
def test_each_thread_reads_through_its_own_connection(alice):
    """Compiled statements hold their connection's converters, so each
    connection (one per thread) compiles its own: a statement from another
    thread would read through a connection that thread does not own."""
    alice.deposit(Decimal("1.50"))
    last_transactions(alice.wallet, 50)  # compiled here first
    assert connection._wallets_newest_rows  # kept on this thread's connection
    found, errors = [], []

    def read():
        try:
            found.extend(last_transactions(alice.wallet, 50))
        except Exception as error:  # reported below, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    reader = threading.Thread(target=read)
    reader.start()
    reader.join()
    assert errors == []
    assert [str(row.amount) for row in found] == ["1.5"]
