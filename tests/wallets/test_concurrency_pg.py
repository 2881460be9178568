"""Concurrency on PostgreSQL: real threads, each with its own database connection,
released together by a barrier so the operations really overlap."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from tests.parallel import run_parallel as run_in_parallel
from tests.testapp.models import Item, Org
from tests.wallets.conftest import engine_permissions
from wallets.exceptions import (
    InsufficientFunds,
    ProductNotAvailable,
    RefundExceedsTransfer,
    RiskLimitExceeded,
)
from wallets.models import AuditEntry, RiskRule, TransferHold
from wallets.reconciliation import reconcile_wallets
from wallets.selectors import sum_amounts
from wallets.services import TransferService, transfer_service, wallet_service
from wallets.staff import StaffActor
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

User = get_user_model()
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
EXPECTED = (InsufficientFunds, ProductNotAvailable, RefundExceedsTransfer, RiskLimitExceeded)


def run_parallel(jobs):
    return run_in_parallel(jobs, expected=EXPECTED)


def make_user(name):
    return User.objects.create_user(username=name, email=f"{name}@example.com")


def fresh(wallet):
    return Wallet.objects.get(pk=wallet.pk)


def test_we_really_are_on_postgresql():
    assert connection.vendor == "postgresql"


def test_parallel_deposits_lose_no_update():
    alice = make_user("alice")
    wallet = alice.wallet

    def deposit_many():
        for _ in range(10):
            Wallet.objects.get(pk=wallet.pk).deposit("0.10")

    _, errors = run_parallel([deposit_many] * 8)
    assert errors == []
    assert fresh(wallet).balance == Decimal("8.00")
    assert reconcile_wallets() == []


def test_parallel_withdrawals_never_overdraw():
    alice = make_user("alice")
    alice.deposit(100)
    wallet = alice.wallet
    results, errors = run_parallel(
        [lambda: Wallet.objects.get(pk=wallet.pk).withdraw(15) for _ in range(12)]
    )
    assert errors == []
    succeeded = [r for r in results if isinstance(r, Transaction)]
    assert len(succeeded) == 6  # 6 x 15 = 90; a seventh would overdraw
    assert fresh(wallet).balance == 10
    assert reconcile_wallets() == []


def test_transfers_in_both_directions_never_deadlock():
    alice, bob = make_user("alice"), make_user("bob")
    alice.deposit(500)
    bob.deposit(500)
    a, b = alice.wallet, bob.wallet

    def a_to_b():
        for _ in range(15):
            TransferService.transfer(Wallet.objects.get(pk=a.pk), b, 7)

    def b_to_a():
        for _ in range(15):
            TransferService.transfer(Wallet.objects.get(pk=b.pk), a, 5)

    _, errors = run_parallel([a_to_b, b_to_a, a_to_b, b_to_a])
    assert errors == []
    assert fresh(a).balance == 500 - 2 * 15 * 7 + 2 * 15 * 5
    assert fresh(a).balance + fresh(b).balance == 1000
    assert Transfer.objects.count() == 60
    assert reconcile_wallets() == []


def test_parallel_refunds_never_return_more_than_was_paid():
    alice, bob = make_user("alice"), make_user("bob")
    alice.deposit(100)
    transfer = alice.transfer(bob, 100)
    results, errors = run_parallel(
        [lambda: TransferService.refund(Transfer.objects.get(pk=transfer.pk), 30)] * 6
    )
    assert errors == []
    assert len([r for r in results if isinstance(r, Transfer)]) == 3  # 90 of 100
    transfer.refresh_from_db()
    assert transfer.refunded_amount == 90
    assert (alice.balance, bob.balance) == (90, 10)
    assert reconcile_wallets() == []


def test_parallel_exchanges_both_ways(settings):
    settings.WALLETS = {**settings.WALLETS, "EXCHANGE_RATES": {"USD:EUR": "0.5", "EUR:USD": "2"}}
    alice = make_user("alice")
    alice.deposit(100)
    euros = alice.get_wallet("eur", unit="EUR")
    euros.deposit(100)

    def to_euros():
        for _ in range(10):
            User.objects.get(pk=alice.pk).exchange("default", "eur", 4)

    def to_dollars():
        for _ in range(10):
            User.objects.get(pk=alice.pk).exchange("eur", "default", 2)

    _, errors = run_parallel([to_euros, to_dollars, to_euros, to_dollars])
    assert errors == []
    # Every USD 4 -> EUR 2 is matched by an EUR 2 -> USD 4: balances return.
    assert alice.balance == 100
    assert fresh(euros).balance == 100
    assert reconcile_wallets() == []


def test_the_last_items_are_sold_once_to_parallel_buyers():
    seller = Org.objects.create(name="Shop")
    item = Item.objects.create(name="Last mugs", price="5.00", stock=3, seller=seller)
    buyers = [make_user(f"buyer{i}") for i in range(10)]
    for buyer in buyers:
        buyer.deposit(10)
    results, errors = run_parallel(
        [lambda b=b: User.objects.get(pk=b.pk).pay(Item.objects.get(pk=item.pk)) for b in buyers]
    )
    assert errors == []
    assert len([r for r in results if isinstance(r, Transfer)]) == 3
    assert len([r for r in results if isinstance(r, ProductNotAvailable)]) == 7
    assert Item.objects.get(pk=item.pk).stock == 0
    assert seller.balance == 15
    assert reconcile_wallets() == []


def test_carts_to_several_merchants_in_opposite_orders_never_deadlock():
    shop_a, shop_b = Org.objects.create(name="A"), Org.objects.create(name="B")
    a = Item.objects.create(name="a", price="1.00", stock=None, seller=shop_a)
    b = Item.objects.create(name="b", price="1.00", stock=None, seller=shop_b)
    buyers = [make_user(f"buyer{i}") for i in range(4)]
    for buyer in buyers:
        buyer.deposit(100)

    from wallets.services import PurchaseService

    def cart_job(buyer, order):
        def run():
            for _ in range(5):
                PurchaseService.pay(User.objects.get(pk=buyer.pk), order)

        return run

    jobs = [cart_job(buyers[i], [(a, 1), (b, 1)] if i % 2 else [(b, 1), (a, 1)]) for i in range(4)]
    _, errors = run_parallel(jobs)
    assert errors == []
    assert (shop_a.balance, shop_b.balance) == (20, 20)
    assert reconcile_wallets() == []


def test_get_wallet_is_race_safe():
    alice = make_user("alice")
    results, errors = run_parallel(
        [lambda: User.objects.get(pk=alice.pk).get_wallet("gems", unit="GEM")] * 8
    )
    assert errors == []
    assert len({w.pk for w in results}) == 1
    assert Wallet.objects.filter(slug="gems").count() == 1


def test_one_idempotency_key_moves_money_once_under_parallel_retries():
    alice, bob = make_user("alice"), make_user("bob")
    alice.deposit(50)
    results, errors = run_parallel(
        [lambda: User.objects.get(pk=alice.pk).transfer(bob, 20, idempotency_key="pay-42")] * 8
    )
    assert errors == []
    assert len({t.pk for t in results}) == 1
    assert (alice.balance, bob.balance) == (30, 20)
    call_command("wallets_reconcile")


def test_configured_transfers_both_ways_with_active_rules_never_deadlock():
    """Through the transfer service the project configures, with a rule that
    passes, one that holds and one that refuses: the policy runs under the
    transfer's own locks, so opposite transfers queue instead of deadlocking."""
    RiskRule.objects.create(name="a generous cap", max_single=Decimal("1000"))
    RiskRule.objects.create(
        name="b review", max_single=Decimal("8"), on_breach=RiskRule.OnBreach.HOLD
    )
    RiskRule.objects.create(name="c refuse", max_single=Decimal("10"))
    alice, bob = make_user("alice"), make_user("bob")
    alice.deposit(1000)
    bob.deposit(1000)
    a, b = alice.wallet, bob.wallet
    service = transfer_service()
    amounts = [5, 9, 11] * 6

    def sender(source, destination):
        def run():
            outcomes = []
            for amount in amounts:
                try:
                    outcomes.append(
                        service.transfer(Wallet.objects.get(pk=source.pk), destination, amount)
                    )
                except RiskLimitExceeded as refused:
                    outcomes.append(refused)
            return outcomes

        return run

    results, errors = run_parallel([sender(a, b), sender(b, a), sender(a, b), sender(b, a)])
    assert errors == []
    outcomes = [o for batch in results for o in batch]
    assert len([o for o in outcomes if isinstance(o, Transfer)]) == 4 * 6
    assert len([o for o in outcomes if isinstance(o, TransferHold)]) == 4 * 6
    assert len([o for o in outcomes if isinstance(o, RiskLimitExceeded)]) == 4 * 6
    # Conservation: money only moved between the two; holds reserve exactly their amounts.
    assert fresh(a).balance + fresh(b).balance == 2000
    for wallet in (a, b):
        open_holds = TransferHold.objects.filter(from_wallet=wallet, state="held")
        assert open_holds.count() == 2 * 6
        assert fresh(wallet).held == sum_amounts(open_holds) == 2 * 6 * 9
    assert reconcile_wallets() == []


