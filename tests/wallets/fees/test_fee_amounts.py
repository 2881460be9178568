"""Fees on transfers: each mode with exact amounts in 0-, 2- and 8-decimal wallets,
what is refused, which policy applies, previews; conservation and reconciliation
after each."""

import pytest
from django.contrib.contenttypes.models import ContentType

from tests.testapp.models import Item, Org
from tests.wallets.fees.support import (
    D,
    balanced,
    fee_wallet,
    fresh,
    ledger_state,
    pair,
    policy,
    total,
)
from wallets import fees
from wallets.exceptions import (
    FeeConfigurationError,
    InsufficientFunds,
)
from wallets.models import FeeCharge, FeePolicy
from wallets.services import TransferService, WalletService

pytestmark = pytest.mark.django_db


# Transfers: each mode, exact, in 2, 0 and 8 decimal places


def test_payer_pays_percent_plus_fixed_two_places(alice, bob, platform):
    policy(percent=D("2.9"), fixed=D("0.30"))
    alice.deposit(100)
    before = total()
    transfer = alice.transfer(bob, 10)
    # 2.9% of 10 = 0.29, + 0.30 = 0.59
    assert fresh(alice.wallet).balance == D("89.41")
    assert fresh(bob.wallet).balance == D("10")
    assert fee_wallet(platform).balance == D("0.59")
    assert total() == before
    charge = FeeCharge.objects.get(transfer=transfer)
    assert (charge.amount, charge.base, charge.mode) == (D("0.59"), D("10"), fees.PAYER_PAYS)
    assert charge.payer_leg.wallet_id == alice.wallet.pk and charge.payer_leg.amount == D("-0.59")
    assert charge.fee_leg.amount == D("0.59") and charge.payer_leg.meta["fee_for"] == str(
        transfer.uuid
    )
    # The payer's ledger: the transfer leg and the fee leg.
    assert sorted(t.amount for t in alice.wallet.transactions.filter(type="withdraw")) == [
        D("-10"),
        D("-0.59"),
    ]
    balanced()


def test_deductible_the_receiver_gets_amount_less_fee(alice, bob, platform):
    bob_wallet = bob.wallet
    policy(percent=D("3"), mode=fees.DEDUCTIBLE, receiving_wallet=bob_wallet)
    alice.deposit(100)
    before = total()
    transfer = alice.transfer(bob, 10)
    assert fresh(alice.wallet).balance == D("90")
    assert fresh(bob_wallet).balance == D("9.70")
    assert fee_wallet(platform).balance == D("0.30")
    assert total() == before
    assert (transfer.amount, transfer.received) == (D("10"), D("10"))
    assert FeeCharge.objects.get(transfer=transfer).payer_wallet_id == bob_wallet.pk
    balanced()


def test_minimum_and_maximum(alice, bob, platform):
    policy(percent=D("1"), minimum=D("0.50"), maximum=D("2.00"))
    alice.deposit(1000)
    before = total()
    alice.transfer(bob, 10)  # 0.10 -> raised to 0.50
    alice.transfer(bob, 500)  # 5.00 -> lowered to 2.00
    assert fee_wallet(platform).balance == D("2.50")
    assert fresh(alice.wallet).balance == D("1000") - D("510") - D("2.50")
    assert total() == before
    balanced()


def test_fixed_and_percent_with_no_decimals_round_half_up(alice, bob, platform):
    source, destination = pair(alice, bob, "PTS", 0, 100)
    platform.get_wallet("pts", unit="PTS", decimal_places=0)
    policy(percent=D("2.5"), fixed=D("2"), unit="PTS")
    before = total()
    TransferService.transfer(source, destination, 10)  # 0.25 + 2 = 2.25 -> 2
    TransferService.transfer(source, destination, 30)  # 0.75 + 2 = 2.75 -> 3
    assert fee_wallet(platform, "PTS").balance == D("5")
    assert fresh(source).balance == D("100") - D("40") - D("5")
    assert fresh(destination).balance == D("40")
    assert total() == before
    balanced()


def test_fixed_only_with_no_decimals(alice, bob, platform):
    source, destination = pair(alice, bob, "PTS", 0, 20)
    platform.get_wallet("pts", unit="PTS", decimal_places=0)
    policy(fixed=D("1"), unit="PTS")
    TransferService.transfer(source, destination, 7)
    assert (fresh(source).balance, fresh(destination).balance) == (D("12"), D("7"))
    assert fee_wallet(platform, "PTS").balance == D("1")
    balanced()


@pytest.mark.parametrize(
    ("mode", "payer_after", "receiver_after"),
    [
        (fees.PAYER_PAYS, D("0.87641976"), D("0.12345678")),
        (fees.DEDUCTIBLE, D("0.87654322"), D("0.12333332")),
    ],
)
def test_eight_places(alice, bob, platform, mode, payer_after, receiver_after):
    source, destination = pair(alice, bob, "BTC", 8, 1)
    platform.get_wallet("btc", unit="BTC", decimal_places=8)
    policy(percent=D("0.1"), mode=mode, unit="BTC")
    before = total()
    # 0.1% of 0.12345678 = 0.00012345678 -> 0.00012346
    TransferService.transfer(source, destination, D("0.12345678"))
    assert fee_wallet(platform, "BTC").balance == D("0.00012346")
    assert (fresh(source).balance, fresh(destination).balance) == (payer_after, receiver_after)
    assert total() == before
    balanced()


