"""Connects the wallet engine's after-commit signals to the money log and counters."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from portal.ops import logs, metrics
from wallets import signals

logger = logging.getLogger(__name__)


def never_raise(receiver: Callable[..., None]) -> Callable[..., None]:
    """Observability must not break the money path's other after-commit receivers.

    The engine sends these signals with ``send``: a receiver that raised would stop
    the receivers after it (webhook outbox, emails) for that operation.
    """

    @functools.wraps(receiver)
    def safe(*args: Any, **kwargs: Any) -> None:
        try:
            receiver(*args, **kwargs)
        except Exception:
            logger.exception("observability receiver %s failed", receiver.__name__)

    return safe


# New transactions and transfers come once per operation (a bulk operation's
# thousand rows in one call); confirmations one by one.
RECEIVERS = [
    (signals.operation_committed, logs.log_operation_committed, "log_operation"),
    (signals.transaction_confirmed, logs.log_transaction_confirmed, "log_tx_confirmed"),
    (signals.operation_committed, metrics.count_operation_committed, "count_operation"),
    (signals.transaction_confirmed, metrics.count_transaction_confirmed, "count_confirmed"),
]


def connect() -> None:
    for signal, receiver, uid in RECEIVERS:
        # weak=False: the wrapper has no other reference and would be collected.
        signal.connect(never_raise(receiver), weak=False, dispatch_uid=f"portal.ops.{uid}")
