from decimal import Decimal

import pytest

from wallets.exceptions import IdempotencyConflict
from wallets.services import PurchaseService, TransferService, WalletService
from wallets.swappable import get_transaction_model, get_transfer_model

Transaction = get_transaction_model()
Transfer = get_transfer_model()

pytestmark = pytest.mark.django_db


def test_same_key_same_arguments_returns_the_first_result(alice, bob):
    first = alice.deposit(10, idempotency_key="dep-1")
    again = alice.deposit(10, idempotency_key="dep-1")
    assert again.pk == first.pk
    assert alice.balance == 10
    transfer = alice.transfer(bob, 4, idempotency_key="tr-1")
    assert alice.transfer(bob, 4, idempotency_key="tr-1").pk == transfer.pk
    assert (alice.balance, bob.balance) == (6, 4)
    assert Transfer.objects.count() == 1


def test_same_key_other_arguments_conflicts(alice, bob):
    alice.deposit(10, idempotency_key="k")
    with pytest.raises(IdempotencyConflict):
        alice.deposit(11, idempotency_key="k")
    with pytest.raises(IdempotencyConflict):
        alice.withdraw(10, idempotency_key="k")
    with pytest.raises(IdempotencyConflict):
        alice.transfer(bob, 1, idempotency_key="k")
    assert alice.balance == 10 and Transaction.objects.count() == 1


def test_keys_are_scoped_to_the_holder(alice, bob):
    alice.deposit(10, idempotency_key="same")
    bob.deposit(20, idempotency_key="same")
    assert (alice.balance, bob.balance) == (10, 20)


def test_every_money_operation_takes_a_key(alice, bob, item):
    alice.deposit(100)
    withdrawal = alice.withdraw(1, idempotency_key="w")
    assert alice.withdraw(1, idempotency_key="w").pk == withdrawal.pk
    payment = alice.pay(item, idempotency_key="p")
    assert PurchaseService.pay(alice, item, idempotency_key="p").pk == payment.pk
    cart = PurchaseService.pay(alice, [(item, 1)], idempotency_key="c")
    assert [t.pk for t in PurchaseService.pay(alice, [(item, 1)], idempotency_key="c")] == [
        cart[0].pk
    ]
    alice.get_wallet("eur", unit="EUR")
    exchange = alice.exchange("default", "eur", 1, idempotency_key="x")
    assert alice.exchange("default", "eur", 1, idempotency_key="x").pk == exchange.pk
    refund = TransferService.refund(payment, idempotency_key="r")
    assert TransferService.refund(payment, idempotency_key="r").pk == refund.pk
    deposit = alice.deposit(3)
    reversal = WalletService.reverse_transaction(deposit, idempotency_key="v")
    assert WalletService.reverse_transaction(deposit, idempotency_key="v").pk == reversal.pk
    # 100 - withdrawal 1 - payment 7.50 - cart 7.50 - exchange 1 + refund 7.50
    assert alice.balance == Decimal("90.50")


def test_a_retry_may_spell_the_amount_differently(alice, bob):
    alice.deposit(100)
    transfer = alice.transfer(bob, 40)
    refund = TransferService.refund(transfer, 10, idempotency_key="r1")
    assert TransferService.refund(transfer, "10.00", idempotency_key="r1").pk == refund.pk
    assert (
        alice.deposit("5.0", idempotency_key="d1").pk == alice.deposit(5, idempotency_key="d1").pk
    )
    assert alice.balance == 75
