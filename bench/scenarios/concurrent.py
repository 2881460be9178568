"""Threads, each with its own database connection, started together."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal

from bench import invariants
from bench.config import Sizes
from bench.contender import Contender, attempt
from bench.invariants import Check
from bench.scenarios.base import AMOUNT, FUNDS, PRICE, Scenario, State
from bench.timing import Op, Round, run_parallel


def _parallel(
    contender: Contender, workers: int, make_op: Callable[[int], Op], count: int
) -> Round:
    return run_parallel(
        workers,
        make_op,
        count,
        thread_started=contender.thread_started,
        thread_finished=contender.thread_finished,
    )


class ConcurrentTransfers(Scenario):
    """P threads, each moving money between its own pair of wallets."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.name = f"transfer_p{workers}"
        self.title = f"concurrent transfers P={workers}"
        self.note = "distinct pairs"

    def prepare(self, contender: Contender, sizes: Sizes) -> State:
        wallets = contender.open_wallets(self.name, 2 * self.workers, Decimal(0))
        for source in wallets[::2]:
            contender.deposit(source, FUNDS)
        return State(wallets, expected=FUNDS * self.workers)

    def run_round(self, contender: Contender, state: State, sizes: Sizes) -> Round:
        def make_op(worker: int) -> Op:
            source = contender.reload(state.wallets[2 * worker])
            destination = contender.reload(state.wallets[2 * worker + 1])
            return lambda i: attempt(
                contender, lambda: contender.transfer(source, destination, AMOUNT)
            )

        return state.record(_parallel(contender, self.workers, make_op, sizes.concurrent_ops))

    def sample(self, contender: Contender, state: State) -> Callable[[], None]:
        source, destination = state.wallets[:2]
        return lambda: contender.transfer(source, destination, AMOUNT)

    def checks(self, contender: Contender, state: State) -> list[Check]:
        return [
            *invariants.standard(contender, state.wallets, state.expected),
            invariants.exact_count(
                contender, "every transfer posted", state.successes, state.attempts
            ),
        ]


class HotDeposits(Scenario):
    """P threads depositing into one wallet: no update may be lost."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.name = f"hot_deposit_p{workers}"
        self.title = f"hot wallet: deposits P={workers}"
        self.note = "one wallet"

    def prepare(self, contender: Contender, sizes: Sizes) -> State:
        return State(contender.open_wallets(self.name, 1, Decimal(0)))

    def run_round(self, contender: Contender, state: State, sizes: Sizes) -> Round:
        def make_op(worker: int) -> Op:
            wallet = contender.reload(state.wallets[0])
            return lambda i: attempt(contender, lambda: contender.deposit(wallet, AMOUNT))

        result = _parallel(contender, self.workers, make_op, sizes.concurrent_ops)
        return state.record(result, AMOUNT)

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


class HotTransfers(Scenario):
    """P threads transferring out of one wallet that holds exactly K transfers' worth.

    Each round funds the hot wallet with K x amount, then the threads attempt
    25% more than K transfers: exactly K must succeed, the rest be refused for
    insufficient funds, and the wallet must end at exactly zero."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.name = f"hot_transfer_p{workers}"
        self.title = f"hot wallet: transfers out P={workers}"
        self.note = "1 in 5 refused"

    def prepare(self, contender: Contender, sizes: Sizes) -> State:
        wallets = contender.open_wallets(self.name, 1 + self.workers, Decimal(0))
        return State(wallets, extra={"wanted": sizes.hot_successes, "per_round": [], "left": []})

    def run_round(self, contender: Contender, state: State, sizes: Sizes) -> Round:
        hot, receivers = state.wallets[0], state.wallets[1:]
        wanted = state.extra["wanted"]
        contender.deposit(hot, AMOUNT * wanted)  # untimed: the round's budget
        state.expected += AMOUNT * wanted
        per_thread = math.ceil(wanted * 1.25 / self.workers)

        def make_op(worker: int) -> Op:
            source = contender.reload(hot)
            destination = contender.reload(receivers[worker])
            return lambda i: attempt(
                contender, lambda: contender.transfer(source, destination, AMOUNT)
            )

        result = state.record(_parallel(contender, self.workers, make_op, per_thread))
        state.extra["per_round"].append(result.successes)
        state.extra["left"].append(contender.balances([hot])[0])
        return result

    def checks(self, contender: Contender, state: State) -> list[Check]:
        rounds = len(state.extra["per_round"])
        return [
            *invariants.standard(contender, state.wallets, state.expected),
            invariants.exact_count(
                contender,
                "exactly K transfers succeed per round",
                state.extra["per_round"],
                [state.extra["wanted"]] * rounds,
            ),
            invariants.exact_count(
                contender,
                "hot wallet at zero after each round",
                state.extra["left"],
                [Decimal(0)] * rounds,
            ),
        ]


class Payments(Scenario):
    """P buyers paying for one product at the same time.

    With ``own_wallet`` every payment goes into one receiving wallet (ours: the
    product's merchant; the peer's: the product's own wallet). Without, the
    product has no wallet and names no recipient: both charge the buyer (ours
    records a purchase naming the product; the peer withdraws)."""

    def __init__(self, workers: int, *, own_wallet: bool) -> None:
        self.workers = workers
        self.own_wallet = own_wallet
        if own_wallet:
            self.name = f"hot_receiver_p{workers}"
            self.title = f"hot receiver: payments P={workers}"
            self.note = "one merchant"
        else:
            self.name = f"pay_p{workers}"
            self.title = f"concurrent payments P={workers}"
            self.note = "no receiving wallet"

    def prepare(self, contender: Contender, sizes: Sizes) -> State:
        buyers = contender.open_wallets(self.name, self.workers, Decimal(0))
        for buyer in buyers:
            contender.deposit(buyer, FUNDS)
        product = contender.open_product(self.name, PRICE, own_wallet=self.own_wallet)
        wallets = buyers + ([product.receiver] if product.receiver is not None else [])
        return State(wallets, expected=FUNDS * self.workers, extra={"product": product})

    def _change(self, state: State) -> Decimal:
        """What a payment does to the scenario's total: nothing, or minus the price if burnt."""
        return -PRICE if state.extra["product"].receiver is None else Decimal(0)

    def run_round(self, contender: Contender, state: State, sizes: Sizes) -> Round:
        product = state.extra["product"]

        def make_op(worker: int) -> Op:
            buyer = contender.reload(state.wallets[worker])
            return lambda i: attempt(contender, lambda: contender.pay(buyer, product))

        result = _parallel(contender, self.workers, make_op, sizes.concurrent_ops)
        return state.record(result, self._change(state))

    def sample(self, contender: Contender, state: State) -> Callable[[], None]:
        def pay() -> None:
            contender.pay(state.wallets[0], state.extra["product"])
            state.expected += self._change(state)

        return pay

    def checks(self, contender: Contender, state: State) -> list[Check]:
        return [
            *invariants.standard(contender, state.wallets, state.expected),
            invariants.exact_count(
                contender, "every payment posted", state.successes, state.attempts
            ),
        ]
