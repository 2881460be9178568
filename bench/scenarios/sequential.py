"""One connection, one operation after the other."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from bench import invariants
from bench.config import Sizes
from bench.contender import Contender
from bench.invariants import Check
from bench.scenarios.base import AMOUNT, FUNDS, Scenario, State
from bench.timing import Round, run_sequential


class SequentialDeposits(Scenario):
    name = "deposit_seq"
    title = "sequential deposits"

    def prepare(self, contender: Contender, sizes: Sizes) -> State:
        return State(contender.open_wallets(self.name, 1, Decimal(0)))

    def run_round(self, contender: Contender, state: State, sizes: Sizes) -> Round:
        (wallet,) = state.wallets

        def deposit(i: int) -> bool:
            contender.deposit(wallet, AMOUNT)
            return True

        return state.record(run_sequential(deposit, sizes.sequential_ops), AMOUNT)

    def sample(self, contender: Contender, state: State) -> Callable[[], None]:
        def deposit() -> None:
            contender.deposit(state.wallets[0], AMOUNT)
            state.expected += AMOUNT

        return deposit

    def checks(self, contender: Contender, state: State) -> list[Check]:
        return [
            *invariants.standard(contender, state.wallets, state.expected),
            invariants.exact_count(
                contender, "every deposit posted", state.successes, state.attempts
            ),
        ]


class SequentialTransfers(Scenario):
    name = "transfer_seq"
    title = "sequential transfers"

    def prepare(self, contender: Contender, sizes: Sizes) -> State:
        source, destination = contender.open_wallets(self.name, 2, Decimal(0))
        contender.deposit(source, FUNDS)
        return State([source, destination], expected=FUNDS)

    def run_round(self, contender: Contender, state: State, sizes: Sizes) -> Round:
        source, destination = state.wallets

        def transfer(i: int) -> bool:
            contender.transfer(source, destination, AMOUNT)
            return True

        return state.record(run_sequential(transfer, sizes.sequential_ops))

    def sample(self, contender: Contender, state: State) -> Callable[[], None]:
        source, destination = state.wallets
        return lambda: contender.transfer(source, destination, AMOUNT)

    def checks(self, contender: Contender, state: State) -> list[Check]:
        return [
            *invariants.standard(contender, state.wallets, state.expected),
            invariants.exact_count(
                contender, "every transfer posted", state.successes, state.attempts
            ),
        ]
