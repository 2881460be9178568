"""Credit limits: an overdraft allowance set by staff through an engine operation."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from tests.wallets.conftest import make_staff
from wallets.exceptions import AmountInvalid, InsufficientFunds
from wallets.models import AuditEntry
from wallets.services import WalletService
from wallets.staff import StaffActor
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()

pytestmark = pytest.mark.django_db


def fresh(wallet) -> Wallet:
    return Wallet.objects.get(pk=wallet.pk)


def test_withdrawals_transfers_and_payments_may_use_the_credit(alice, bob, item, staff):
    alice.deposit(10)
    WalletService.set_credit_limit(alice.wallet, "50.00", actor=staff("trusted customer"))
    assert fresh(alice.wallet).available == Decimal(60)
    alice.withdraw(30)
    alice.transfer(bob, 20)
    alice.pay(item)  # 7.50
    wallet = fresh(alice.wallet)
    assert wallet.balance == Decimal("-47.50") and wallet.available == Decimal("2.50")


def test_nothing_goes_past_the_limit_but_force_withdraw(alice, bob, staff):
    alice.deposit(10)
    WalletService.set_credit_limit(alice.wallet, 20, actor=staff("r"))
    with pytest.raises(InsufficientFunds, match="credit limit 20 included"):
        alice.withdraw("30.01")
    with pytest.raises(InsufficientFunds):
        alice.transfer(bob, "30.01")
    with pytest.raises(InsufficientFunds):
        alice.withdraw("30.01", confirmed=False)
    alice.withdraw(30)  # exactly at the limit
    assert fresh(alice.wallet).balance == -20
    alice.force_withdraw(5)  # still means "past any limit"
    assert fresh(alice.wallet).balance == -25


def test_a_pending_withdrawal_holds_against_the_credit(alice, staff):
    WalletService.set_credit_limit(alice.get_wallet(), 100, actor=staff("r"))
    alice.withdraw(80, confirmed=False)
    with pytest.raises(InsufficientFunds):
        alice.withdraw(21)
    alice.withdraw(20)
    assert fresh(alice.wallet).available == 0


def test_the_limit_is_a_staff_action_with_its_audit_entry(alice, moderator, staff):
    wallet = alice.get_wallet()
    WalletService.set_credit_limit(wallet, "25.5", actor=staff("salary advance", ip="10.1.2.3"))
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.target, entry.reason) == (
        AuditEntry.Action.CREDIT_LIMIT,
        moderator,
        wallet,
        "salary advance",
    )
    assert (entry.before["credit_limit"], entry.after["credit_limit"]) == ("0", "25.5")
    assert entry.after["wallets"][str(wallet.uuid)]["credit_limit"] == "25.50"
    # Idempotent like every staff form, and 0 takes the credit away.
    WalletService.set_credit_limit(wallet, 0, actor=staff("repaid"), idempotency_key="k")
    WalletService.set_credit_limit(wallet, 0, actor=staff("repaid"), idempotency_key="k")
    assert fresh(wallet).credit_limit == 0 and AuditEntry.objects.count() == 2


def test_refusals_change_nothing(alice, staff):
    wallet = alice.get_wallet()
    for bad in ("-1", "1.001", "abc"):
        with pytest.raises(AmountInvalid):
            WalletService.set_credit_limit(wallet, bad, actor=staff("r"))
    viewer = make_staff("viewer", "view_wallet")
    with pytest.raises(PermissionDenied):
        WalletService.set_credit_limit(wallet, 10, actor=StaffActor(viewer, "r"))
    assert fresh(wallet).credit_limit == 0 and not AuditEntry.objects.exists()


def test_bulk_withdrawals_count_the_credit_too(alice, staff):
    wallet = alice.get_wallet()
    WalletService.set_credit_limit(wallet, 10, actor=staff("r"))
    WalletService.bulk_withdraw([(wallet, 4), (wallet, 6)])
    assert fresh(wallet).balance == -10
