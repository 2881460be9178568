"""Connects the wallet engine's after-commit signals to the money log and counters."""

from __future__ import annotations

from portal.ops import logs, metrics
from wallets import signals


def connect() -> None:
    pairs = [
        (signals.transaction_created, logs.log_transaction_created, "log_tx_created"),
        (signals.transaction_confirmed, logs.log_transaction_confirmed, "log_tx_confirmed"),
        (signals.transfer_completed, logs.log_transfer_completed, "log_transfer"),
        (signals.transaction_created, metrics.count_transaction_created, "count_tx_created"),
        (signals.transaction_confirmed, metrics.count_transaction_confirmed, "count_confirmed"),
        (signals.transfer_completed, metrics.count_transfer_completed, "count_transfer"),
    ]
    for signal, receiver, uid in pairs:
        signal.connect(receiver, dispatch_uid=f"portal.ops.{uid}")
