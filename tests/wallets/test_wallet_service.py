from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from wallets.abstract_models import ImmutableRowError
from wallets.exceptions import (
    AlreadyReversed,
    InsufficientFunds,
    TransactionExpired,
    TransactionNotPending,
    TransactionNotReversible,
    WalletAlreadyFrozen,
    WalletError,
    WalletFrozen,
    WalletNotFrozen,
)
from wallets.services import WalletService
from wallets.swappable import get_transaction_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()

State = Transaction.State
pytestmark = pytest.mark.django_db


def test_deposit_and_withdraw_record_signed_rows(alice):
    deposit = alice.deposit("100.00", meta={"reference": "top-up"})
    withdrawal = alice.withdraw("30.25")
    assert alice.balance == Decimal("69.75")
    assert (deposit.type, deposit.amount, deposit.balance_after) == ("deposit", 100, 100)
    assert (withdrawal.type, withdrawal.amount) == ("withdraw", Decimal("-30.25"))
    assert withdrawal.balance_after == Decimal("69.75")
    assert deposit.meta == {"reference": "top-up"}
    assert deposit.state == withdrawal.state == State.CONFIRMED


def test_withdraw_more_than_available_raises_and_writes_nothing(alice):
    alice.deposit(10)
    with pytest.raises(InsufficientFunds, match="10 USD available"):
        alice.withdraw("10.01")
    assert alice.balance == 10
    assert Transaction.objects.count() == 1


def test_force_withdraw_may_go_negative(alice):
    alice.deposit(5)
    alice.force_withdraw(8)
    assert alice.balance == -3


def test_wallet_instance_has_the_money_methods(alice):
    wallet = alice.get_wallet("savings", name="Savings")
    wallet.deposit(5000)
    assert wallet.balance == 5000  # the caller's object is updated
    wallet.withdraw(1)
    assert Wallet.objects.get(pk=wallet.pk).balance == 4999
    assert alice.balance == 0  # the default wallet is another wallet


def test_pending_deposit_adds_nothing_until_confirmed(alice):
    tx = alice.deposit(50, confirmed=False)
    assert alice.balance == 0
    assert tx.state == State.PENDING and tx.balance_after is None
    assert list(alice.get_pending_transactions()) == [tx]
    WalletService.confirm_transaction(tx)
    assert alice.balance == 50
    assert tx.state == State.CONFIRMED and tx.balance_after == 50
    assert not alice.get_pending_transactions().exists()


def test_pending_withdrawal_holds_its_amount(alice, bob):
    alice.deposit(100)
    pending = alice.withdraw(70, confirmed=False)
    wallet = Wallet.objects.get(pk=alice.wallet.pk)
    assert (wallet.balance, wallet.held, wallet.available) == (100, 70, 30)
    with pytest.raises(InsufficientFunds):
        alice.withdraw(31)
    with pytest.raises(InsufficientFunds):
        alice.transfer(bob, 31)
    WalletService.confirm_transaction(pending)
    wallet.refresh_from_db()
    assert (wallet.balance, wallet.held) == (30, 0)


def test_rejecting_a_pending_withdrawal_releases_the_hold(alice):
    alice.deposit(100)
    pending = alice.withdraw(70, confirmed=False)
    WalletService.reject_transaction(pending, reason="Bank details wrong")
    wallet = Wallet.objects.get(pk=alice.wallet.pk)
    assert (wallet.balance, wallet.held) == (100, 0)
    assert pending.state == State.REJECTED
    assert pending.resolution_note == "Bank details wrong"


def test_the_holder_can_cancel_a_pending_withdrawal(alice):
    alice.deposit(10)
    pending = alice.withdraw(4, confirmed=False)
    WalletService.reject_transaction(pending, state=State.CANCELED)
    assert Transaction.objects.get(pk=pending.pk).state == State.CANCELED
    assert Wallet.objects.get(pk=alice.wallet.pk).held == 0


def test_only_pending_transactions_can_be_confirmed_or_rejected(alice):
    confirmed = alice.deposit(10)
    with pytest.raises(TransactionNotPending):
        WalletService.confirm_transaction(confirmed)
    pending = alice.deposit(5, confirmed=False)
    WalletService.reject_transaction(pending)
    with pytest.raises(TransactionNotPending, match="rejected"):
        WalletService.confirm_transaction(pending)
    with pytest.raises(TransactionNotPending):
        WalletService.reject_transaction(pending)
    assert alice.balance == 10


def test_pending_transactions_expire(alice, settings, monkeypatch):
    settings.WALLETS = {**settings.WALLETS, "PENDING_EXPIRY_SECONDS": 60}
    alice.deposit(100)
    hold = alice.withdraw(40, confirmed=False)
    topup = alice.deposit(25, confirmed=False)
    assert hold.expires_at is not None
    later = timezone.now() + timedelta(seconds=61)
    assert WalletService.expire_pending() == 0  # not due yet
    monkeypatch.setattr(timezone, "now", lambda: later)
    with pytest.raises(TransactionExpired):
        WalletService.confirm_transaction(topup)
    assert WalletService.expire_pending() == 2
    hold.refresh_from_db()
    assert hold.state == State.EXPIRED
    wallet = Wallet.objects.get(pk=alice.wallet.pk)
    assert (wallet.balance, wallet.held) == (100, 0)
    call_command("wallets_expire_pending")  # nothing left, and no error


def test_reversal_posts_the_opposite_once(alice):
    deposit = alice.deposit(30)
    reversal = WalletService.reverse_transaction(deposit)
    assert reversal.amount == -30 and reversal.reversal_of == deposit
    assert alice.balance == 0
    with pytest.raises(AlreadyReversed):
        WalletService.reverse_transaction(deposit)
    with pytest.raises(TransactionNotReversible, match="reversal cannot"):
        WalletService.reverse_transaction(reversal)
    assert alice.balance == 0


