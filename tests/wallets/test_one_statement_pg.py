"""Transfers and deposits that PostgreSQL runs as one statement, with no
transaction around it: they lock, check and write exactly as the locking path
would, refuse without writing, and lose nothing under real parallel load."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.parallel import run_parallel
from wallets.exceptions import InsufficientFunds, RiskLimitExceeded, WalletFrozen
from wallets.models import RiskRule
from wallets.reconciliation import reconcile_wallets
from wallets.services import transfer_service
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()
User = get_user_model()
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def make_user(name):
    return User.objects.create_user(username=name, email=f"{name}@example.com")


@pytest.fixture
def pair(settled_policy_caches):
    alice, bob = make_user("alice"), make_user("bob")
    alice.deposit(100)
    return alice.wallet, bob.wallet


def stored(*wallets):
    return [Wallet.objects.get(pk=w.pk).balance for w in wallets]


def ledger_rows():
    return Transaction.objects.count(), Transfer.objects.count()


def test_a_transfer_is_one_statement_that_writes_everything(pair):
    source, destination = pair
    with CaptureQueriesContext(connection) as captured:
        transfer = transfer_service().transfer(source, destination, "12.5")
    assert len(captured.captured_queries) == 1
    assert stored(source, destination) == [Decimal("87.5"), Decimal("12.5")]
    # The caller's wallets and the returned rows carry what was written.
    assert (source.balance, destination.balance) == (Decimal("87.5"), Decimal("12.5"))
    again = Transfer.objects.select_related("withdraw", "deposit").get(pk=transfer.pk)
    assert (again.withdraw_id, again.deposit_id) == (transfer.withdraw.pk, transfer.deposit.pk)
    assert (again.withdraw.amount, again.withdraw.balance_after) == (-Decimal("12.5"), 87.5)
    assert (again.deposit.amount, again.deposit.balance_after) == (Decimal("12.5"), 12.5)
    assert (again.from_wallet_id, again.to_wallet_id) == (source.pk, destination.pk)
    assert transfer.withdraw.balance_after == Decimal("87.5")
    assert reconcile_wallets() == []


def test_the_statement_text_repeats_and_stays_small_enough_to_stay_parsed(pair):
    """psycopg keeps a statement's parse between calls only for texts up to 4,096
    bytes with up to 50 parameters; re-parsing the transfer's took a tenth of it."""
    source, destination = pair
    sent = []

    def record(execute, sql, params, many, context):
        sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        transfer_service().transfer(source, destination, "1", meta={"note": "first"})
        transfer_service().transfer(destination, source, "0.5")
    (first_sql, first_params), (second_sql, second_params) = sent
    assert first_sql == second_sql
    assert len(first_sql.encode()) <= 4096 and len(first_params) <= 50
    assert len(first_params) == len(second_params)
    # The NULLs written into the text are stored as NULLs.
    legs = Transaction.objects.filter(wallet=source).exclude(meta={})
    assert [(tx.reversal_of_id, tx.expires_at, tx.meta) for tx in legs] == [
        (None, None, {"note": "first"})
    ]


@pytest.mark.parametrize(
    ("frozen", "error", "message"),
    [
        (None, InsufficientFunds, "100 USD available, 150 USD needed"),
        ("source", WalletFrozen, "is frozen"),
        ("destination", WalletFrozen, "is frozen"),
    ],
)
def test_a_refused_transfer_writes_nothing_and_says_why(pair, frozen, error, message):
    source, destination = pair
    if frozen:
        frozen_wallet = source if frozen == "source" else destination
        Wallet.objects.filter(pk=frozen_wallet.pk).update(is_frozen=True)
    before = ledger_rows()
    with pytest.raises(error, match=message):
        transfer_service().transfer(source, destination, 150 if frozen is None else 5)
    assert ledger_rows() == before
    assert stored(source, destination) == [100, 0]


def test_the_credit_limit_counts_as_available(pair):
    source, destination = pair
    Wallet.objects.filter(pk=source.pk).update(credit_limit=20)
    transfer_service().transfer(Wallet.objects.get(pk=source.pk), destination, 115)
    with pytest.raises(InsufficientFunds):
        transfer_service().transfer(Wallet.objects.get(pk=source.pk), destination, 6)
    assert stored(source, destination) == [-15, 115]


def test_a_risk_rule_for_the_source_is_judged_under_the_locks(pair):
    source, destination = pair
    RiskRule.objects.create(name="Small only", max_single=Decimal("10"))  # seen at once here
    with CaptureQueriesContext(connection) as captured:
        transfer_service().transfer(source, destination, 10)
    assert len(captured.captured_queries) > 1  # locked first, then judged and written
    with pytest.raises(RiskLimitExceeded):
        transfer_service().transfer(source, destination, 11)
    assert stored(source, destination) == [90, 10]


def test_parallel_transfers_out_of_one_wallet_move_exactly_what_it_had():
    rich = make_user("rich")
    rich.deposit(60)
    source = rich.wallet
    receivers = [make_user(f"r{i}").wallet for i in range(4)]

    def send(destination):
        return lambda: transfer_service().transfer(Wallet.objects.get(pk=source.pk), destination, 5)

    jobs = [send(receivers[i % 4]) for i in range(16)]
    results, errors = run_parallel(jobs, expected=(InsufficientFunds,))
    assert errors == []
    moved = [r for r in results if isinstance(r, Transfer)]
    assert len(moved) == 12  # 12 x 5 = 60; the other four find nothing left
    assert stored(source) == [0]
    assert sum(stored(*receivers)) == 60
    assert reconcile_wallets() == []


def test_crossing_transfers_between_many_wallets_never_deadlock():
    people = [make_user(f"p{i}") for i in range(4)]
    for person in people:
        person.deposit(100)
    wallets = [p.wallet for p in people]

    def ring(offset):
        def go():
            for step in range(10):
                a = wallets[(offset + step) % 4]
                b = wallets[(offset + step + 1 + step % 2) % 4]
                transfer_service().transfer(Wallet.objects.get(pk=a.pk), b, 3)

        return go

    _, errors = run_parallel([ring(i) for i in range(8)], expected=(InsufficientFunds,))
    assert errors == []
    assert sum(stored(*wallets)) == 400
    assert reconcile_wallets() == []
