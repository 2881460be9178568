"""The lock-order guard: locks taken out of the engine's fixed order fail loudly."""

import pytest
from django.db import transaction

from wallets.locking import LockOrderViolation, held_wallet_ids, lock_products, lock_wallets
from wallets.operations import Operation, run
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(alice, bob, club):
    wallets = [alice.wallet, bob.wallet, club.wallet]
    return sorted(wallets, key=lambda w: w.pk)


def test_a_lower_wallet_after_a_higher_one_is_refused(three):
    low, _middle, high = three
    with transaction.atomic():
        lock_wallets(high)
        with pytest.raises(LockOrderViolation, match=f"Wallet {low.pk} is locked after"):
            lock_wallets(low)


def test_locking_in_order_in_steps_and_again_is_allowed(three):
    low, middle, high = three
    with transaction.atomic():
        lock_wallets(middle, low)  # sorted by the helper itself
        lock_wallets(high)
        lock_wallets(low, high)  # already held: no new lock, no new risk
        assert held_wallet_ids() == {low.pk, middle.pk, high.pk}


def test_a_new_transaction_starts_with_nothing_held(three):
    low, _middle, high = three
    with transaction.atomic():
        lock_wallets(high)
    with transaction.atomic():
        lock_wallets(low)
        assert held_wallet_ids() == {low.pk}


def test_a_rolled_back_transaction_leaves_nothing_held(three):
    low, _middle, high = three
    with pytest.raises(RuntimeError), transaction.atomic():
        lock_wallets(high)
        raise RuntimeError
    with transaction.atomic():
        lock_wallets(low)


def test_an_operation_nested_in_another_obeys_the_outer_locks(three):
    """The mistake behind the old risk-rule deadlock: an inner operation that
    locks a wallet lower than one the outer operation already holds."""
    low, _middle, high = three

    def outer(context):
        return run(Operation("inner", wallets=[low]), lambda ctx: None)

    with pytest.raises(LockOrderViolation):
        run(Operation("outer", wallets=[high]), outer)
    # Declaring every wallet up front is the fix.
    run(Operation("outer", wallets=[high, low]), outer)


def test_sequential_operations_in_one_outer_transaction_are_checked_too(three):
    low, _middle, high = three
    with transaction.atomic():
        run(Operation("first", wallets=[high]), lambda ctx: None)
        with pytest.raises(LockOrderViolation):
            run(Operation("second", wallets=[low]), lambda ctx: None)


def test_a_product_after_a_wallet_is_refused(three, item):
    low, _middle, _high = three
    with transaction.atomic():
        lock_products([item])
        lock_wallets(low)
        lock_products([item])  # already held
    with transaction.atomic():
        lock_wallets(low)
        with pytest.raises(LockOrderViolation, match="products are locked first"):
            lock_products([item])


def test_services_only_lock_in_order(three):
    """Every service locks through the door: a transfer from the highest wallet
    to the lowest locks in primary-key order and succeeds."""
    low, _middle, high = three
    high.deposit(10)
    Wallet.objects.get(pk=high.pk).transfer(low, 3)
    assert Wallet.objects.get(pk=low.pk).balance == 3


def test_a_deposit_that_locks_by_update_obeys_the_order_too(three):
    """On PostgreSQL a deposit locks its row with its own UPDATE; the guard still
    refuses it after a higher wallet (elsewhere it locks with SELECT … FOR UPDATE)."""
    low, _middle, high = three

    def perform(context):
        low.deposit(1)

    with pytest.raises(LockOrderViolation):
        run(Operation("outer", wallets=[high]), perform)
    assert Wallet.objects.get(pk=low.pk).balance == 0
