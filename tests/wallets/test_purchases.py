from decimal import Decimal

import pytest

from tests.testapp.models import Item, Voucher
from wallets.exceptions import (
    AmountInvalid,
    InsufficientFunds,
    ProductNotAvailable,
    WalletFrozen,
)
from wallets.services import PurchaseService, TransferService
from wallets.swappable import get_transaction_model, get_transfer_model

Transaction = get_transaction_model()
Transfer = get_transfer_model()

pytestmark = pytest.mark.django_db


def test_pay_for_a_product(alice, item):
    alice.deposit(20)
    transfer = alice.pay(item, quantity=2)
    assert transfer.kind == Transfer.Kind.PAID
    assert transfer.amount == 15
    assert transfer.meta["product"] == {"item": item.pk, "name": "Mug"}
    assert transfer.meta["quantity"] == 2 and transfer.meta["unit_price"] == "7.50"
    assert alice.balance == 5 and item.seller.balance == 15
    assert Item.objects.get(pk=item.pk).stock == 1


def test_a_product_that_is_a_holder_is_paid_into_its_own_wallet(alice):
    voucher = Voucher.objects.create(name="Voucher")
    alice.deposit(5)
    alice.pay(voucher)
    assert voucher.balance == Decimal("2.50")


def test_cart_is_one_atomic_operation(alice, item, org):
    other = Item.objects.create(name="Tea", price="3.00", stock=None, seller=org)
    alice.deposit(100)
    transfers = PurchaseService.pay(alice, [(item, 1), (other, 3)])
    assert [t.amount for t in transfers] == [Decimal("7.50"), Decimal("9.00")]
    assert alice.balance == Decimal("83.50")
    assert org.balance == Decimal("16.50")


def test_cart_with_one_unavailable_line_charges_nothing(alice, item, org):
    gone = Item.objects.create(name="Gone", price="1.00", stock=0, seller=org)
    alice.deposit(100)
    with pytest.raises(ProductNotAvailable, match="Gone"):
        PurchaseService.pay(alice, [(item, 1), (gone, 1)])
    assert alice.balance == 100
    assert Item.objects.get(pk=item.pk).stock == 3
    assert Transfer.objects.count() == 0


def test_cart_refusals(alice, item, org):
    alice.deposit(10)
    before = Transaction.objects.count()
    with pytest.raises(InsufficientFunds):
        PurchaseService.pay(alice, [(item, 2)])
    with pytest.raises(ProductNotAvailable):
        alice.pay(item, quantity=4)
    with pytest.raises(AmountInvalid):
        alice.pay(item, quantity=0)
    with pytest.raises(AmountInvalid):
        PurchaseService.pay(alice, [])
    org.freeze_wallet(reason="Merchant under review")
    with pytest.raises(WalletFrozen):
        alice.pay(item)
    assert Transaction.objects.count() == before
    assert Item.objects.get(pk=item.pk).stock == 3


def test_refund_of_a_payment_keeps_its_kind(alice, item):
    alice.deposit(10)
    payment = alice.pay(item)
    TransferService.refund(payment)
    payment.refresh_from_db()
    assert payment.kind == Transfer.Kind.PAID
    assert payment.refund_state == Transfer.RefundState.FULL
    assert alice.balance == 10
