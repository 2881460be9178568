"""Bulk deposits, withdrawals and transfers: each item checked as the single call
would check it, the batch all or nothing, in a handful of statements."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.wallets.conftest import make_staff
from wallets import signals
from wallets.exceptions import BulkItemFailed, ErrorCode
from wallets.models import RiskRule, TransferHold
from wallets.reconciliation import reconcile_wallets
from wallets.services import TransferService, WalletService
from wallets.services.bulk import Deposit, TransferItem, Withdrawal
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

pytestmark = pytest.mark.django_db


def fresh(wallet) -> Wallet:
    return Wallet.objects.get(pk=wallet.pk)


@pytest.fixture
def wallets(db):
    users = [make_staff(f"holder{i}", is_staff=False) for i in range(4)]
    return [u.wallet for u in users]


def test_bulk_deposits_post_in_item_order(wallets):
    a, b = wallets[:2]
    txs = WalletService.bulk_deposit([(a, "10.00"), Deposit(b, 5, meta={"ref": "x"}), (a, "2.50")])
    assert [t.amount for t in txs] == [Decimal("10.00"), Decimal(5), Decimal("2.50")]
    assert [t.balance_after for t in txs] == [Decimal(10), Decimal(5), Decimal("12.50")]
    assert txs[1].meta == {"ref": "x"} and all(t.pk for t in txs)
    assert (fresh(a).balance, fresh(b).balance) == (Decimal("12.50"), Decimal(5))
    assert a.balance == Decimal("12.50")  # the caller's objects are brought up to date
    assert reconcile_wallets() == []


def test_withdrawals_count_the_funds_left_by_earlier_items(wallets):
    a, b = wallets[:2]
    WalletService.bulk_deposit([(a, 10), (b, 10)])
    with pytest.raises(BulkItemFailed) as failed:
        WalletService.bulk_withdraw([(a, 6), Withdrawal(b, 1), (a, 5)])
    assert failed.value.index == 2 and failed.value.code == ErrorCode.INSUFFICIENT_FUNDS
    assert "Item 2:" in failed.value.message
    # All or nothing: the first two were not kept either.
    assert (fresh(a).balance, fresh(b).balance) == (10, 10)
    assert Transaction.objects.filter(type="withdraw").count() == 0
    WalletService.bulk_withdraw([(a, 6), (a, 4)])
    assert fresh(a).balance == 0


@pytest.mark.parametrize(
    ("items", "index", "code"),
    [
        ([("A", "1.005")], 0, ErrorCode.AMOUNT_INVALID),
        ([("A", 1), ("A", -1)], 1, ErrorCode.AMOUNT_INVALID),
        ([("A", 1), ("F", 1)], 1, ErrorCode.WALLET_FROZEN),
    ],
)
def test_a_bad_item_is_named_and_nothing_is_written(wallets, items, index, code):
    a, frozen = wallets[0], wallets[1]
    WalletService.freeze(frozen, note="review")
    named = {"A": a, "F": frozen}
    with pytest.raises(BulkItemFailed) as failed:
        WalletService.bulk_deposit([(named[w], amount) for w, amount in items])
    assert (failed.value.index, failed.value.code) == (index, code)
    assert not Transaction.objects.exists()


def test_keys_are_shared_with_the_single_call_and_replay(wallets):
    a = wallets[0]
    single = WalletService.deposit(a, 5, idempotency_key="k1")
    txs = WalletService.bulk_deposit(
        [Deposit(a, 5, idempotency_key="k1"), Deposit(a, 7, idempotency_key="k2"), (a, 1)]
    )
    assert txs[0].pk == single.pk
    again = WalletService.bulk_deposit(
        [Deposit(a, 7, idempotency_key="k2"), Deposit(a, 7, idempotency_key="k2")]
    )
    assert [t.pk for t in again] == [txs[1].pk, txs[1].pk]
    assert fresh(a).balance == 13
    with pytest.raises(BulkItemFailed) as failed:
        WalletService.bulk_deposit([(a, 1), Deposit(a, 8, idempotency_key="k2")])
    assert (failed.value.index, failed.value.code) == (1, ErrorCode.IDEMPOTENCY_CONFLICT)
    assert fresh(a).balance == 13


def test_a_key_used_twice_in_one_batch_moves_money_once(wallets):
    a = wallets[0]
    txs = WalletService.bulk_deposit(
        [Deposit(a, 3, idempotency_key="same"), Deposit(a, 3, idempotency_key="same")]
    )
    assert txs[0].pk == txs[1].pk and fresh(a).balance == 3


def test_bulk_transfers_move_and_conserve(wallets):
    a, b, c, _ = wallets
    WalletService.bulk_deposit([(a, 100), (b, 50)])
    transfers = TransferService.bulk_transfer(
        [(a, b, 30), TransferItem(b, c, 60, meta={"note": "rent"}), (c, a, "0.01")]
    )
    assert [t.amount for t in transfers] == [30, 60, Decimal("0.01")]
    assert all(isinstance(t, Transfer) and t.kind == "transfer" for t in transfers)
    assert transfers[1].meta == {"note": "rent"}
    assert transfers[1].withdraw.wallet_id == b.pk and transfers[1].deposit.wallet_id == c.pk
    balances = [fresh(w).balance for w in (a, b, c)]
    assert balances == [Decimal("70.01"), Decimal(20), Decimal("59.99")]
    assert sum(balances) == 150
    # A bulk transfer is a transfer like any other: it can be refunded.
    TransferService.refund(transfers[2])
    assert (fresh(a).balance, fresh(c).balance) == (Decimal(70), Decimal(60))
    assert reconcile_wallets() == []


def test_bulk_transfer_refusals(wallets, settings):
    a, b = wallets[:2]
    euros = a.holder.get_wallet("eur", unit="EUR")
    WalletService.bulk_deposit([(a, 10)])
    cases = [
        ([(a, b, 11)], ErrorCode.INSUFFICIENT_FUNDS),
        ([(a, b, 4), (a, a, 1)], ErrorCode.SAME_WALLET),
        ([(a, euros, 1)], ErrorCode.UNIT_MISMATCH),
    ]
    for items, code in cases:
        with pytest.raises(BulkItemFailed) as failed:
            TransferService.bulk_transfer(items)
        assert failed.value.code == code
    assert not Transfer.objects.exists() and fresh(a).balance == 10


def test_risk_rules_judge_each_bulk_transfer_counting_the_earlier_ones(wallets):
    a, b = wallets[:2]
    WalletService.bulk_deposit([(a, 100)])
    RiskRule.objects.create(name="daily", max_daily_total=Decimal("25"))
    RiskRule.objects.create(
        name="review", max_single=Decimal("8"), on_breach=RiskRule.OnBreach.HOLD
    )
    results = TransferService.bulk_transfer([(a, b, 5), (a, b, 9), (a, b, 5)])
    assert [type(r) for r in results] == [Transfer, TransferHold, Transfer]
    with pytest.raises(BulkItemFailed) as failed:
        TransferService.bulk_transfer([(a, b, 5), (a, b, 2)])  # 5 + 9 held + 5 + 5 + 2 > 25
    assert (failed.value.index, failed.value.code) == (1, ErrorCode.RISK_LIMIT_EXCEEDED)
    wallet = fresh(a)
    assert (wallet.balance, wallet.held) == (Decimal(90), Decimal(9))


def test_a_thousand_deposits_take_a_handful_of_statements(wallets):
    items = [(wallets[i % 4], 1) for i in range(1000)]
    with CaptureQueriesContext(connection) as captured:
        WalletService.bulk_deposit(items)
    control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")
    data = [q for q in captured.captured_queries if not q["sql"].startswith(control)]
    # Lock the wallets, insert the rows (PostgreSQL: draw their ids, then COPY,
    # which runs outside the cursor's execute), write the balances.
    assert len(data) == (4 if connection.vendor == "postgresql" else 3), [
        q["sql"][:80] for q in data
    ]
    assert any(q["sql"].startswith("UPDATE") for q in data)
    assert [fresh(w).balance for w in wallets] == [250] * 4


def test_signals_go_out_after_commit_for_every_item(wallets, django_capture_on_commit_callbacks):
    seen = []
    signals.transaction_created.connect(
        lambda sender, transaction, **kw: seen.append(transaction.pk),
        weak=False,
        dispatch_uid="bulk-seen",
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            txs = WalletService.bulk_deposit([(wallets[0], 1), (wallets[1], 2)])
            assert seen == []
        assert seen == [t.pk for t in txs]
    finally:
        signals.transaction_created.disconnect(dispatch_uid="bulk-seen")


def test_a_bulk_transfer_is_announced_once_with_every_row(
    wallets, django_capture_on_commit_callbacks
):
    """operation_committed carries the whole batch in one call, after the
    per-row signals, and only once the transaction commits."""
    a, b, c, _ = wallets
    WalletService.deposit(a, 100)
    order, batches = [], []

    def per_row(sender, transfer, **kwargs):
        order.append("transfer_completed")

    def whole(sender, operation, transactions, transfers, **kwargs):
        order.append("operation_committed")
        batches.append((operation, transactions, transfers))

    signals.transfer_completed.connect(per_row, weak=False, dispatch_uid="bulk-row")
    signals.operation_committed.connect(whole, weak=False, dispatch_uid="bulk-whole")
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            made = TransferService.bulk_transfer([(a, b, 5), (a, c, 7), (b, c, 1)])
            assert batches == []
        assert len(callbacks) == 1
    finally:
        signals.transfer_completed.disconnect(dispatch_uid="bulk-row")
        signals.operation_committed.disconnect(dispatch_uid="bulk-whole")
    assert order == ["transfer_completed"] * 3 + ["operation_committed"]
    ((operation, transactions, transfers),) = batches
    assert operation == "bulk_transfer"
    assert [t.pk for t in transfers] == [t.pk for t in made]
    legs = [leg.pk for t in made for leg in (t.withdraw, t.deposit)]
    assert [tx.pk for tx in transactions] == legs
    assert sum(tx.amount for tx in transactions) == 0


def test_a_refused_batch_announces_nothing(wallets, django_capture_on_commit_callbacks):
    a, b, _, _ = wallets
    WalletService.deposit(a, 10)
    batches = []
    signals.operation_committed.connect(
        lambda sender, **kwargs: batches.append(kwargs), weak=False, dispatch_uid="refused"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with pytest.raises(BulkItemFailed):
                TransferService.bulk_transfer([(a, b, 5), (a, b, 50)])
    finally:
        signals.operation_committed.disconnect(dispatch_uid="refused")
    assert callbacks == [] and batches == []


def test_a_configured_policy_judges_every_bulk_transfer(wallets, settings):
    """A project's own transfer policy is asked about each item, as it is about
    each single transfer, even with no risk rule and no ``risk_check`` receiver."""
    from wallets.risk import RiskDecision, TransferPolicy

    class SmallOnly(TransferPolicy):
        def evaluate(self, source, destination, amount, meta):
            if amount > 5:
                return RiskDecision("refuse", "small only", "At most 5 at a time.")
            return None

    settings.WALLETS = {**settings.WALLETS, "TRANSFER_POLICY_CLASS": SmallOnly}
    a, b, _, _ = wallets
    WalletService.deposit(a, 100)
    with pytest.raises(BulkItemFailed) as failed:
        TransferService.bulk_transfer([(a, b, 5), (a, b, 6)])
    assert (failed.value.index, failed.value.code) == (1, ErrorCode.RISK_LIMIT_EXCEEDED)
    assert [fresh(a).balance, fresh(b).balance] == [100, 0]
    assert len(TransferService.bulk_transfer([(a, b, 5), (a, b, 2)])) == 2
    assert fresh(b).balance == 7