def test_one_staff_credit_submitted_twice_in_parallel_moves_once():

    alice = make_user("alice")
    alice.deposit(10)
    moderator = make_user("mod")
    moderator.is_staff = True
    moderator.save(update_fields=["is_staff"])
    moderator.user_permissions.add(
        *engine_permissions(["adjust_wallet"])
    )

    def credit():
        actor = StaffActor(User.objects.get(pk=moderator.pk), "goodwill")
        wallet = Wallet.objects.get(pk=alice.wallet.pk)
        return wallet_service().deposit(wallet, "5.00", actor=actor, idempotency_key="form-1")

    results, errors = run_parallel([credit] * 6)
    assert errors == []
    assert len({tx.pk for tx in results}) == 1
    assert fresh(alice.wallet).balance == 15
    assert AuditEntry.objects.count() == 1
    assert reconcile_wallets() == []


def test_parallel_bulk_transfers_over_the_same_wallets_never_deadlock():
    users = [make_user(f"bulk{i}") for i in range(6)]
    wallets = [u.wallet for u in users]
    wallet_service().bulk_deposit([(w, 1000) for w in wallets])

    def batch(offset):
        def run():
            fresh_wallets = list(Wallet.objects.filter(pk__in=[w.pk for w in wallets]))
            fresh_wallets.sort(key=lambda w: w.pk, reverse=bool(offset % 2))
            items = [(fresh_wallets[i % 6], fresh_wallets[(i + offset) % 6], 1) for i in range(60)]
            return transfer_service().bulk_transfer(items)

        return run

    results, errors = run_parallel([batch(1), batch(2), batch(3), batch(5)])
    assert errors == []
    assert sum(len(r) for r in results) == 240
    assert sum(fresh(w).balance for w in wallets) == 6000
    assert Transfer.objects.count() == 240
    assert reconcile_wallets() == []


