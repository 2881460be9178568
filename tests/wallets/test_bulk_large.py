"""Large bulk batches. On PostgreSQL their ledger rows stream into the table
by COPY while the items are checked (``wallets.rows.row_stream``); elsewhere,
or when a receiver may query mid-batch, they are inserted once all are made.
Either way the batch must read back exactly, and a refusal anywhere in it
must leave nothing behind."""

from decimal import Decimal

import pytest
from django.db import connection, transaction

from tests.wallets.conftest import make_staff
from wallets import signals
from wallets.exceptions import BulkItemFailed, ErrorCode
from wallets.reconciliation import reconcile_wallets
from wallets.rows import COPY_FROM, build, row_stream, streams
from wallets.services import TransferService, WalletService
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

pytestmark = pytest.mark.django_db

ITEMS = 3 * COPY_FROM


@pytest.fixture
def wallets(db):
    wallets = [make_staff(f"large{i}", is_staff=False).wallet for i in range(4)]
    WalletService.bulk_deposit([(w, 1000) for w in wallets])
    return wallets


def balances(wallets) -> list[Decimal]:
    return [Wallet.objects.get(pk=w.pk).balance for w in wallets]


def ring(wallets, count: int, amount: str = "1.25") -> list[tuple]:
    return [(wallets[i % 4], wallets[(i + 1) % 4], amount) for i in range(count)]


def test_a_large_batch_streams_on_postgresql_only():
    assert streams(Transaction, ITEMS) is (connection.vendor == "postgresql")
    assert not streams(Transaction, COPY_FROM - 1)


def test_a_large_bulk_transfer_reads_back_exactly(wallets):
    made = TransferService.bulk_transfer(
        [(s, d, a) for s, d, a in ring(wallets, ITEMS)] + [(wallets[0], wallets[2], "0.01")]
    )
    assert len(made) == ITEMS + 1 and len({t.pk for t in made}) == ITEMS + 1
    stored = {t.pk: t for t in Transfer.objects.select_related("withdraw", "deposit")}
    for transfer in made:
        again = stored[transfer.pk]
        assert (again.withdraw_id, again.deposit_id) == (transfer.withdraw.pk, transfer.deposit.pk)
        assert again.withdraw.wallet_id == transfer.from_wallet_id
        assert again.deposit.wallet_id == transfer.to_wallet_id
        assert again.withdraw.amount == -again.amount and again.deposit.amount == again.amount
        assert again.uuid == transfer.uuid
    # Each leg stored the balance its wallet had just after it, in item order.
    last = made[-1]
    assert last.withdraw.balance_after == Transaction.objects.get(pk=last.withdraw.pk).balance_after
    assert balances(wallets) == [Decimal("999.99"), 1000, Decimal("1000.01"), 1000]
    assert reconcile_wallets() == []


def test_a_refusal_deep_in_a_large_batch_keeps_nothing(wallets):
    before = balances(wallets)
    rows_before = Transaction.objects.count()
    items = ring(wallets, ITEMS)
    items[ITEMS - 5] = (wallets[1], wallets[2], "5000")  # more than wallet 1 holds
    with pytest.raises(BulkItemFailed) as failed:
        TransferService.bulk_transfer(items)
    assert (failed.value.index, failed.value.code) == (ITEMS - 5, ErrorCode.INSUFFICIENT_FUNDS)
    assert balances(wallets) == before
    assert Transaction.objects.count() == rows_before and not Transfer.objects.exists()
    # The connection is fit for the next operation.
    TransferService.bulk_transfer(ring(wallets, ITEMS))
    assert balances(wallets) == before and reconcile_wallets() == []


def test_a_refused_large_withdrawal_batch_keeps_nothing(wallets):
    items = [(wallets[i % 4], 10) for i in range(ITEMS)] + [(wallets[0], 1000)]
    with pytest.raises(BulkItemFailed) as failed:
        WalletService.bulk_withdraw(items)
    assert failed.value.index == ITEMS and failed.value.code == ErrorCode.INSUFFICIENT_FUNDS
    assert balances(wallets) == [1000] * 4
    assert not Transaction.objects.filter(type=Transaction.Type.WITHDRAW).exists()


def test_a_receiver_that_queries_mid_batch_still_works(wallets):
    """A ``pre_withdraw`` receiver may read the database for each item; no
    statement can run while a COPY is open, so such a batch is not streamed."""
    seen = []

    def count_rows(sender, wallet, amount, meta, **kwargs):
        seen.append(Transaction.objects.filter(wallet=wallet).count())

    signals.pre_withdraw.connect(count_rows, weak=False, dispatch_uid="queries-mid-batch")
    try:
        made = WalletService.bulk_withdraw([(wallets[i % 4], 1) for i in range(ITEMS)])
    finally:
        signals.pre_withdraw.disconnect(dispatch_uid="queries-mid-batch")
    assert len(seen) == ITEMS and len(made) == ITEMS
    assert balances(wallets) == [1000 - ITEMS // 4] * 4


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_a_stream_takes_no_more_rows_than_it_drew_ids_for(wallets):
    wallet = Wallet.objects.get(pk=wallets[0].pk)
    with pytest.raises(ValueError, match="opened for 2 rows"):
        with row_stream(Transaction, 2) as add:
            for _ in range(3):
                add(build(Transaction, wallet=wallet, type="deposit", amount=1, state="pending"))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_a_statement_inside_a_stream_is_refused_not_left_waiting(wallets):
    wallet = Wallet.objects.get(pk=wallets[0].pk)
    rows_before = Transaction.objects.count()
    with pytest.raises(RuntimeError, match="No statement can run"):
        with transaction.atomic(), row_stream(Transaction, 2) as add:
            add(build(Transaction, wallet=wallet, type="deposit", amount=1, state="pending"))
            Wallet.objects.filter(pk=wallet.pk).exists()
    assert Transaction.objects.count() == rows_before


def test_pre_signal_receivers_hear_every_item_of_a_large_transfer_batch(wallets):
    heard = []
    closed = wallets[3]

    def refuse_closed(sender, wallet, amount, meta, **kwargs):
        heard.append(wallet.pk)
        if wallet.pk == closed.pk:
            raise PermissionError("closed")

    signals.pre_deposit.connect(refuse_closed, weak=False, dispatch_uid="large-closed")
    try:
        items = [(wallets[0], wallets[1 + i % 2], 1) for i in range(ITEMS)]
        made = TransferService.bulk_transfer(items)
        assert len(heard) == ITEMS and len(made) == ITEMS
        with pytest.raises(PermissionError):
            TransferService.bulk_transfer([*items, (wallets[0], closed, 1)])
    finally:
        signals.pre_deposit.disconnect(dispatch_uid="large-closed")
    assert balances(wallets) == [1000 - ITEMS, 1000 + ITEMS // 2, 1000 + ITEMS // 2, 1000]
