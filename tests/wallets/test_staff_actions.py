"""Staff actions are engine operations given a StaffActor: each has its effect,
exactly one audit entry written by the operation, its permission and its refusals."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from tests.wallets.conftest import make_staff
from wallets import audit
from wallets.abstract_models import ImmutableRowError
from wallets.exceptions import (
    AlreadyRefunded,
    AlreadyReversed,
    IdempotencyConflict,
    InsufficientFunds,
    ReasonRequired,
    RefundExceedsTransfer,
    TextInvalid,
    TransactionNotPending,
    WalletAlreadyFrozen,
    WalletFrozen,
    WalletInvalid,
    WalletNotFrozen,
)
from wallets.models import AuditEntry
from wallets.services import TransferService, WalletService
from wallets.staff import StaffActor, acting_as_staff, can
from wallets.swappable import get_transaction_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()

pytestmark = pytest.mark.django_db
Action = AuditEntry.Action


def only_entry() -> AuditEntry:
    (entry,) = AuditEntry.objects.all()
    return entry


def fresh(wallet) -> Wallet:
    return Wallet.objects.get(pk=wallet.pk)


def test_freeze_records_message_note_and_one_entry(alice, moderator, staff):
    alice.deposit(100)
    wallet = WalletService.freeze(
        alice.wallet, message="Please call us.", actor=staff("chargeback 991", ip="10.0.0.7")
    )
    assert wallet.is_frozen and wallet.frozen_by == moderator
    assert (wallet.frozen_message, wallet.frozen_note) == ("Please call us.", "chargeback 991")
    entry = only_entry()
    assert (entry.actor, entry.actor_label) == (moderator, moderator.email)
    assert (entry.action, entry.target, entry.target_uuid) == (
        Action.FREEZE,
        fresh(wallet),
        str(wallet.uuid),
    )
    assert (entry.reason, entry.ip_address, entry.unit) == ("chargeback 991", "10.0.0.7", "USD")
    snapshot = entry.before["wallets"][str(wallet.uuid)]
    assert snapshot == {
        "name": "Main wallet",
        "balance": "100.00",
        "held": "0.00",
        "credit_limit": "0.00",
        "is_frozen": False,
    }
    assert entry.after["wallets"][str(wallet.uuid)]["is_frozen"] is True
    assert entry.after["frozen_message"] == "Please call us."


def test_unfreeze_keeps_its_history_in_the_audit_log_not_in_meta(alice, staff):
    alice.deposit(1)
    WalletService.freeze(alice.wallet, actor=staff("review"))
    WalletService.unfreeze(alice.wallet, actor=staff("cleared"))
    wallet = fresh(alice.wallet)
    assert not wallet.is_frozen and wallet.frozen_note == "" and wallet.meta == {}
    freeze, unfreeze = AuditEntry.objects.order_by("pk")
    assert unfreeze.action == Action.UNFREEZE and unfreeze.before["frozen_note"] == "review"
    assert (freeze.reason, unfreeze.reason) == ("review", "cleared")


def test_freezing_twice_or_unfreezing_an_active_wallet_is_refused(alice, staff):
    alice.get_wallet()
    with pytest.raises(WalletNotFrozen):
        WalletService.unfreeze(alice.wallet, actor=staff())
    WalletService.freeze(alice.wallet, actor=staff())
    with pytest.raises(WalletAlreadyFrozen):
        WalletService.freeze(alice.wallet, actor=staff("again"))
    assert AuditEntry.objects.count() == 1


def test_confirm_pending_top_up(alice, staff):
    alice.deposit(100)
    tx = alice.deposit("30.00", meta={"request": "top-up"}, confirmed=False)
    WalletService.confirm_transaction(tx, actor=staff("paid by card", ip="::1"))
    assert fresh(alice.wallet).balance == Decimal("130.00")
    assert tx.state == Transaction.State.CONFIRMED and tx.resolution_note == "paid by card"
    entry = only_entry()
    assert (entry.action, entry.target, entry.amount) == (Action.CONFIRM, tx, Decimal("30.00"))
    assert (entry.before["state"], entry.after["state"]) == ("pending", "confirmed")
    assert entry.after["wallets"][str(alice.wallet.uuid)]["balance"] == "130.00"


def test_reject_pending_payout_releases_its_hold(alice, staff):
    alice.deposit(100)
    tx = alice.withdraw("40.00", confirmed=False)
    assert fresh(alice.wallet).held == Decimal("40.00")
    WalletService.reject_transaction(tx, actor=staff("bank details wrong"))
    wallet = fresh(alice.wallet)
    assert (wallet.balance, wallet.held) == (Decimal("100.00"), Decimal("0.00"))
    assert tx.state == Transaction.State.REJECTED
    entry = only_entry()
    assert entry.before["wallets"][str(wallet.uuid)]["held"] == "40.00"
    assert entry.after["wallets"][str(wallet.uuid)]["held"] == "0.00"


def test_confirming_a_resolved_transaction_is_refused_and_writes_nothing(alice, staff):
    tx = alice.deposit("5.00", confirmed=False)
    WalletService.reject_transaction(tx, actor=staff("no payment"))
    with pytest.raises(TransactionNotPending):
        WalletService.confirm_transaction(tx, actor=staff("oops"))
    assert AuditEntry.objects.count() == 1


def test_reverse_a_deposit_once(alice, staff):
    alice.deposit(100)
    tx = alice.deposit("10.00")
    reversal = WalletService.reverse_transaction(tx, actor=staff("duplicate credit"))
    assert fresh(alice.wallet).balance == Decimal("100.00")
    assert (
        reversal.meta["reason"] == "duplicate credit" and reversal.meta["staff_action"] == "reverse"
    )
    entry = only_entry()
    assert (entry.target, entry.amount) == (tx, Decimal("-10.00"))
    assert entry.after["reversal"] == str(reversal.uuid)
    with pytest.raises(AlreadyReversed):
        WalletService.reverse_transaction(tx, actor=staff("again"))
    assert AuditEntry.objects.count() == 1


def test_reverse_needs_funds_unless_forced(alice, bob, staff):
    alice.deposit(100)
    tx = alice.deposit("10.00")
    alice.transfer(bob, "110.00")
    with pytest.raises(InsufficientFunds):
        WalletService.reverse_transaction(tx, actor=staff("fraud"))
    assert not AuditEntry.objects.exists()
    WalletService.reverse_transaction(tx, force=True, actor=staff("fraud"))
    assert fresh(alice.wallet).balance == Decimal("-10.00")


def test_partial_then_full_refund_and_over_refund(alice, bob, staff):
    alice.deposit(100)
    transfer = alice.transfer(bob, "20.00")
    with pytest.raises(RefundExceedsTransfer):
        TransferService.refund(transfer, "25.00", actor=staff("x"))
    assert not AuditEntry.objects.exists()
    TransferService.refund(transfer, "5.00", actor=staff("half"))
    first = only_entry()
    assert (first.before["refund_state"], first.after["refund_state"]) == ("none", "partial")
    assert first.after["wallets"][str(alice.wallet.uuid)]["balance"] == "85.00"
    assert first.after["wallets"][str(bob.wallet.uuid)]["balance"] == "15.00"
    TransferService.refund(transfer, actor=staff("rest"))
    assert transfer.refund_state == "full"
    assert AuditEntry.objects.order_by("-pk").first().amount == Decimal("15.00")
    assert fresh(alice.wallet).balance == Decimal("100.00")
    with pytest.raises(AlreadyRefunded):
        TransferService.refund(transfer, actor=staff("again"))
    assert AuditEntry.objects.filter(action=Action.REFUND_TRANSFER).count() == 2


def test_refund_into_a_frozen_wallet_is_refused(alice, bob, staff):
    alice.deposit(100)
    transfer = alice.transfer(bob, "20.00")
    WalletService.freeze(alice.wallet, actor=staff("review"))
    with pytest.raises(WalletFrozen):
        TransferService.refund(transfer, actor=staff("customer asked"))
    assert AuditEntry.objects.count() == 1  # only the freeze


def test_manual_credit_and_debit(alice, staff):
    alice.deposit(100)
    credit = WalletService.deposit(alice.wallet, "7.50", actor=staff("goodwill"))
    debit = WalletService.withdraw(alice.wallet, "2.50", actor=staff("fee"))
    assert fresh(alice.wallet).balance == Decimal("105.00")
    assert debit.meta["staff_action"] == "debit" and debit.meta["reason"] == "fee"
    entries = list(AuditEntry.objects.order_by("pk"))
    assert [(e.action, e.amount) for e in entries] == [
        (Action.CREDIT, Decimal("7.50")),
        (Action.DEBIT, Decimal("-2.50")),
    ]
    assert entries[0].after["transaction"] == str(credit.uuid)


def test_debit_past_the_balance_needs_force_withdraw(alice, staff):
    alice.deposit(100)
    with pytest.raises(InsufficientFunds):
        WalletService.withdraw(alice.wallet, "150", actor=staff("fee"))
    assert not AuditEntry.objects.exists()
    WalletService.force_withdraw(alice.wallet, "150", actor=staff("fee"))
    assert fresh(alice.wallet).balance == Decimal("-50.00")


def test_rename_writes_only_the_name(alice, staff):
    alice.deposit(10)
    stale = Wallet.objects.get(pk=alice.wallet.pk)
    alice.deposit(5)  # commits after the copy was read
    WalletService.rename(stale, "Holiday fund", actor=staff("customer asked"))
    wallet = fresh(stale)
    assert (wallet.name, wallet.balance) == ("Holiday fund", Decimal("15.00"))
    entry = only_entry()
    assert entry.action == Action.RENAME
    assert entry.before["wallets"][str(wallet.uuid)]["name"] == "Main wallet"
    assert entry.after["wallets"][str(wallet.uuid)]["name"] == "Holiday fund"
    with pytest.raises(WalletInvalid):
        WalletService.rename(stale, "   ", actor=staff())


def test_existing_wallet_rows_are_never_saved_from_a_copy(alice):
    alice.deposit(10)
    stale = Wallet.objects.get(pk=alice.wallet.pk)
    alice.deposit(5)
    stale.name = "Renamed by save()"
    with pytest.raises(ImmutableRowError):
        stale.save()
    with pytest.raises(ImmutableRowError):
        stale.save(update_fields=["name"])
    assert fresh(stale).balance == Decimal("15.00")


def test_same_key_moves_money_once_and_writes_one_entry(alice, staff):
    alice.deposit(100)
    first = WalletService.deposit(alice.wallet, "5", actor=staff("bonus"), idempotency_key="k-1")
    again = WalletService.deposit(alice.wallet, "5", actor=staff("bonus"), idempotency_key="k-1")
    assert first.pk == again.pk
    assert fresh(alice.wallet).balance == Decimal("105.00")
    assert AuditEntry.objects.count() == 1
    with pytest.raises(IdempotencyConflict):
        WalletService.deposit(alice.wallet, "6", actor=staff("bonus"), idempotency_key="k-1")


def test_staff_keys_are_scoped_to_the_staff_member(alice, moderator, staff):
    other = make_staff("mod2", "adjust_wallet")
    alice.deposit(1)
    WalletService.deposit(alice.wallet, "5", actor=staff("a"), idempotency_key="same")
    WalletService.deposit(alice.wallet, "5", actor=staff("b", user=other), idempotency_key="same")
    assert fresh(alice.wallet).balance == Decimal("11.00")
    assert AuditEntry.objects.count() == 2


@pytest.mark.parametrize(
    "call",
    [
        lambda w, tx, tr, a: WalletService.freeze(w, actor=a),
        lambda w, tx, tr, a: WalletService.confirm_transaction(tx, actor=a),
        lambda w, tx, tr, a: WalletService.reject_transaction(tx, actor=a),
        lambda w, tx, tr, a: TransferService.refund(tr, actor=a),
        lambda w, tx, tr, a: WalletService.deposit(w, 1, actor=a),
        lambda w, tx, tr, a: WalletService.rename(w, "x", actor=a),
    ],
)
def test_actions_need_active_staff_with_the_permission(call, alice, bob):
    alice.deposit(100)
    tx = alice.deposit("5.00", confirmed=False)
    transfer = alice.transfer(bob, "1.00")
    viewer = make_staff("viewer", "view_wallet")
    not_staff = make_staff(
        "plain",
        "freeze_wallet",
        "confirm_transaction",
        "refund_transfer",
        "adjust_wallet",
        "change_wallet",
        is_staff=False,
    )
    for user in (viewer, not_staff):
        with pytest.raises(PermissionDenied):
            call(alice.wallet, tx, transfer, StaffActor(user, "because"))
    assert not AuditEntry.objects.exists()
    wallet = fresh(alice.wallet)
    assert not wallet.is_frozen and wallet.balance == Decimal("99.00")
    assert Transaction.objects.get(pk=tx.pk).state == "pending"


def test_each_permission_allows_only_its_own_actions(alice):
    freezer = make_staff("freezer", "freeze_wallet")
    alice.get_wallet()
    WalletService.freeze(alice.wallet, actor=StaffActor(freezer, "r"))
    with pytest.raises(PermissionDenied):
        WalletService.deposit(alice.wallet, 1, actor=StaffActor(freezer, "r"))
    assert can(freezer, Action.UNFREEZE) and not can(freezer, Action.REFUND_TRANSFER)


def test_a_blank_or_unstorable_reason_is_refused_before_anything(alice, staff):
    alice.get_wallet()
    with pytest.raises(ReasonRequired):
        WalletService.freeze(alice.wallet, actor=staff("   "))
    with pytest.raises(TextInvalid):
        WalletService.freeze(alice.wallet, actor=staff("bad\x00reason"))
    assert not AuditEntry.objects.exists() and not fresh(alice.wallet).is_frozen


def test_acting_as_staff_decides_who_is_audited(alice, moderator):
    assert acting_as_staff(moderator, Action.REFUND_ORDER, is_owner=True) is None
    actor = acting_as_staff(moderator, Action.REFUND_ORDER, is_owner=False, reason="r", ip="::1")
    assert (actor.user, actor.reason, actor.ip) == (moderator, "r", "::1")
    with pytest.raises(PermissionDenied):
        acting_as_staff(alice, Action.REFUND_ORDER, is_owner=False, reason="r")


def test_the_audit_log_is_append_only(alice, staff):
    alice.get_wallet()
    WalletService.freeze(alice.wallet, actor=staff("r"))
    entry = only_entry()
    entry.reason = "edited"
    with pytest.raises(ImmutableRowError):
        entry.save()
    with pytest.raises(ImmutableRowError):
        entry.delete()
    with pytest.raises(ImmutableRowError):
        AuditEntry.objects.update(reason="x")
    with pytest.raises(ImmutableRowError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get().reason == "r"


def test_a_failing_audit_write_undoes_the_change(alice, staff, monkeypatch):
    """The entry and the change commit together, or neither does."""
    alice.deposit(100)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("wallets.operations.write_entry", broken)
    with pytest.raises(RuntimeError):
        WalletService.deposit(alice.wallet, 5, actor=staff("r"))
    assert fresh(alice.wallet).balance == Decimal("100.00")
    assert alice.wallet.transactions.count() == 1
    assert audit.AuditEntry.objects.count() == 0
