"""Payments that PostgreSQL runs as one statement: a product that decides nothing
under a lock, no fee and no ``pre_withdraw`` receivers. They lock, check and
write what the locking path writes, refuse without writing, and never sell
more than the buyer has under real parallel load."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.parallel import run_parallel
from tests.testapp.models import DigitalCourse, Voucher
from tests.testapp.products import Ebook
from wallets import signals
from wallets.exceptions import InsufficientFunds, WalletFrozen
from wallets.models import Purchase
from wallets.reconciliation import reconcile_wallets
from wallets.services import purchase_service, wallet_service
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()
User = get_user_model()
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def buyer(settled_policy_caches):
    alice = User.objects.create_user(username="alice", email="alice@example.com")
    alice.deposit(100)
    return alice


def pay(buyer, product, **kwargs):
    """Pay from the buyer's wallet, named as the customer. Returns what was paid
    and the statements that locked or wrote (reads finding the product's
    recipient wallet happen before the operation, on either path)."""
    with CaptureQueriesContext(connection) as captured:
        paid = purchase_service().pay(buyer.wallet, product, customer=buyer, **kwargs)
    sent = [query["sql"] for query in captured.captured_queries]
    return paid, [sql for sql in sent if not sql.startswith("SELECT") or "FOR UPDATE" in sql]


def stored_balance(wallet):
    return Wallet.objects.get(pk=wallet.pk).balance


def test_a_purchase_no_wallet_receives_is_one_statement(buyer):
    wallet = buyer.wallet
    purchase, statements = pay(buyer, Ebook("12.50"), quantity=2, meta={"order": 7})
    assert len(statements) == 1 and statements[0].startswith("WITH")
    assert stored_balance(wallet) == wallet.balance == Decimal(75)
    assert isinstance(purchase, Purchase) and purchase.pk
    assert purchase.wallet.balance == Decimal(75)
    stored = Purchase.objects.select_related("withdraw").get(pk=purchase.pk)
    assert stored.withdraw_id == purchase.withdraw.pk
    assert (stored.quantity, stored.unit_price, stored.amount) == (2, Decimal("12.5"), 25)
    assert (stored.product_label, stored.product_type_id, stored.meta["order"]) == (
        "An e-book",
        None,
        7,
    )
    leg = stored.withdraw
    assert (leg.amount, leg.balance_after, leg.state) == (-25, 75, "confirmed")
    assert leg.meta == {
        "order": 7,
        "product": {"isbn": "978-0"},
        "quantity": 2,
        "unit_price": "12.50",
        "product_label": "An e-book",
    }
    assert reconcile_wallets() == []


def test_a_payment_to_the_products_wallet_is_one_statement(buyer):
    voucher = Voucher.objects.create(name="Gift card")
    assert voucher.wallet.pk  # opened before the payment
    transfer, statements = pay(buyer, voucher)
    assert len(statements) == 1 and statements[0].startswith("WITH")
    assert (transfer.kind, transfer.to_wallet, transfer.deposit.amount) == (
        Transfer.Kind.PAID,
        voucher.wallet,
        Decimal("2.5"),
    )
    assert stored_balance(voucher.wallet) == Decimal("2.5")
    assert stored_balance(buyer.wallet) == Decimal("97.5")
    assert transfer.withdraw.meta["unit_price"] == "2.50"
    assert reconcile_wallets() == []


def test_a_merchant_paid_again_costs_no_lookup_and_is_still_checked(buyer):
    """The holder keeps its wallet (``holder.wallet``): a second payment to the
    same merchant object is the payment's statement alone. The kept copy is
    never trusted: frozen meanwhile through another copy, the wallet refuses."""
    voucher = Voucher.objects.create(name="Gift card")
    pay(buyer, voucher)
    with CaptureQueriesContext(connection) as captured:
        purchase_service().pay(buyer.wallet, voucher, customer=buyer)
    assert len(captured.captured_queries) == 1
    assert voucher.wallet.balance == Decimal(5)  # the operation left its values on it
    wallet_service().freeze(Wallet.objects.get(pk=voucher.wallet.pk), "chargebacks")
    assert not voucher.wallet.is_frozen  # the kept copy does not know
    with pytest.raises(WalletFrozen):
        purchase_service().pay(buyer.wallet, voucher, customer=buyer)
    assert stored_balance(buyer.wallet) == Decimal(95)
    assert Transfer.objects.count() == 2


@pytest.mark.parametrize(
    ("frozen", "price", "error", "message"),
    [
        (False, "150", InsufficientFunds, "100 USD available, 150 USD needed"),
        (True, "1", WalletFrozen, "is frozen"),
    ],
)
def test_a_refused_payment_writes_nothing_and_says_why(buyer, frozen, price, error, message):
    wallet = buyer.wallet
    if frozen:
        buyer.freeze_wallet()
        wallet.refresh_from_db()
    rows = Transaction.objects.count(), Purchase.objects.count()
    with pytest.raises(error, match=message):
        purchase_service().pay(wallet, Ebook(price))
    assert (Transaction.objects.count(), Purchase.objects.count()) == rows
    assert stored_balance(wallet) == Decimal(100)


def test_a_product_that_decides_under_its_lock_takes_the_locking_path(buyer):
    course = DigitalCourse.objects.create(title="Ledgers", price=Decimal(10))  # has can_buy
    purchase, statements = pay(buyer, course)
    assert statements[0] == "BEGIN" and statements[-1] == "COMMIT"
    assert any(DigitalCourse._meta.db_table in sql for sql in statements)  # its lock
    assert purchase.product == course and stored_balance(buyer.wallet) == Decimal(90)


def test_pre_withdraw_receivers_are_asked_under_the_lock(buyer):
    asked = []

    def receiver(sender, wallet, amount, meta, **kwargs):
        asked.append((wallet.pk, amount, connection.in_atomic_block))

    signals.pre_withdraw.connect(receiver)
    try:
        purchase, statements = pay(buyer, Ebook("3"))
    finally:
        signals.pre_withdraw.disconnect(receiver)
    assert asked == [(buyer.wallet.pk, Decimal(3), True)]
    assert statements[0] == "BEGIN" and purchase.amount == Decimal(3)


def test_a_retried_key_pays_once(buyer):
    ebook = Ebook("4")
    first = purchase_service().pay(buyer.wallet, ebook, idempotency_key="order-1")
    again = purchase_service().pay(buyer.wallet, ebook, idempotency_key="order-1")
    assert again.pk == first.pk
    assert stored_balance(buyer.wallet) == Decimal(96)
    assert Purchase.objects.count() == 1


def test_parallel_buyers_never_spend_more_than_the_wallet_holds(buyer):
    """Twelve payments of 10 at once from a wallet holding 100: exactly ten go
    through, two are refused, and the ledger agrees with the balance."""
    wallet = buyer.wallet
    ebook = Ebook("10")
    jobs = [lambda: purchase_service().pay(Wallet.objects.get(pk=wallet.pk), ebook)] * 12
    results, errors = run_parallel(jobs, expected=(InsufficientFunds,))
    assert errors == []
    paid = [r for r in results if isinstance(r, Purchase)]
    refused = [r for r in results if isinstance(r, InsufficientFunds)]
    assert (len(paid), len(refused)) == (10, 2)
    assert stored_balance(wallet) == 0
    assert Purchase.objects.count() == 10
    assert reconcile_wallets() == []
