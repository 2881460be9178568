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


@dataclass
class Outbox:
    """What one operation will announce once its transaction commits."""

    operation: str
    sends: list[tuple[Signal, type, dict[str, Any]]] = field(default_factory=list)
    transactions: list[Any] = field(default_factory=list)
    transfers: list[Any] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.sends or self.transactions or self.transfers)

    def send_all(self) -> None:
        for signal, sender, kwargs in self.sends:
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
    sends = outbox.sends
    for tx in transactions:
        sends.append((signals.transaction_created, type(tx), {"transaction": tx}))
        if tx.state == CONFIRMED:
            changed = {"wallet": tx.wallet, "transaction": tx}
            sends.append((signals.balance_changed, Wallet, changed))
    outbox.transactions.extend(transactions)


def queue_transfers(transfers: list[Any]) -> None:
    """``transfer_completed`` for each new transfer; they also go to ``operation_committed``."""
    outbox = _current()
    for transfer in transfers:
        outbox.sends.append(
            (
                signals.transfer_completed,
                type(transfer),
                {
                    "transfer": transfer,
                    "from_wallet": transfer.from_wallet,
                    "to_wallet": transfer.to_wallet,
                },
            )
        )
    outbox.transfers.extend(transfers)
