"""Each staff action: its effect on balances, its one audit entry, and its refusals."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from tests.staff.conftest import make_user
from wallets import moderation
from wallets.abstract_models import ImmutableRowError
from wallets.exceptions import (
    AlreadyRefunded,
    AlreadyReversed,
    InsufficientFunds,
    RefundExceedsTransfer,
    TransactionNotPending,
    WalletFrozen,
)
from wallets.models import AuditEntry, Transaction

pytestmark = pytest.mark.django_db
Action = AuditEntry.Action


def only_entry() -> AuditEntry:
    (entry,) = AuditEntry.objects.all()
    return entry


def test_freeze_writes_audit_entry_with_actor_reason_ip_and_states(holder, moderator):
    wallet = holder.wallet
    entry = moderation.freeze_wallet(wallet, actor=moderator, reason="chargeback", ip="10.0.0.7")
    wallet.refresh_from_db()
    assert wallet.is_frozen and wallet.frozen_reason == "chargeback"
    assert wallet.frozen_by == moderator
    assert only_entry() == entry
    assert entry.actor == moderator and entry.actor_label == moderator.email
    assert entry.action == Action.FREEZE and entry.target == wallet
    assert entry.target_uuid == str(wallet.uuid)
    assert entry.reason == "chargeback" and entry.ip_address == "10.0.0.7"
    assert entry.before["is_frozen"] is False and entry.after["is_frozen"] is True
    assert entry.before["balance"] == entry.after["balance"] == "100.00"


def test_frozen_wallet_refuses_transfers_until_unfrozen(holder, other, moderator):
    moderation.freeze_wallet(holder.wallet, actor=moderator, reason="review")
    with pytest.raises(WalletFrozen):
        holder.transfer(other, 5)
    entry = moderation.unfreeze_wallet(holder.wallet, actor=moderator, reason="cleared")
    assert entry.action == Action.UNFREEZE and entry.before["frozen_reason"] == "review"
    holder.transfer(other, 5)
    assert holder.balance == Decimal("95.00")


def test_freezing_twice_or_unfreezing_an_active_wallet_is_refused(holder, moderator):
    with pytest.raises(moderation.WalletNotFrozen):
        moderation.unfreeze_wallet(holder.wallet, actor=moderator, reason="x")
    moderation.freeze_wallet(holder.wallet, actor=moderator, reason="x")
    with pytest.raises(moderation.WalletAlreadyFrozen):
        moderation.freeze_wallet(holder.wallet, actor=moderator, reason="again")
    assert AuditEntry.objects.count() == 1


def test_confirm_pending_top_up_credits_the_wallet(holder, moderator):
    tx = holder.wallet.deposit("30.00", meta={"request": "top-up"}, confirmed=False)
    entry = moderation.confirm_transaction(tx, actor=moderator, reason="paid by card", ip="::1")
    holder.wallet.refresh_from_db()
    assert holder.wallet.balance == Decimal("130.00")
    assert tx.state == Transaction.State.CONFIRMED and tx.resolution_note == "paid by card"
    assert entry.before == {
        "state": "pending",
        "balance": "100.00",
        "held": "0.00",
        "is_frozen": False,
    }
    assert entry.after["state"] == "confirmed" and entry.after["balance"] == "130.00"
    assert entry.amount == Decimal("30.00") and entry.unit == "USD"
    assert only_entry().target == tx


def test_reject_pending_payout_releases_its_hold(holder, moderator):
    tx = holder.wallet.withdraw("40.00", meta={"request": "payout"}, confirmed=False)
    holder.wallet.refresh_from_db()
    assert holder.wallet.held == Decimal("40.00")
    entry = moderation.reject_transaction(tx, actor=moderator, reason="bank details wrong")
    holder.wallet.refresh_from_db()
    assert (holder.wallet.balance, holder.wallet.held) == (Decimal("100.00"), Decimal("0.00"))
    assert tx.state == Transaction.State.REJECTED
    assert entry.before["held"] == "40.00" and entry.after["held"] == "0.00"


def test_confirming_a_resolved_transaction_is_refused_and_writes_nothing(holder, moderator):
    tx = holder.wallet.deposit("5.00", confirmed=False)
    moderation.reject_transaction(tx, actor=moderator, reason="no payment")
    with pytest.raises(TransactionNotPending):
        moderation.confirm_transaction(tx, actor=moderator, reason="oops")
    assert AuditEntry.objects.count() == 1


def test_reverse_deposit_then_refuse_second_reversal(holder, moderator):
    tx = holder.wallet.deposit("10.00")
    entry = moderation.reverse_transaction(tx, actor=moderator, reason="duplicate credit")
    holder.wallet.refresh_from_db()
    assert holder.wallet.balance == Decimal("100.00")
    assert entry.amount == Decimal("-10.00") and entry.after["reversed"] is True
    assert entry.before["balance"] == "110.00" and entry.after["balance"] == "100.00"
    reversal = Transaction.objects.get(reversal_of=tx)
    assert entry.after["reversal"] == str(reversal.uuid)
    assert reversal.meta["reason"] == "duplicate credit"
    with pytest.raises(AlreadyReversed):
        moderation.reverse_transaction(tx, actor=moderator, reason="again")
    assert AuditEntry.objects.count() == 1


def test_reverse_needs_funds_unless_forced(holder, other, moderator):
    tx = holder.wallet.deposit("10.00")
    holder.transfer(other, "110.00")
    with pytest.raises(InsufficientFunds):
        moderation.reverse_transaction(tx, actor=moderator, reason="fraud")
    assert not AuditEntry.objects.exists()
    moderation.reverse_transaction(tx, actor=moderator, reason="fraud", force=True)
    holder.wallet.refresh_from_db()
    assert holder.wallet.balance == Decimal("-10.00")


def test_partial_then_full_refund_of_a_transfer_and_over_refund(holder, other, moderator):
    transfer = holder.transfer(other, "20.00")
    with pytest.raises(RefundExceedsTransfer):
        moderation.refund_transfer(transfer, actor=moderator, reason="x", amount="25.00")
    assert not AuditEntry.objects.exists()
    first = moderation.refund_transfer(transfer, actor=moderator, reason="half", amount="5.00")
    assert first.before["refund_state"] == "none" and first.after["refund_state"] == "partial"
    assert first.after["from_balance"] == "85.00" and first.after["to_balance"] == "35.00"
    second = moderation.refund_transfer(transfer, actor=moderator, reason="rest")
    assert second.amount == Decimal("15.00") and transfer.refund_state == "full"
    holder.wallet.refresh_from_db()
    assert holder.wallet.balance == Decimal("100.00")
    with pytest.raises(AlreadyRefunded):
        moderation.refund_transfer(transfer, actor=moderator, reason="again")
    assert AuditEntry.objects.filter(action=Action.REFUND_TRANSFER).count() == 2


def test_refund_into_a_frozen_wallet_is_refused(holder, other, moderator):
    transfer = holder.transfer(other, "20.00")
    moderation.freeze_wallet(holder.wallet, actor=moderator, reason="review")
    with pytest.raises(WalletFrozen):
        moderation.refund_transfer(transfer, actor=moderator, reason="customer asked")
    assert AuditEntry.objects.count() == 1  # only the freeze


def test_manual_credit_and_debit(holder, moderator):
    credit = moderation.adjust_wallet(
        holder.wallet, actor=moderator, reason="goodwill", amount="7.50", credit=True
    )
    assert credit.action == Action.CREDIT and credit.amount == Decimal("7.50")
    debit = moderation.adjust_wallet(
        holder.wallet, actor=moderator, reason="fee", amount="2.50", credit=False
    )
    assert debit.action == Action.DEBIT and debit.amount == Decimal("-2.50")
    holder.wallet.refresh_from_db()
    assert holder.wallet.balance == Decimal("105.00")
    tx = Transaction.objects.get(uuid=debit.after["transaction"])
    assert tx.meta["staff_action"] == "debit" and tx.meta["reason"] == "fee"


def test_debit_past_the_balance_needs_allow_negative(holder, moderator):
    with pytest.raises(InsufficientFunds):
        moderation.adjust_wallet(
            holder.wallet, actor=moderator, reason="fee", amount="150", credit=False
        )
    assert not AuditEntry.objects.exists()
    moderation.adjust_wallet(
        holder.wallet,
        actor=moderator,
        reason="fee",
        amount="150",
        credit=False,
        allow_negative=True,
    )
    holder.wallet.refresh_from_db()
    assert holder.wallet.balance == Decimal("-50.00")


def test_same_idempotency_key_moves_money_once(holder, moderator):
    first = moderation.adjust_wallet(
        holder.wallet,
        actor=moderator,
        reason="bonus",
        amount="5",
        credit=True,
        idempotency_key="k-1",
    )
    again = moderation.adjust_wallet(
        holder.wallet,
        actor=moderator,
        reason="bonus",
        amount="5",
        credit=True,
        idempotency_key="k-1",
    )
    assert first == again
    holder.wallet.refresh_from_db()
    assert holder.wallet.balance == Decimal("105.00")
    assert AuditEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("action", "call"),
    [
        ("freeze", lambda w, tx, tr, u: moderation.freeze_wallet(w, actor=u, reason="r")),
        ("confirm", lambda w, tx, tr, u: moderation.confirm_transaction(tx, actor=u, reason="r")),
        ("reject", lambda w, tx, tr, u: moderation.reject_transaction(tx, actor=u, reason="r")),
        ("refund", lambda w, tx, tr, u: moderation.refund_transfer(tr, actor=u, reason="r")),
        (
            "credit",
            lambda w, tx, tr, u: moderation.adjust_wallet(
                w, actor=u, reason="r", amount=1, credit=True
            ),
        ),
    ],
)
def test_actions_need_staff_with_the_permission(action, call, holder, other, viewer):
    tx = holder.wallet.deposit("5.00", confirmed=False)
    transfer = holder.transfer(other, "1.00")
    plain = make_user(
        "plain", perms=("freeze_wallet", "confirm_transaction", "refund_transfer", "adjust_wallet")
    )
    for user in (viewer, plain):
        with pytest.raises(PermissionDenied):
            call(holder.wallet, tx, transfer, user)
    assert not AuditEntry.objects.exists()
    holder.wallet.refresh_from_db()
    assert not holder.wallet.is_frozen and holder.wallet.balance == Decimal("99.00")


def test_each_permission_allows_only_its_own_actions(holder):
    freezer = make_user("freezer", staff=True, perms=("freeze_wallet",))
    moderation.freeze_wallet(holder.wallet, actor=freezer, reason="r")
    with pytest.raises(PermissionDenied):
        moderation.adjust_wallet(holder.wallet, actor=freezer, reason="r", amount=1, credit=True)
    assert moderation.can(freezer, Action.UNFREEZE)
    assert not moderation.can(freezer, Action.REFUND_TRANSFER)


def test_blank_reason_is_refused(holder, moderator):
    with pytest.raises(moderation.ReasonRequired):
        moderation.freeze_wallet(holder.wallet, actor=moderator, reason="   ")
    assert not AuditEntry.objects.exists()


def test_audit_log_is_append_only(holder, moderator):
    entry = moderation.freeze_wallet(holder.wallet, actor=moderator, reason="r")
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


def test_audit_entry_survives_when_the_change_fails_after_it_not(holder, moderator, monkeypatch):
    """The entry and the change commit together: a failing audit write undoes the change."""

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(moderation, "record", broken)
    with pytest.raises(RuntimeError):
        moderation.adjust_wallet(holder.wallet, actor=moderator, reason="r", amount=5, credit=True)
    holder.wallet.refresh_from_db()
    assert holder.wallet.balance == Decimal("100.00")
    assert holder.wallet.transactions.count() == 1
