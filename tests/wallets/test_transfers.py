from decimal import Decimal

import pytest

from tests.testapp.models import Org
from wallets.exceptions import (
    AlreadyRefunded,
    InsufficientFunds,
    RefundExceedsTransfer,
    SameWallet,
    TransferNotRefundable,
    UnitMismatch,
    WalletFrozen,
)
from wallets.services import TransferService
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

pytestmark = pytest.mark.django_db


def test_transfer_to_a_holder_or_a_wallet(alice, bob, org):
    alice.deposit(100)
    transfer = alice.transfer(bob, "40.00", meta={"note": "rent"})
    assert (alice.balance, bob.balance) == (60, 40)
    assert transfer.kind == Transfer.Kind.TRANSFER
    assert (transfer.amount, transfer.received) == (40, 40)
    assert transfer.withdraw.amount == -40 and transfer.deposit.amount == 40
    assert transfer.withdraw.wallet == alice.wallet and transfer.deposit.wallet == bob.wallet
    assert transfer.meta == {"note": "rent"}
    alice.transfer(org.wallet, 10)
    assert org.balance == 10


def test_transfer_refusals_change_nothing(alice, bob):
    alice.deposit(10)
    euros = bob.get_wallet("eur", unit="EUR")
    before = Transaction.objects.count()
    with pytest.raises(InsufficientFunds):
        alice.transfer(bob, 11)
    with pytest.raises(UnitMismatch):
        alice.transfer(euros, 1)
    with pytest.raises(SameWallet):
        alice.transfer(alice, 1)
    bob.freeze_wallet(reason="KYC")
    with pytest.raises(WalletFrozen):
        alice.transfer(bob, 1)
    assert Transaction.objects.count() == before
    assert alice.balance == 10 and bob.balance == 0


def test_refund_in_full_returns_everything_once(alice, bob):
    alice.deposit(100)
    transfer = alice.transfer(bob, 40)
    refund = TransferService.refund(transfer)
    assert (alice.balance, bob.balance) == (100, 0)
    assert refund.kind == Transfer.Kind.REFUND and refund.refund_of == transfer
    assert transfer.kind == Transfer.Kind.TRANSFER
    assert transfer.refund_state == Transfer.RefundState.FULL
    with pytest.raises(AlreadyRefunded):
        TransferService.refund(transfer)
    with pytest.raises(TransferNotRefundable):
        TransferService.refund(refund)
    assert (alice.balance, bob.balance) == (100, 0)


def test_partial_refunds_up_to_what_is_left(alice, bob):
    alice.deposit(100)
    transfer = alice.transfer(bob, 40)
    TransferService.refund(transfer, "15.50")
    assert transfer.refund_state == Transfer.RefundState.PARTIAL
    assert transfer.refunded_amount == Decimal("15.50")
    with pytest.raises(RefundExceedsTransfer, match=r"24\.5"):
        TransferService.refund(transfer, "24.51")
    TransferService.refund(transfer, "24.50")
    assert transfer.refund_state == Transfer.RefundState.FULL
    assert (alice.balance, bob.balance) == (100, 0)


def test_refund_needs_the_recipients_funds(alice, bob, org):
    alice.deposit(50)
    transfer = alice.transfer(bob, 50)
    bob.transfer(org, 45)
    with pytest.raises(InsufficientFunds):
        TransferService.refund(transfer)
    assert transfer.refund_state == Transfer.RefundState.NONE
    TransferService.refund(transfer, force=True)
    assert (alice.balance, bob.balance) == (50, -45)


def test_exchange_refund_returns_exactly_what_left_the_source(alice, settings):
    settings.WALLETS = {**settings.WALLETS, "EXCHANGE_RATES": {("USD", "EUR"): "0.923"}}
    alice.deposit(100)
    euros = alice.get_wallet("eur", unit="EUR")
    exchange = alice.exchange("default", "eur", "10.01")
    assert exchange.kind == Transfer.Kind.EXCHANGE
    assert exchange.received == Decimal("9.23")  # 9.23923 rounded down
    TransferService.refund(exchange, "3.33")
    TransferService.refund(exchange, "3.33")
    TransferService.refund(exchange)
    exchange.refresh_from_db()
    assert exchange.kind == Transfer.Kind.EXCHANGE
    assert exchange.refund_state == Transfer.RefundState.FULL
    assert alice.balance == 100
    assert Wallet.objects.get(pk=euros.pk).balance == 0
    given_back = sum(r.amount for r in exchange.refunds.all())
    returned = sum(r.received for r in exchange.refunds.all())
    assert (given_back, returned) == (Decimal("9.23"), Decimal("10.01"))


def test_gift_pays_for_a_product_that_someone_else_receives(alice, bob, item):
    alice.deposit(20)
    gift = alice.gift(bob, item)
    assert gift.kind == Transfer.Kind.GIFT
    assert gift.meta["gift_for"] == f"{bob._meta.label_lower}:{bob.pk}"
    assert alice.balance == Decimal("12.50")
    assert item.seller.balance == Decimal("7.50")
    assert bob.balance == 0
    TransferService.refund(gift)
    assert alice.balance == 20
    gift.refresh_from_db()
    assert gift.kind == Transfer.Kind.GIFT and gift.refund_state == "full"


def test_transfers_between_holders_of_every_key_type(alice, org, club, tag):
    alice.deposit(30)
    for holder in (org, club, tag):
        alice.transfer(holder, 10)
    assert [h.balance for h in (org, club, tag)] == [10, 10, 10]
    assert Org.objects.get(pk=org.pk).balance == 10
