"""Fees on the shop's payments: carts, checkout sessions and their refunds.

The fee wallet is opened first, so it has the lowest primary key: refunds
that return a fee lock it before the buyer's and the merchant's wallets
(a lock-order mistake would raise here at once)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from shop.checkout.services import pay_session, refund_session_payment
from shop.models import CheckoutSession, Organization
from shop.services import pay_cart, refund_order
from wallets import fees
from wallets.models import FeeCharge, FeePolicy
from wallets.reconciliation import reconcile_wallets
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()
pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def platform(db, settings):
    house = Organization.objects.create(name="Platform", slug="platform")
    wallet = house.get_wallet()
    settings.WALLETS = {**getattr(settings, "WALLETS", {}), "FEE_WALLET": lambda unit: house}
    return wallet


def total() -> Decimal:
    return sum((w.balance for w in Wallet.objects.all()), D(0))


def balance(wallet) -> Decimal:
    return Wallet.objects.get(pk=wallet.pk).balance


@pytest.mark.parametrize(
    ("mode", "buyer_paid", "merchant_got"),
    [(fees.PAYER_PAYS, D("26.24"), D("25.00")), (fees.DEDUCTIBLE, D("25.00"), D("23.76"))],
)
def test_a_cart_with_a_fee_and_its_refunds(
    platform, buyer, merchant, merchant_manager, make_product, mode, buyer_paid, merchant_got
):
    FeePolicy.objects.create(name="Card", percent=D("3.75"), fixed=D("0.30"), mode=mode)
    book = make_product("Book", "12.50", stock=3)
    before = total()
    order = pay_cart(buyer, buyer.wallet, [(book, 2)])
    # 3.75% of 25.00 = 0.9375, + 0.30 = 1.2375 -> 1.24
    assert order.total == D("25.00")
    assert balance(buyer.wallet) == D("100") - buyer_paid
    assert balance(merchant.wallet) == merchant_got
    assert balance(platform) == D("1.24")
    line = order.lines.get()
    refund_order(order, by=merchant_manager, quantities={line.pk: 1})
    # Half the payment: half the fee, rounded down (0.62), goes back.
    assert balance(platform) == D("0.62")
    refund_order(order, by=merchant_manager)
    assert balance(platform) == D("0")
    assert balance(buyer.wallet) == D("100")
    assert balance(merchant.wallet) == D("0")
    assert total() == before
    charge = FeeCharge.objects.get(transfer=line.transfer, refund_of=None)
    assert charge.refunded == charge.amount == D("1.24")
    assert reconcile_wallets() == []


def test_a_checkout_payment_pays_its_fee_and_a_kept_fee_stays_on_refund(
    platform, buyer, merchant, merchant_manager
):
    FeePolicy.objects.create(
        name="Checkout",
        percent=D("2"),
        receiving_wallet=merchant.wallet,
        mode=fees.DEDUCTIBLE,
        refund_treatment=fees.KEPT,
    )
    session = CheckoutSession.objects.create(
        merchant=merchant,
        amount=D("25.00"),
        unit="USD",
        success_url="https://merchant.example/ok",
        cancel_url="https://merchant.example/no",
        expires_at=timezone.now() + timedelta(minutes=30),
    )
    merchant.deposit(1)
    pay_session(session, buyer, buyer.wallet)
    assert balance(merchant.wallet) == D("25.50")  # 1 + 25 - 0.50
    refund_session_payment(session, by=merchant_manager, amount="10.00")
    refund_session_payment(session, by=merchant_manager)
    assert balance(buyer.wallet) == D("100")
    assert balance(merchant.wallet) == D("0.50")
    assert balance(platform) == D("0.50")
    assert reconcile_wallets() == []
