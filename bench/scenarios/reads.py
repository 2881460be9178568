"""Reads: a wallet's last 50 transactions, and a holder's ``.balance``."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from bench import invariants
from bench.config import Sizes
from bench.contender import Contender
from bench.invariants import Check
from bench.scenarios.base import AMOUNT, FUNDS, Scenario, State
from bench.timing import Round, run_sequential

PAGE = 50


class LastTransactions(Scenario):
    name = "last_50"
    title = "last 50 transactions"

    def prepare(self, contender: Contender, sizes: Sizes) -> State:
        (wallet,) = contender.open_wallets(self.name, 1, Decimal(0))
        for _ in range(sizes.read_rows):
            contender.deposit(wallet, AMOUNT)
        self.note = f"of {sizes.read_rows:,} rows"
        return State([wallet], expected=AMOUNT * sizes.read_rows, extra={"short_pages": 0})

    def run_round(self, contender: Contender, state: State, sizes: Sizes) -> Round:
        (wallet,) = state.wallets

        def read(i: int) -> bool:
            if len(contender.last_transactions(wallet, PAGE)) != PAGE:
                state.extra["short_pages"] += 1
            return True

        return state.record(run_sequential(read, sizes.read_ops))

    def sample(self, contender: Contender, state: State) -> Callable[[], None]:
        return lambda: contender.last_transactions(state.wallets[0], PAGE)  # type: ignore[return-value]

    def checks(self, contender: Contender, state: State) -> list[Check]:
        return [
            *invariants.standard(contender, state.wallets, state.expected),
            invariants.exact_count(
                contender, f"every read got {PAGE} rows", state.extra["short_pages"], 0
            ),
        ]


class BalanceReads(Scenario):
    name = "balance_read"
    title = "holder .balance"

    def prepare(self, contender: Contender, sizes: Sizes) -> State:
        (wallet,) = contender.open_wallets(self.name, 1, Decimal(0))
        contender.deposit(wallet, FUNDS)
        return State([wallet], expected=FUNDS, extra={"wrong": 0})

    def run_round(self, contender: Contender, state: State, sizes: Sizes) -> Round:
        (wallet,) = state.wallets

        def read(i: int) -> bool:
            if contender.balance(wallet) != state.expected:
                state.extra["wrong"] += 1
            return True

        return state.record(run_sequential(read, sizes.read_ops))

    def sample(self, contender: Contender, state: State) -> Callable[[], None]:
        return lambda: contender.balance(state.wallets[0])  # type: ignore[return-value]

    def checks(self, contender: Contender, state: State) -> list[Check]:
        return [
            *invariants.standard(contender, state.wallets, state.expected),
            invariants.exact_count(
                contender, "every read = the stored balance", state.extra["wrong"], 0
            ),
        ]