def test_reversing_a_withdrawal_credits_it_back(alice):
    alice.deposit(30)
    withdrawal = alice.withdraw(10)
    WalletService.reverse_transaction(withdrawal)
    assert alice.balance == 30


def test_reversing_a_spent_deposit_needs_funds_unless_forced(alice):
    deposit = alice.deposit(30)
    alice.withdraw(25)
    with pytest.raises(InsufficientFunds):
        WalletService.reverse_transaction(deposit)
    WalletService.reverse_transaction(deposit, force=True)
    assert alice.balance == -25


def test_pending_and_transfer_legs_are_not_reversible(alice, bob):
    alice.deposit(30)
    pending = alice.deposit(5, confirmed=False)
    with pytest.raises(TransactionNotReversible, match="confirmed"):
        WalletService.reverse_transaction(pending)
    transfer = alice.transfer(bob, 10)
    for leg in (transfer.withdraw, transfer.deposit):
        with pytest.raises(TransactionNotReversible, match="refund the transfer"):
            WalletService.reverse_transaction(leg)
    assert (alice.balance, bob.balance) == (20, 10)


def test_frozen_wallet_refuses_every_operation(alice, bob):
    alice.deposit(50)
    bob.deposit(50)
    deposit = alice.deposit(5)
    pending = alice.deposit(5, confirmed=False)
    wallet = alice.freeze_wallet(reason="Chargeback review", by=bob, message="Call us.")
    assert wallet.is_frozen and wallet.frozen_note == "Chargeback review"
    assert wallet.frozen_message == "Call us."
    assert wallet.frozen_by == bob and wallet.frozen_at is not None
    attempts = [
        lambda: alice.deposit(1),
        lambda: alice.withdraw(1),
        lambda: alice.force_withdraw(1),
        lambda: alice.transfer(bob, 1),
        lambda: bob.transfer(alice, 1),
        lambda: WalletService.confirm_transaction(pending),
        lambda: WalletService.reverse_transaction(deposit),
    ]
    for attempt in attempts:
        with pytest.raises(WalletFrozen, match="Call us") as refused:
            attempt()
        # The holder's message, never the staff's private note.
        assert "Chargeback" not in refused.value.message
        assert refused.value.code == "wallet_frozen"
        assert refused.value.wallet.pk == wallet.pk
    assert (alice.balance, bob.balance) == (55, 50)
    alice.unfreeze_wallet()
    alice.transfer(bob, 1)
    assert alice.balance == 54
    fresh = Wallet.objects.get(pk=wallet.pk)
    assert not fresh.is_frozen and fresh.frozen_note == "" and fresh.meta == {}


def test_frozen_without_a_message_tells_the_holder_a_neutral_default(alice, bob):
    alice.deposit(5)
    alice.freeze_wallet(reason="AML case 4411: structuring")
    with pytest.raises(WalletFrozen) as refused:
        alice.transfer(bob, 1)
    assert "AML" not in refused.value.message
    assert Wallet.FROZEN_DEFAULT_MESSAGE in refused.value.message


def test_freezing_twice_and_unfreezing_an_active_wallet_are_refused(alice):
    alice.get_wallet()
    with pytest.raises(WalletNotFrozen):
        alice.unfreeze_wallet()
    alice.freeze_wallet(reason="first")
    with pytest.raises(WalletAlreadyFrozen, match="already frozen"):
        alice.freeze_wallet(reason="second")
    assert Wallet.objects.get(pk=alice.wallet.pk).frozen_note == "first"


def test_transactions_are_never_edited_or_deleted(alice):
    tx = alice.deposit(10)
    tx.amount = Decimal(1000)
    with pytest.raises(ImmutableRowError):
        tx.save()
    with pytest.raises(ImmutableRowError):
        tx.delete()
    with pytest.raises(ImmutableRowError):
        Transaction.objects.all().delete()
    with pytest.raises(ImmutableRowError):
        Transaction.objects.all().update(amount=5)
    assert Transaction.objects.get(pk=tx.pk).amount == 10


def test_wallets_and_holders_with_transactions_are_protected(alice, bob):
    alice.deposit(1)
    with pytest.raises(ProtectedError):
        alice.wallet.delete()
    with pytest.raises(ProtectedError):
        alice.delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        type(alice).objects.filter(pk=alice.pk).delete()
    assert Wallet.objects.filter(pk=alice.wallet.pk).exists()
    # A holder whose wallets never moved money may go, and its empty wallets with it.
    bob.get_wallet("spare")
    bob_pk = bob.pk
    bob.delete()
    assert not Wallet.objects.filter(holder_id=str(bob_pk)).exists()


def test_unsaved_holder_is_refused(db):
    from django.contrib.auth import get_user_model

    with pytest.raises(WalletError, match="Save the holder"):
        get_user_model()(username="ghost").deposit(1)


def test_reasons_with_nul_characters_are_refused_before_anything_changes(alice):
    alice.deposit(10)
    pending = alice.withdraw(4, confirmed=False)
    with pytest.raises(WalletError, match="NUL"):
        alice.freeze_wallet(reason="bad\x00reason")
    with pytest.raises(WalletError, match="NUL"):
        WalletService.reject_transaction(pending, reason="\x00")
    with pytest.raises(WalletError, match="NUL"):
        WalletService.confirm_transaction(pending, note="\x00")
    assert not Wallet.objects.get(pk=alice.wallet.pk).is_frozen
    assert Transaction.objects.get(pk=pending.pk).state == State.PENDING