def test_rounding_is_half_up_and_the_deductible_fee_never_exceeds_the_amount():
    percent = FeePolicy(percent=D("1"), fixed=D(0))
    assert fees.compute_fee(percent, D("0.50"), 2) == D("0.01")  # 0.005 -> 0.01
    assert fees.compute_fee(percent, D("0.49"), 2) == D("0")  # 0.0049 -> 0.00
    big = FeePolicy(percent=D(0), fixed=D("5"), mode=fees.DEDUCTIBLE)
    assert fees.compute_fee(big, D("3"), 2) == D("3")
    capped = FeePolicy(percent=D("50"), fixed=D(0), minimum=D("0.5"), maximum=D("0.5"))
    assert fees.compute_fee(capped, D("10"), 0) == D("0")  # the maximum rounds down


def test_a_fee_rounding_to_zero_writes_no_fee_rows(alice, bob, platform):
    policy(percent=D("1"))
    alice.deposit(1)
    alice.transfer(bob, D("0.40"))  # 0.004 -> 0.00
    assert FeeCharge.objects.count() == 0
    assert fresh(alice.wallet).balance == D("0.60")


# What is refused changes nothing


def test_insufficient_funds_counts_the_fee(alice, bob, platform):
    policy(percent=D("2.9"), fixed=D("0.30"))
    alice.deposit(D("10.58"))  # 10 + 0.59 needed
    bob.get_wallet()
    platform.get_wallet()
    before = ledger_state()
    with pytest.raises(InsufficientFunds):
        alice.transfer(bob, 10)
    with pytest.raises(InsufficientFunds):
        TransferService.preview(alice, bob, 10)
    assert ledger_state() == before
    alice.deposit(D("0.01"))
    alice.transfer(bob, 10)
    assert fresh(alice.wallet).balance == 0
    balanced()


def test_the_credit_limit_covers_the_fee(alice, bob, platform):
    policy(fixed=D("1"))
    alice.deposit(10)
    WalletService.set_credit_limit(alice.wallet, 1)
    alice.transfer(bob, 10)
    assert fresh(alice.wallet).balance == D("-1")
    with pytest.raises(InsufficientFunds):
        alice.transfer(bob, D("0.01"))
    balanced()


def test_a_fee_wallet_in_another_unit_is_refused_and_nothing_moves(settings, alice, bob, org):
    euros = org.get_wallet("eur", unit="EUR")
    settings.WALLETS = {**settings.WALLETS, "FEE_WALLET": lambda unit: euros}
    policy(percent=D("1"), applies_to_withdrawals=True)
    alice.deposit(100)
    bob.get_wallet()
    before = ledger_state()
    with pytest.raises(FeeConfigurationError, match="same unit"):
        alice.transfer(bob, 10)
    with pytest.raises(FeeConfigurationError, match="same unit"):
        alice.withdraw(5)
    assert ledger_state() == before
    assert fresh(alice.wallet).balance == D("100")


def test_no_fee_wallet_configured_is_refused(settings, alice, bob):
    settings.WALLETS = {}
    policy(percent=D("1"))
    alice.deposit(100)
    with pytest.raises(FeeConfigurationError, match="names no fee wallet"):
        alice.transfer(bob, 10)
    assert fresh(alice.wallet).balance == D("100")
    assert FeeCharge.objects.count() == 0


def test_an_idempotent_retry_charges_the_fee_once(alice, bob, platform):
    policy(percent=D("2.9"), fixed=D("0.30"))
    alice.deposit(100)
    first = alice.transfer(bob, 10, idempotency_key="fee-1")
    again = alice.transfer(bob, 10, idempotency_key="fee-1")
    assert first.pk == again.pk
    assert FeeCharge.objects.count() == 1
    assert fee_wallet(platform).balance == D("0.59")
    assert fresh(alice.wallet).balance == D("89.41")
    balanced()


def test_inactive_policies_charge_nothing(alice, bob):
    policy(percent=D("10"), is_active=False)
    alice.deposit(100)
    alice.transfer(bob, 10)
    assert fresh(alice.wallet).balance == D("90")
    assert FeeCharge.objects.count() == 0


# Which policy applies


def test_resolution_order_product_then_wallet_then_holder_then_everyone(alice, org, item):
    seller_wallet = org.wallet
    everyone = policy(name="everyone", percent=D("1"))
    holder = policy(
        name="holder",
        percent=D("2"),
        holder_type=ContentType.objects.get_for_model(Org),
        holder_id=str(org.pk),
    )
    wallet = policy(name="wallet", percent=D("3"), receiving_wallet=seller_wallet)
    product = policy(
        name="product",
        percent=D("4"),
        product_type=ContentType.objects.get_for_model(Item),
        product_id=str(item.pk),
    )
    payer = alice.wallet
    assert fees.policy_for(fees.PAYMENT, payer, seller_wallet, item) == product
    assert fees.policy_for(fees.PAYMENT, payer, seller_wallet, None) == wallet
    assert fees.policy_for(fees.TRANSFER, payer, org.get_wallet("other"), None) == holder
    assert fees.policy_for(fees.TRANSFER, payer, alice.get_wallet("savings"), None) == everyone
    wallet.applies_to_payments = False
    wallet.save()
    assert fees.policy_for(fees.PAYMENT, payer, seller_wallet, None) == holder
    assert fees.policy_for(fees.WITHDRAWAL, payer) is None


# Previews


def test_the_preview_shows_the_fee_and_the_total(alice, bob):
    policy(percent=D("2.9"), fixed=D("0.30"))
    alice.deposit(100)
    quote = TransferService.preview(alice, bob, 10)
    assert (quote.fee, quote.total, quote.received) == (D("0.59"), D("10.59"), D("10"))
    assert quote.balance_after == D("89.41")
    deducted = fees.quote(fees.TRANSFER, alice.wallet, D("10"), bob.wallet)
    assert deducted.total == D("10.59")
