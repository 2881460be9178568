"""Products that hold no wallet and name no recipient: paying charges the buyer.

The dj-wallet README's own example (``DigitalCourse``), run as its README
does, plus carts, gifts, keys, refunds and a revenue wallet."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from tests.testapp.models import DigitalCourse, Item, Workshop
from wallets.exceptions import (
    AlreadyRefunded,
    InsufficientFunds,
    ProductNotAvailable,
    RefundExceedsTransfer,
)
from wallets.models import AuditEntry, Purchase
from wallets.reconciliation import reconcile_wallets
from wallets.selectors import sum_amounts
from wallets.services import PurchaseService
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

pytestmark = pytest.mark.django_db


def test_the_dj_wallet_readme_example(alice):
    course = DigitalCourse.objects.create(title="Django for wallets", price=Decimal("49.99"))
    alice.deposit(100)
    course = DigitalCourse.objects.get(id=course.id)

    # This single line checks balance, validates availability, and transfers funds
    try:
        transaction = alice.pay(course)
        print("Course purchased successfully!")
    except InsufficientFunds:
        print("Insufficient funds in wallet.")
    except ProductNotAvailable:
        print("This item is currently out of stock.")

    assert isinstance(transaction, Purchase)
    assert alice.balance == Decimal("50.01")
    assert (transaction.product, transaction.product_label) == (course, "Django for wallets")
    assert transaction.product_type == ContentType.objects.get_for_model(DigitalCourse)
    assert (transaction.quantity, transaction.unit_price) == (1, Decimal("49.99"))
    # The buyer's ledger names the product.
    withdraw = transaction.withdraw
    assert withdraw.wallet == alice.wallet and withdraw.amount == Decimal("-49.99")
    assert withdraw.meta["product"] == {"course_id": course.id}
    assert withdraw.meta["product_label"] == "Django for wallets"
    assert reconcile_wallets() == []


def test_refused_when_can_buy_says_no_and_when_funds_are_short(alice):
    workshop = Workshop.objects.create(title="Ledgers 101", price=Decimal("10"), seats=1)
    alice.deposit(15)
    with pytest.raises(ProductNotAvailable, match="Ledgers 101"):
        alice.pay(workshop, quantity=2)
    alice.pay(workshop)
    with pytest.raises(ProductNotAvailable):
        alice.pay(Workshop.objects.get(pk=workshop.pk))
    other = Workshop.objects.create(title="Advanced", price=Decimal("10"), seats=5)
    with pytest.raises(InsufficientFunds):
        alice.pay(other)
    assert alice.balance == 5 and Purchase.objects.count() == 1
    assert Workshop.objects.get(pk=workshop.pk).seats == 0


def test_carts_mix_products_with_and_without_a_wallet(alice, item):
    course = DigitalCourse.objects.create(title="Course", price=Decimal("5"))
    alice.deposit(100)
    paid = PurchaseService.pay(alice, [(item, 2), (course, 3)])
    assert [type(p) for p in paid] == [Transfer, Purchase]
    assert paid[0].amount == Decimal("15.00") and paid[1].amount == Decimal(15)
    assert alice.balance == Decimal(70) and item.seller.balance == Decimal(15)


def test_gifts_and_keys(alice, bob):
    course = DigitalCourse.objects.create(title="Course", price=Decimal("5"))
    alice.deposit(20)
    gift = alice.gift(bob, course)
    assert gift.kind == Transfer.Kind.GIFT and gift.wallet == alice.wallet
    first = alice.pay(course, idempotency_key="buy-1")
    again = alice.pay(course, idempotency_key="buy-1")
    assert first.pk == again.pk and alice.balance == 10


def test_refunds_in_full_or_in_part_never_more_than_paid(alice, moderator, staff):
    course = DigitalCourse.objects.create(title="Course", price=Decimal("30"))
    alice.deposit(30)
    purchase = alice.pay(course)
    with pytest.raises(RefundExceedsTransfer):
        PurchaseService.refund(purchase, "30.01")
    first = PurchaseService.refund(purchase, 10)
    assert first.amount == 10 and first.meta["refund_of_purchase"] == str(purchase.uuid)
    assert purchase.refund_state == "partial" and alice.balance == 10
    PurchaseService.refund(purchase, actor=staff("course cancelled"))
    assert purchase.refund_state == "full" and alice.balance == 30
    with pytest.raises(AlreadyRefunded):
        PurchaseService.refund(purchase)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target, entry.amount) == ("refund_purchase", purchase, 20)
    # Retried refunds with a key give money back once.
    again = alice.pay(course)
    one = PurchaseService.refund(again, 5, idempotency_key="r")
    assert PurchaseService.refund(again, 5, idempotency_key="r").pk == one.pk
    assert alice.balance == 5
    assert reconcile_wallets() == []


def test_money_only_leaves_through_the_charge(alice, bob):
    """Conservation: what the buyers were charged left the system, nothing else moved."""
    course = DigitalCourse.objects.create(title="Course", price=Decimal("2.50"))
    alice.deposit(10)
    bob.deposit(10)
    alice.pay(course, quantity=2)
    bob.pay(course)
    total = sum_amounts(Wallet.objects.all(), "balance")
    charged = -sum_amounts(Transaction.objects.filter(purchase__isnull=False))
    assert total + charged == 20 and charged == Decimal("7.50")


def test_a_revenue_wallet_receives_such_payments(alice, org, settings):
    settings.WALLETS = {**settings.WALLETS, "REVENUE_WALLET": lambda product: org}
    course = DigitalCourse.objects.create(title="Course", price=Decimal("8"))
    alice.deposit(10)
    payment = alice.pay(course)
    assert isinstance(payment, Transfer) and payment.to_wallet == org.wallet
    assert (alice.balance, org.balance) == (2, 8)
    assert not Purchase.objects.exists()
    assert Item.objects.count() == 0
