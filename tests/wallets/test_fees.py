"""Fees: each mode with exact amounts in 0-, 2- and 8-decimal wallets, refunds
(returned and kept, full and partial), conservation and reconciliation after each."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from tests.testapp.models import DigitalCourse, Item, Org
from wallets import fees
from wallets.exceptions import (
    BulkItemFailed,
    FeeConfigurationError,
    FeeNotSupported,
    InsufficientFunds,
    TransactionNotReversible,
)
from wallets.models import FeeCharge, FeePolicy, Purchase
from wallets.reconciliation import reconcile_wallets
from wallets.services import PurchaseService, TransferService, WalletService
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def platform(db):
    return Org.objects.create(name="Platform")


@pytest.fixture(autouse=True)
def fee_wallet_setting(settings, platform):
    """Fees go to the platform's wallet in the payment's unit."""
    settings.WALLETS = {**getattr(settings, "WALLETS", {}), "FEE_WALLET": lambda unit: platform}
    return platform


def policy(**fields) -> FeePolicy:
    values = {"name": "Fee", "percent": D(0), "fixed": D(0), **fields}
    return FeePolicy.objects.create(**values)


def total() -> Decimal:
    """Every balance in the system, fee wallets included."""
    return sum((w.balance for w in Wallet.objects.all()), D(0))


def fresh(wallet) -> Wallet:
    return Wallet.objects.get(pk=wallet.pk)


def fee_wallet(platform, unit="USD") -> Wallet:
    return Wallet.objects.get(holder_id=str(platform.pk), unit=unit)


def balanced() -> None:
    """The stored balances equal their ledgers."""
    assert reconcile_wallets() == []
    call_command("wallets_reconcile")


def ledger_state():
    return (
        sorted((w.pk, w.balance, w.held) for w in Wallet.objects.all()),
        Transaction.objects.count(),
        Transfer.objects.count(),
        FeeCharge.objects.count(),
    )


def pair(alice, bob, unit, places, funds):
    slug = unit.lower()
    source = alice.get_wallet(slug, unit=unit, decimal_places=places)
    destination = bob.get_wallet(slug, unit=unit, decimal_places=places)
    WalletService.deposit(source, funds)
    return source, destination


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


# Refunds of transfers


@pytest.mark.parametrize(
    ("treatment", "alice_after", "fee_after"),
    [(fees.RETURNED, D("100"), D("0")), (fees.KEPT, D("99.41"), D("0.59"))],
)
def test_a_full_refund_returns_or_keeps_the_fee(
    alice, bob, platform, treatment, alice_after, fee_after
):
    policy(percent=D("2.9"), fixed=D("0.30"), refund_treatment=treatment)
    alice.deposit(100)
    before = total()
    transfer = alice.transfer(bob, 10)
    TransferService.refund(transfer)
    assert fresh(alice.wallet).balance == alice_after
    assert fresh(bob.wallet).balance == 0
    assert fee_wallet(platform).balance == fee_after
    assert total() == before
    balanced()


def test_partial_refunds_return_a_proportional_fee_and_the_last_one_the_rest(alice, bob, platform):
    policy(percent=D("2.9"), fixed=D("0.30"))
    alice.deposit(100)
    before = total()
    transfer = alice.transfer(bob, 10)
    TransferService.refund(transfer, 3)  # 0.59 * 3/10 = 0.177 -> 0.17
    assert fee_wallet(platform).balance == D("0.42")
    TransferService.refund(transfer, 3)  # 0.17 again
    assert fee_wallet(platform).balance == D("0.25")
    TransferService.refund(transfer)  # the last 4 take the rest: 0.25
    assert fee_wallet(platform).balance == D("0")
    assert fresh(alice.wallet).balance == D("100")
    charge = FeeCharge.objects.get(transfer=transfer)
    assert charge.refunded == charge.amount == D("0.59")
    assert [r.amount for r in charge.returns.order_by("pk")] == [D("0.17"), D("0.17"), D("0.25")]
    assert total() == before
    balanced()


def test_a_deductible_refund_returns_the_fee_to_the_receiver_first(alice, bob, platform):
    policy(percent=D("3"), mode=fees.DEDUCTIBLE)
    alice.deposit(100)
    before = total()
    transfer = alice.transfer(bob, 10)
    assert fresh(bob.wallet).balance == D("9.70")
    # Bob holds 9.70 but refunds 10: the returned fee comes first.
    TransferService.refund(transfer)
    assert (fresh(alice.wallet).balance, fresh(bob.wallet).balance) == (D("100"), D("0"))
    assert fee_wallet(platform).balance == 0
    assert total() == before
    balanced()


def test_a_deductible_kept_fee_stays_and_the_receiver_bears_it(alice, bob, platform):
    policy(percent=D("3"), mode=fees.DEDUCTIBLE, refund_treatment=fees.KEPT)
    alice.deposit(100)
    bob.deposit(1)
    transfer = alice.transfer(bob, 10)
    TransferService.refund(transfer, 4)
    TransferService.refund(transfer)
    assert fresh(alice.wallet).balance == D("100")
    assert fresh(bob.wallet).balance == D("0.70")
    assert fee_wallet(platform).balance == D("0.30")
    balanced()


# Payments for products


def test_payments_to_a_seller_with_a_product_fee(alice, org, item, platform):
    policy(
        name="mugs",
        percent=D("10"),
        product_type=ContentType.objects.get_for_model(Item),
        product_id=str(item.pk),
        mode=fees.DEDUCTIBLE,
    )
    alice.deposit(100)
    before = total()
    transfer = alice.pay(item, quantity=2)  # 15.00, fee 1.50 from the seller
    assert transfer.amount == D("15.00")
    assert fresh(alice.wallet).balance == D("85")
    assert fresh(org.wallet).balance == D("13.50")
    assert fee_wallet(platform).balance == D("1.50")
    assert total() == before
    TransferService.refund(transfer, D("7.50"))  # half: 0.75 of the fee back to the seller
    assert fresh(org.wallet).balance == D("6.75")
    assert fee_wallet(platform).balance == D("0.75")
    balanced()


def test_a_cart_charges_each_line_its_fee(alice, org, platform):
    mug = Item.objects.create(name="Mug", price="7.50", seller=org)
    cup = Item.objects.create(name="Cup", price="2.25", seller=org)
    policy(percent=D("2"), fixed=D("0.10"))
    alice.deposit(20)
    before = total()
    paid = PurchaseService.pay(alice, [(mug, 1), (cup, 2)])
    # 7.50 -> 0.15 + 0.10 = 0.25; 4.50 -> 0.09 + 0.10 = 0.19
    assert [FeeCharge.objects.get(transfer=t).amount for t in paid] == [D("0.25"), D("0.19")]
    assert fresh(alice.wallet).balance == D("20") - D("12") - D("0.44")
    assert total() == before
    alice_before = ledger_state()
    with pytest.raises(InsufficientFunds):
        PurchaseService.pay(alice, [(mug, 1)])  # 7.50 + 0.25 > 7.56
    assert ledger_state() == alice_before
    balanced()


@pytest.mark.parametrize(
    ("mode", "treatment", "after_full_refund"),
    [
        (fees.PAYER_PAYS, fees.RETURNED, D("100")),
        (fees.PAYER_PAYS, fees.KEPT, D("99")),
        (fees.DEDUCTIBLE, fees.RETURNED, D("100")),
        (fees.DEDUCTIBLE, fees.KEPT, D("100")),
    ],
)
def test_a_purchase_without_a_seller(alice, platform, mode, treatment, after_full_refund):
    course = DigitalCourse.objects.create(title="Ledgers", price=D("20"))
    policy(percent=D("5"), mode=mode, refund_treatment=treatment)
    alice.deposit(100)
    purchase = alice.pay(course)
    assert isinstance(purchase, Purchase)
    paid = D("21") if mode == fees.PAYER_PAYS else D("20")
    assert fresh(alice.wallet).balance == D("100") - paid
    assert fee_wallet(platform).balance == D("1")
    left_the_system = paid - D("1")
    assert total() == D("100") - left_the_system
    PurchaseService.refund(purchase, D("5"))
    # A quarter of the price: a quarter of the fee (0.25) goes back, or none.
    partly = D("0.75") if treatment == fees.RETURNED else D("1")
    assert fee_wallet(platform).balance == partly
    # Deductible: the fee was part of the price, so the buyer gets the 5 back in
    # all (4.75 plus 0.25 from the fee wallet, or 5 when the fee is kept).
    fee_back = D("1") - partly if mode == fees.PAYER_PAYS else D("0")
    assert fresh(alice.wallet).balance == D("100") - paid + D("5") + fee_back
    balanced()
    PurchaseService.refund(purchase)
    assert fresh(alice.wallet).balance == after_full_refund
    fee_left = D("1") if treatment == fees.KEPT else D("0")
    assert fee_wallet(platform).balance == fee_left
    balanced()


# Withdrawals


def test_withdrawals_pay_their_fee_and_a_reversal_returns_it(alice, platform):
    policy(
        percent=D("1"), minimum=D("0.50"), applies_to_withdrawals=True, applies_to_transfers=False
    )
    alice.deposit(100)
    tx = alice.withdraw(20)  # 0.20 -> 0.50
    assert fresh(alice.wallet).balance == D("79.50")
    assert fee_wallet(platform).balance == D("0.50")
    assert total() == D("80")  # 20 left the system
    WalletService.reverse_transaction(tx)
    assert fresh(alice.wallet).balance == D("100")
    assert fee_wallet(platform).balance == 0
    with pytest.raises(TransactionNotReversible):
        WalletService.reverse_transaction(FeeCharge.objects.filter(refund_of=None).get().payer_leg)
    balanced()


def test_a_deductible_withdrawal_pays_out_the_amount_less_the_fee(alice, platform):
    policy(fixed=D("2"), mode=fees.DEDUCTIBLE, applies_to_withdrawals=True)
    alice.deposit(100)
    tx = alice.withdraw(20)
    assert tx.amount == D("-18")
    assert fresh(alice.wallet).balance == D("80")
    assert fee_wallet(platform).balance == D("2")
    balanced()


def test_withdrawal_fee_refusals(alice, platform):
    policy(fixed=D("1"), applies_to_withdrawals=True, refund_treatment=fees.KEPT)
    alice.deposit(10)
    platform.get_wallet()
    before = ledger_state()
    with pytest.raises(InsufficientFunds):
        alice.withdraw(D("9.50"))
    with pytest.raises(FeeNotSupported):
        alice.withdraw(1, confirmed=False)
    assert ledger_state() == before
    # Forced withdrawals keep their meaning: no fee.
    WalletService.force_withdraw(alice.wallet, 1)
    assert fresh(alice.wallet).balance == D("9")
    tx = alice.withdraw(4)
    WalletService.reverse_transaction(tx)  # kept: the fee stays
    assert fresh(alice.wallet).balance == D("8")
    assert fee_wallet(platform).balance == D("1")
    balanced()


# Bulk operations refuse fees


def test_bulk_operations_refuse_items_a_fee_applies_to(alice, bob, carol, platform):
    policy(
        percent=D("1"),
        receiving_wallet=carol.wallet,
        applies_to_withdrawals=True,
    )
    alice.deposit(100)
    bob.get_wallet()
    platform.get_wallet()
    before = ledger_state()
    with pytest.raises(BulkItemFailed) as refused:
        TransferService.bulk_transfer([(alice, bob, 1), (alice, carol, 1)])
    assert (refused.value.index, refused.value.code) == (1, "fee_not_supported")
    assert ledger_state() == before
    # Transfers to bob pay no fee: the batch runs.
    TransferService.bulk_transfer([(alice, bob, 1), (alice, bob, 2)])
    assert fresh(alice.wallet).balance == D("97")


def test_bulk_withdrawals_refuse_a_fee(alice):
    policy(percent=D("1"), applies_to_withdrawals=True)
    alice.deposit(100)
    with pytest.raises(BulkItemFailed) as refused:
        WalletService.bulk_withdraw([(alice.wallet, 1)])
    assert refused.value.code == "fee_not_supported"
    assert fresh(alice.wallet).balance == D("100")


# Previews


def test_the_preview_shows_the_fee_and_the_total(alice, bob):
    policy(percent=D("2.9"), fixed=D("0.30"))
    alice.deposit(100)
    quote = TransferService.preview(alice, bob, 10)
    assert (quote.fee, quote.total, quote.received) == (D("0.59"), D("10.59"), D("10"))
    assert quote.balance_after == D("89.41")
    deducted = fees.quote(fees.TRANSFER, alice.wallet, D("10"), bob.wallet)
    assert deducted.total == D("10.59")


# Held transfers pay their fee when released


def test_a_held_transfer_pays_its_fee_when_released(alice, bob, platform):
    from wallets.models import RiskRule

    RiskRule.objects.create(name="Big", max_single=D("50"), on_breach=RiskRule.OnBreach.HOLD)
    policy(fixed=D("1"))
    alice.deposit(100)
    hold = alice.transfer(bob, 60)
    assert FeeCharge.objects.count() == 0
    transfer = TransferService.release_hold(hold)
    assert fresh(alice.wallet).balance == D("39")
    assert fee_wallet(platform).balance == D("1")
    assert FeeCharge.objects.get().transfer == transfer
    balanced()


# Admin


def test_the_fee_admin_lists_policies_and_charges_with_amounts_in_their_unit(
    admin_client, alice, bob, platform
):
    house = platform.get_wallet()
    policy(name="Card fee", percent=D("2.9"), fixed=D("0.30"), minimum=D("0.5"), fee_wallet=house)
    alice.deposit(100)
    alice.transfer(bob, 10)
    page = admin_client.get("/admin/wallets/feepolicy/").content.decode()
    assert "Card fee" in page and "2.9 %" in page and "0.30 USD" in page and "0.50 USD" in page
    assert "Everyone" in page
    assert admin_client.get("/admin/wallets/feepolicy/add/").status_code == 200
    charges = admin_client.get("/admin/wallets/feecharge/").content.decode()
    assert "0.59 USD" in charges and "Charged" in charges
    assert admin_client.get("/admin/wallets/feecharge/add/").status_code == 403


def test_a_policy_is_checked_before_it_is_saved(alice, item):
    from django.core.exceptions import ValidationError

    two_scopes = FeePolicy(
        name="x",
        percent=D("1"),
        receiving_wallet=alice.wallet,
        product_type=ContentType.objects.get_for_model(Item),
        product_id=str(item.pk),
    )
    with pytest.raises(ValidationError, match="one product, one wallet or one holder"):
        two_scopes.clean()
    with pytest.raises(ValidationError, match="below the minimum"):
        FeePolicy(name="x", percent=D("1"), minimum=D("2"), maximum=D("1")).clean()
    with pytest.raises(ValidationError, match="percentage, a fixed part or a minimum"):
        FeePolicy(name="x").clean()
    with pytest.raises(ValidationError, match="what the fee applies to"):
        FeePolicy(
            name="x", percent=D("1"), applies_to_transfers=False, applies_to_payments=False
        ).clean()
    FeePolicy(name="ok", percent=D("1"), receiving_wallet=alice.wallet).clean()
