"""The engine's bulk API: batches of 1,000 items over 20 wallets, in one transaction each.

dj-wallet has no bulk API; the floor does the same batch in one transaction
(lock the 20 rows, one batched INSERT, one UPDATE)."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

from bench import invariants
from bench.config import Sizes
from bench.contender import Contender
from bench.invariants import Check
from bench.scenarios.base import AMOUNT, FUNDS, Scenario, State
from bench.timing import Round

Batch = Callable[[], None]


def _timed_batches(batch: Batch, batches: int, size: int) -> Round:
    latencies = []
    for _ in range(batches):
        start = time.perf_counter()
        batch()
        latencies.append(time.perf_counter() - start)
    ops = batches * size
    return Round(ops, sum(latencies), latencies, successes=ops)


class BulkDeposits(Scenario):
    name = "bulk_deposit"
    title = "bulk deposits"
    contenders = ("ours", "floor")
    latency_unit = "batch"

    def prepare(self, contender: Contender, sizes: Sizes) -> State:
        self.note = f"{sizes.bulk_size:,} x {sizes.bulk_wallets} wallets"
        wallets = contender.open_wallets(self.name, sizes.bulk_wallets, Decimal(0))
        return State(wallets, extra={"size": sizes.bulk_size})

    def _batch(self, contender: Contender, state: State, size: int) -> Batch:
        wallets = state.wallets
        items = [(wallets[i % len(wallets)], AMOUNT) for i in range(size)]
        return lambda: contender.bulk_deposit(items)

    def run_round(self, contender: Contender, state: State, sizes: Sizes) -> Round:
        batch = self._batch(contender, state, sizes.bulk_size)
        result = _timed_batches(batch, sizes.bulk_batches, sizes.bulk_size)
        return state.record(result, AMOUNT)

    def sample(self, contender: Contender, state: State) -> Callable[[], None]:
        size = state.extra["size"]
        batch = self._batch(contender, state, size)

        def deposit() -> None:
            batch()
            state.expected += AMOUNT * size

        return deposit

    def checks(self, contender: Contender, state: State) -> list[Check]:
        return invariants.standard(contender, state.wallets, state.expected)


class BulkTransfers(Scenario):
    name = "bulk_transfer"
    title = "bulk transfers"
    contenders = ("ours", "floor")
    latency_unit = "batch"

    def prepare(self, contender: Contender, sizes: Sizes) -> State:
        self.note = f"{sizes.bulk_size:,} x {sizes.bulk_wallets} wallets"
        wallets = contender.open_wallets(self.name, sizes.bulk_wallets, Decimal(0))
        for wallet in wallets:
            contender.deposit(wallet, FUNDS)
        return State(wallets, expected=FUNDS * len(wallets), extra={"size": sizes.bulk_size})

    def _batch(self, contender: Contender, state: State, size: int) -> Batch:
        wallets = state.wallets
        count = len(wallets)
        items = [(wallets[i % count], wallets[(i + 1) % count], AMOUNT) for i in range(size)]
        return lambda: contender.bulk_transfer(items)

    def run_round(self, contender: Contender, state: State, sizes: Sizes) -> Round:
        batch = self._batch(contender, state, sizes.bulk_size)
        return state.record(_timed_batches(batch, sizes.bulk_batches, sizes.bulk_size))

    def sample(self, contender: Contender, state: State) -> Callable[[], None]:
        return self._batch(contender, state, state.extra["size"])

    def checks(self, contender: Contender, state: State) -> list[Check]:
        return invariants.standard(contender, state.wallets, state.expected)