def test_parallel_exchanges_into_a_new_wallet_open_it_once(settings):
    settings.WALLETS = {**settings.WALLETS, "EXCHANGE_RATES": {"USD:EUR": "0.5"}}
    alice = make_user("alice")
    alice.deposit(100)

    def exchange():
        return User.objects.get(pk=alice.pk).exchange("default", "eur", 10)

    results, errors = run_parallel([exchange] * 6)
    assert errors == []
    assert Wallet.objects.filter(slug="eur").count() == 1
    assert len(results) == 6 and alice.get_wallet("eur").balance == 30
    assert reconcile_wallets() == []


def test_parallel_withdrawals_never_go_below_the_credit_limit():

    alice = make_user("alice")
    alice.deposit(10)
    staff = make_user("mod")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    staff.user_permissions.add(
        *engine_permissions(["adjust_wallet"])
    )
    wallet_service().set_credit_limit(
        alice.wallet, 50, actor=StaffActor(User.objects.get(pk=staff.pk), "advance")
    )
    wallet = alice.wallet
    results, errors = run_parallel(
        [lambda: Wallet.objects.get(pk=wallet.pk).withdraw(7) for _ in range(12)]
    )
    assert errors == []
    succeeded = [r for r in results if isinstance(r, Transaction)]
    assert len(succeeded) == 8  # 8 x 7 = 56 <= 10 + 50; a ninth would pass -50
    assert fresh(wallet).balance == -46
    assert reconcile_wallets() == []


def test_parallel_buyers_of_a_product_without_a_wallet_never_oversell():
    from tests.testapp.models import Workshop
    from wallets.models import Purchase

    workshop = Workshop.objects.create(title="Last seats", price=Decimal("5.00"), seats=3)
    buyers = [make_user(f"learner{i}") for i in range(10)]
    for buyer in buyers:
        buyer.deposit(10)
    results, errors = run_parallel(
        [
            lambda b=b: User.objects.get(pk=b.pk).pay(Workshop.objects.get(pk=workshop.pk))
            for b in buyers
        ]
    )
    assert errors == []
    assert len([r for r in results if isinstance(r, Purchase)]) == 3
    assert len([r for r in results if isinstance(r, ProductNotAvailable)]) == 7
    assert Workshop.objects.get(pk=workshop.pk).seats == 0
    assert sum(fresh(b.wallet).balance for b in buyers) == 100 - 15
    assert reconcile_wallets() == []
