"""The scenarios, in the order they run (``python -m bench --list`` names them)."""

from __future__ import annotations

from bench.scenarios.base import Scenario
from bench.scenarios.bulk import BulkDeposits, BulkTransfers
from bench.scenarios.concurrent import (
    ConcurrentTransfers,
    HotDeposits,
    HotTransfers,
    Payments,
)
from bench.scenarios.reads import BalanceReads, LastTransactions
from bench.scenarios.sequential import SequentialDeposits, SequentialTransfers


def all_scenarios() -> list[Scenario]:
    return [
        SequentialDeposits(),
        SequentialTransfers(),
        ConcurrentTransfers(4),
        ConcurrentTransfers(8),
        HotDeposits(4),
        HotDeposits(8),
        HotTransfers(4),
        HotTransfers(8),
        Payments(4, own_wallet=False),
        Payments(8, own_wallet=True),
        LastTransactions(),
        BalanceReads(),
        BulkDeposits(),
        BulkTransfers(),
    ]
