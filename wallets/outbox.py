"""The engine's after-commit signals: queued while an operation runs, sent once it commits.

The outermost operation opens an outbox on its connection; the ledger queues
every after-commit signal in it. When ``perform`` has succeeded, the operation
hands the outbox to ``on_commit`` as a single hook, so a rollback drops it with
everything else. Once the transaction commits, the hook sends each queued
signal in the order it was queued, then ``operation_committed`` once with every
transaction and transfer the operation wrote: a bulk operation of a thousand
items costs its receivers one call, not thousands. Each send is robust: a
failing receiver is logged and does not silence the others.

A signal queued outside any operation gets its own ``on_commit`` hook.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, router
from django.db import transaction as db_transaction
from django.dispatch import Signal

from wallets import signals
from wallets.swappable import get_transaction_model, get_wallet_model

Wallet = get_wallet_model()
CONFIRMED = get_transaction_model().State.CONFIRMED
logger = logging.getLogger(__name__)


Send = tuple[Signal, type, dict[str, Any]]


# The per-row signals of a batch of new rows are made only when sent, and only
# if the signal has receivers: a bulk operation queues thousands of rows, and
# most setups listen to ``operation_committed`` alone.


@dataclass
class _EachTransaction:
    """``transaction_created`` for each row, ``balance_changed`` for each confirmed one."""

    rows: list[Any]
    confirmed: list[bool]  # as each row was when queued

    def sends(self) -> Iterator[Send]:
        created, changed = signals.transaction_created, signals.balance_changed
        created_heard, changed_heard = bool(created.receivers), bool(changed.receivers)
        for tx, confirmed in zip(self.rows, self.confirmed, strict=True):
            if created_heard:
                yield created, type(tx), {"transaction": tx}
            if confirmed and changed_heard:
                yield changed, Wallet, {"wallet": tx.wallet, "transaction": tx}


@dataclass
class _EachTransfer:
    """``transfer_completed`` for each transfer."""

    rows: list[Any]

    def sends(self) -> Iterator[Send]:
        completed = signals.transfer_completed
        if not completed.receivers:
            return
        for transfer in self.rows:
            kwargs = {
                "transfer": transfer,
                "from_wallet": transfer.from_wallet,
                "to_wallet": transfer.to_wallet,
            }
            yield completed, type(transfer), kwargs


@dataclass
class Outbox:
    """What one operation will announce once its transaction commits."""

    operation: str
    sends: list[Send | _EachTransaction | _EachTransfer] = field(default_factory=list)
    transactions: list[Any] = field(default_factory=list)
    transfers: list[Any] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.sends or self.transactions or self.transfers)

    def send_all(self) -> None:
        for queued in self.sends:
            each = (queued,) if isinstance(queued, tuple) else queued.sends()
            for signal, sender, kwargs in each:
                _send(signal, sender, kwargs)
        if self.transactions or self.transfers:
            _send(
                signals.operation_committed,
                Wallet,
                {
                    "operation": self.operation,
                    "transactions": self.transactions,
                    "transfers": self.transfers,
                },
            )


def _send(signal: Signal, sender: type, kwargs: dict[str, Any]) -> None:
    if not signal.receivers:
        return
    try:
        signal.send(sender=sender, **kwargs)
    except Exception:
        # As on_commit(robust=True) would: one failing receiver must not
        # silence the signals queued after it.
        logger.exception("A %s receiver failed", signal)


def open_outbox(using: str, operation: str) -> None:
    """Start queueing for the outermost operation on ``using``."""
    connections[using]._wallets_outbox = Outbox(operation)


def close_outbox(using: str, *, committing: bool) -> None:
    """End the outermost operation: hand its outbox to ``on_commit``, or drop it."""
    connection = connections[using]
    outbox = getattr(connection, "_wallets_outbox", None)
    connection._wallets_outbox = None
    if committing and outbox is not None and not outbox.is_empty():
        db_transaction.on_commit(outbox.send_all, using=using)


def _current() -> Outbox:
    """The running operation's outbox, or a one-off one outside any operation."""
    using = router.db_for_write(Wallet)
    outbox = getattr(connections[using], "_wallets_outbox", None)
    if outbox is None:
        outbox = Outbox("")
        db_transaction.on_commit(outbox.send_all, using=using)
    return outbox


def queue(signal: Signal, sender: type, **kwargs: Any) -> None:
    """Send ``signal`` once the current transaction commits."""
    _current().sends.append((signal, sender, kwargs))


def queue_transactions(transactions: list[Any]) -> None:
    """``transaction_created`` for each new ledger row, and ``balance_changed``
    for each confirmed one; the rows also go to ``operation_committed``."""
    outbox = _current()
    confirmed = [tx.state == CONFIRMED for tx in transactions]
    outbox.sends.append(_EachTransaction(transactions, confirmed))
    outbox.transactions.extend(transactions)


def queue_transfers(transfers: list[Any]) -> None:
    """``transfer_completed`` for each new transfer; they also go to ``operation_committed``."""
    outbox = _current()
    outbox.sends.append(_EachTransfer(transfers))
    outbox.transfers.extend(transfers)
