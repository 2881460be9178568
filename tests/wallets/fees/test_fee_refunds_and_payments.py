"""Fees given back and fees on payments, withdrawals, bulk operations and held
transfers: refunds returned or kept, full and partial, exact, with conservation and
reconciliation after each; the fee admin."""

import pytest
from django.contrib.contenttypes.models import ContentType

from tests.testapp.models import DigitalCourse, Item
from tests.wallets.fees.support import (
    D,
    balanced,
    fee_wallet,
    fresh,
    ledger_state,
    policy,
    total,
)
from wallets import fees
from wallets.exceptions import (
    BulkItemFailed,
    FeeNotSupported,
    InsufficientFunds,
    TransactionNotReversible,
)
from wallets.models import FeeCharge, FeePolicy, Purchase
from wallets.services import PurchaseService, TransferService, WalletService

pytestmark = pytest.mark.django_db


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
