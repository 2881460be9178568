"""Fees under concurrency on PostgreSQL: real threads, each with its own
connection, through the services as the portal calls them. The fee wallet
joins each operation's locks in primary-key order, so payers that all pay
into one fee wallet queue on it and never deadlock."""

import math
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.parallel import run_parallel
from tests.testapp.models import Org
from wallets import fees, risk
from wallets.exceptions import InsufficientFunds
from wallets.models import FeeCharge, FeePolicy
from wallets.reconciliation import reconcile_wallets
from wallets.services import transfer_service
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()
User = get_user_model()
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = Decimal
CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


def make_user(name):
    return User.objects.create_user(username=name, email=f"{name}@example.com")


def total() -> Decimal:
    return sum((w.balance for w in Wallet.objects.all()), D(0))


@pytest.fixture
def house(settings):
    org = Org.objects.create(name="Platform")
    settings.WALLETS = {**getattr(settings, "WALLETS", {}), "FEE_WALLET": lambda unit: org}
    return org


@pytest.mark.parametrize("fee_wallet_first", [True, False])
def test_parallel_payers_into_one_fee_wallet_never_deadlock(house, fee_wallet_first):
    """The fee wallet has the lowest primary key, or the highest: either way."""
    if fee_wallet_first:
        house.get_wallet()
    payers = [make_user(f"payer{i}") for i in range(6)]
    receivers = [make_user(f"receiver{i}") for i in range(2)]
    for user in (*payers, *receivers):
        user.deposit(100)
    fee_wallet = house.get_wallet()
    FeePolicy.objects.create(name="Card", percent=D("2.9"), fixed=D("0.30"))
    before = total()

    def pay(payer, index):
        def run():
            service = transfer_service()
            done = []
            for n in range(4):
                receiver = receivers[(index + n) % 2]
                done.append(service.transfer(payer, receiver, D("10")))
                # And some back the other way: the receivers pay fees too.
                done.append(service.transfer(receiver, payer, D("1")))
            return done

        return run

    results, errors = run_parallel([pay(p, i) for i, p in enumerate(payers)])
    assert errors == []
    assert len(results) == len(payers)
    # 10 -> 0.29 + 0.30 = 0.59; 1 -> 0.03 + 0.30 = 0.33 (0.029 rounds half up to 0.03)
    charges = FeeCharge.objects.filter(refund_of=None)
    assert charges.count() == len(payers) * 8
    expected_fees = len(payers) * 4 * (D("0.59") + D("0.33"))
    assert Wallet.objects.get(pk=fee_wallet.pk).balance == expected_fees
    for payer in payers:
        assert Wallet.objects.get(pk=payer.wallet.pk).balance == D(100) - 4 * (
            D("10.59") - D("1")
        )
    assert total() == before
    assert reconcile_wallets() == []
    call_command("wallets_reconcile")


def test_parallel_payers_never_overdraw_counting_the_fee(house):
    payer = make_user("payer")
    receiver = make_user("receiver")
    payer.deposit(D("50"))
    house.get_wallet()
    FeePolicy.objects.create(name="Flat", fixed=D("1"))

    def send():
        return transfer_service().transfer(payer, receiver, D("9"))

    results, errors = run_parallel([send for _ in range(8)], expected=(InsufficientFunds,))
    assert errors == []
    sent = [r for r in results if not isinstance(r, InsufficientFunds)]
    assert len(sent) == 5  # 5 x (9 + 1) = 50
    assert Wallet.objects.get(pk=payer.wallet.pk).balance == 0
    assert Wallet.objects.get(pk=house.wallet.pk).balance == D("5")
    assert reconcile_wallets() == []


@pytest.fixture(autouse=True)
def forget_primed_caches():
    """Tests here prime the fee and risk caches as a running process holds
    them; the rows they saw are flushed with the test database."""
    yield
    for cache in (risk.active_rules, fees.active_policies):
        cache.changed()


def statements(action) -> int:
    with CaptureQueriesContext(connection) as captured:
        action()
    sql = [q["sql"] for q in captured.captured_queries]
    # psycopg sends a transaction's BEGIN unlogged; a one-statement operation has none.
    in_transaction = any(q.upper().startswith("COMMIT") for q in sql)
    begin = 0 if not in_transaction or any(q.upper().startswith("BEGIN") for q in sql) else 1
    return len(sql) + begin


def test_statement_counts_with_and_without_a_fee(house):
    alice, bob = make_user("alice"), make_user("bob")
    alice.deposit(100)
    bob.deposit(1)
    house.get_wallet()
    for cache in (risk.active_rules, fees.active_policies):
        cache.changed_at = cache.read_at = -math.inf
        cache.get()
    # Without a fee each is one statement, atomic without a transaction around it.
    assert statements(lambda: alice.wallet.transfer(bob.wallet, 5)) == 1
    assert statements(lambda: alice.wallet.withdraw(1)) == 1
    FeePolicy.objects.create(name="Card", percent=D("1"), applies_to_withdrawals=True)
    fees.active_policies.changed_at = fees.active_policies.read_at = -math.inf
    fees.active_policies.get()
    # The fee: its two legs, one more balance UPDATE, the charge row, and
    # finding the fee wallet (WALLETS["FEE_WALLET"] names a holder).
    assert statements(lambda: alice.wallet.transfer(bob.wallet, 5)) == 8
    assert statements(lambda: alice.wallet.withdraw(1)) == 9


def test_a_policy_naming_its_fee_wallet_needs_no_lookup(house):
    alice, bob = make_user("alice"), make_user("bob")
    alice.deposit(100)
    bob.deposit(1)
    FeePolicy.objects.create(name="Card", percent=D("1"), fee_wallet=house.get_wallet())
    for cache in (risk.active_rules, fees.active_policies):
        cache.changed_at = cache.read_at = -math.inf
        cache.get()
    # Four, plus the fee's two legs, one balance UPDATE and the charge row.
    assert statements(lambda: alice.wallet.transfer(bob.wallet, 5)) == 7
    assert Wallet.objects.get(pk=house.wallet.pk).balance == D("0.05")
