"""The door itself: nesting, replays and what the audit entry sees."""

from decimal import Decimal

import pytest
from django.db import transaction

from wallets.audit import AuditDraft
from wallets.exceptions import IdempotencyConflict
from wallets.models import AuditEntry, IdempotencyRecord
from wallets.operations import Operation, in_operation, run
from wallets.services import WalletService
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()

pytestmark = pytest.mark.django_db
Action = AuditEntry.Action


def test_a_nested_operation_joins_the_outer_one_and_shares_its_locked_rows(alice, bob, staff):
    alice.deposit(10)
    bob.deposit(10)

    def perform(context):
        assert in_operation()
        source, destination = context.locked
        # The engine's own operations, nested: no new transaction, the same rows.
        WalletService.withdraw(source, 4)
        WalletService.deposit(destination, 4)
        assert (source.balance, destination.balance) == (6, 14)
        context.audit = AuditDraft(target=source, amount=Decimal(4), unit="USD")
        return source

    run(
        Operation(
            "move_by_hand",
            wallets=[alice.wallet, bob.wallet],
            actor=staff("test"),
            action=Action.CREDIT,
        ),
        perform,
    )
    assert not in_operation()
    entry = AuditEntry.objects.get()
    assert entry.before["wallets"][str(alice.wallet.uuid)]["balance"] == "10.00"
    assert entry.after["wallets"][str(alice.wallet.uuid)]["balance"] == "6.00"
    assert entry.after["wallets"][str(bob.wallet.uuid)]["balance"] == "14.00"


def test_a_failure_inside_a_nested_operation_undoes_the_whole_operation(alice, bob):
    alice.deposit(10)

    def perform(context):
        WalletService.deposit(context.locked[0], 5)
        raise RuntimeError("the caller's bookkeeping failed")

    with pytest.raises(RuntimeError):
        run(Operation("failing", wallets=[alice.wallet]), perform)
    assert Wallet.objects.get(pk=alice.wallet.pk).balance == 10
    assert alice.wallet.transactions.count() == 1


def test_a_replay_returns_the_first_result_without_running_again(alice):
    alice.get_wallet()
    calls = []

    def perform(context):
        calls.append(1)
        return None

    op = Operation("noop", wallets=[alice.wallet], idempotency_key="k", fingerprint=["x"])
    assert run(op, perform) is None
    assert run(op, perform) is None
    assert calls == [1]
    assert IdempotencyRecord.objects.get().result == {"none": True}
    with pytest.raises(IdempotencyConflict):
        run(
            Operation("noop", wallets=[alice.wallet], idempotency_key="k", fingerprint=["y"]),
            perform,
        )


def test_an_overlong_key_is_refused_before_anything(alice):
    alice.get_wallet()
    with pytest.raises(IdempotencyConflict, match="at most 200"):
        WalletService.deposit(alice.wallet, 1, idempotency_key="k" * 201)
    assert not alice.wallet.transactions.exists()


def test_an_operation_with_an_actor_must_name_its_audit_action(alice, staff):
    alice.get_wallet()
    with pytest.raises(ValueError, match="no audit action"):
        run(Operation("x", wallets=[alice.wallet], actor=staff()), lambda context: None)


def test_signals_wait_for_the_outer_commit(alice, django_capture_on_commit_callbacks):
    from wallets import signals

    seen = []
    signals.balance_changed.connect(
        lambda sender, wallet, **kw: seen.append(wallet.balance), weak=False, dispatch_uid="seen"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            alice.deposit(3)
            assert seen == []  # not before the outer transaction commits
        assert seen == [3]
    finally:
        signals.balance_changed.disconnect(dispatch_uid="seen")
