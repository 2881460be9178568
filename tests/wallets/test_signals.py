import pytest
from django.db import transaction

from wallets import signals
from wallets.exceptions import InsufficientFunds
from wallets.services import WalletService
from wallets.swappable import get_transaction_model

Transaction = get_transaction_model()

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    events = []
    handlers = {}
    for name in (
        "balance_changed",
        "transaction_created",
        "wallet_created",
        "transfer_completed",
        "transaction_confirmed",
    ):

        def handler(sender, _name=name, **kwargs):
            events.append((_name, kwargs))

        handlers[name] = handler
        getattr(signals, name).connect(handler)
    yield events
    for name, handler in handlers.items():
        getattr(signals, name).disconnect(handler)


@pytest.fixture
def committed():
    batches = []

    def handler(sender, operation, transactions, transfers, **kwargs):
        batches.append((operation, [t.pk for t in transactions], [t.pk for t in transfers]))

    signals.operation_committed.connect(handler)
    yield batches
    signals.operation_committed.disconnect(handler)


def names(events):
    return [name for name, _ in events]


def test_signals_are_sent_only_after_commit(alice, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        alice.deposit(10)
    assert received == []
    for callback in callbacks:
        callback()
    assert names(received) == ["wallet_created", "transaction_created", "balance_changed"]
    assert received[2][1]["wallet"].balance == 10
    assert received[2][1]["transaction"].amount == 10


def test_transfer_and_confirmation_signals(
    alice, bob, received, django_capture_on_commit_callbacks
):
    alice.deposit(10)
    bob.wallet  # noqa: B018 - open the wallet outside the captured block
    with django_capture_on_commit_callbacks(execute=True):
        transfer = alice.transfer(bob, 4)
        pending = alice.deposit(1, confirmed=False)
        WalletService.confirm_transaction(pending)
    assert names(received) == [
        "transaction_created",
        "balance_changed",
        "transaction_created",
        "balance_changed",
        "transfer_completed",
        "transaction_created",
        "transaction_confirmed",
        "balance_changed",
    ]
    completed = received[4][1]
    assert completed["transfer"] == transfer
    assert completed["from_wallet"] == alice.wallet and completed["to_wallet"] == bob.wallet


def test_nothing_is_sent_for_work_that_rolls_back(
    alice, received, committed, django_capture_on_commit_callbacks
):
    alice.wallet  # noqa: B018
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            alice.deposit(10)
            raise RuntimeError("the caller's work failed")
        with pytest.raises(InsufficientFunds):
            alice.withdraw(5)
    assert received == [] and committed == []
    assert alice.balance == 0


def test_a_pre_signal_receiver_can_cancel_the_operation(alice, bob):
    alice.deposit(100)

    def limit(sender, wallet, amount, meta, **kwargs):
        if amount > 50:
            raise InsufficientFunds("Withdrawals over 50 need approval.")

    def no_deposits_to_bob(sender, wallet, amount, meta, **kwargs):
        if wallet.holder_id == str(bob.pk):
            raise PermissionError("bob is closed")

    signals.pre_withdraw.connect(limit)
    signals.pre_deposit.connect(no_deposits_to_bob)
    try:
        with pytest.raises(InsufficientFunds, match="need approval"):
            alice.withdraw(60)
        with pytest.raises(PermissionError):
            alice.transfer(bob, 5)
        alice.withdraw(40)
    finally:
        signals.pre_withdraw.disconnect(limit)
        signals.pre_deposit.disconnect(no_deposits_to_bob)
    assert alice.balance == 60 and bob.balance == 0
    assert Transaction.objects.count() == 2


def test_each_committed_operation_is_announced_once_with_what_it_wrote(
    alice, bob, committed, django_capture_on_commit_callbacks
):
    alice.wallet, bob.wallet  # noqa: B018 - open the wallets outside the captured block
    with django_capture_on_commit_callbacks(execute=True):
        deposit = alice.deposit(10)
        transfer = alice.transfer(bob, 4)
        pending = alice.deposit(1, confirmed=False)
        WalletService.confirm_transaction(pending)
    assert committed == [
        ("deposit", [deposit.pk], []),
        ("transfer", [transfer.withdraw_id, transfer.deposit_id], [transfer.pk]),
        ("deposit", [pending.pk], []),
    ]


def listening_to(signal, events):
    def handler(sender, **kwargs):
        events.append((sender, kwargs))

    signal.connect(handler, weak=False)
    return handler


def test_a_row_sends_only_the_signals_that_have_receivers(
    alice, bob, django_capture_on_commit_callbacks
):
    alice.deposit(10)
    bob.wallet  # noqa: B018
    changed = []
    handler = listening_to(signals.balance_changed, changed)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            transfer = alice.transfer(bob, 4)
    finally:
        signals.balance_changed.disconnect(handler)
    assert [(kwargs["wallet"], kwargs["transaction"]) for _, kwargs in changed] == [
        (alice.wallet, transfer.withdraw),
        (bob.wallet, transfer.deposit),
    ]
    assert [kwargs["wallet"].balance for _, kwargs in changed] == [6, 4]


def test_a_queued_row_is_announced_as_it_was_when_queued(
    alice, received, django_capture_on_commit_callbacks
):
    from wallets import outbox
    from wallets.ledger import entry
    from wallets.rows import insert_rows

    wallet = alice.wallet
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        pending = insert_rows([entry(wallet, 5, confirmed=False)])[0]
        outbox.queue_transactions([pending])
        pending.state = Transaction.State.CONFIRMED  # changed after it was queued
    assert names(received) == ["transaction_created"]
