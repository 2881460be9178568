"""What a scenario is: set up per contender, one timed round, one sampled operation, checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bench.config import Sizes
from bench.contender import Contender
from bench.invariants import Check
from bench.timing import Round

AMOUNT = Decimal("1.25")
PRICE = Decimal("2.50")
FUNDS = Decimal("100000.00")
ALL = ("ours", "peer", "floor")


@dataclass
class State:
    """One contender's wallets in a scenario and what they must add up to."""

    wallets: list[Any]
    expected: Decimal = Decimal(0)
    attempts: int = 0
    successes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def record(self, result: Round, change: Decimal = Decimal(0)) -> Round:
        """Count a round; ``change`` is what each success adds to the wallets' total."""
        self.attempts += result.ops
        self.successes += result.successes
        self.expected += change * result.successes
        return result


class Scenario:
    name: str = ""
    title: str = ""
    note: str = ""
    contenders: tuple[str, ...] = ALL
    workers: int = 1
    # What the latency percentiles time: one operation, or one batch (bulk).
    latency_unit: str = "op"

    @property
    def sample_waits(self) -> bool:
        """Whether one more round samples where the connections wait
        (``bench.waits``): in every scenario of several threads."""
        return self.workers > 1

    def prepare(self, contender: Contender, sizes: Sizes) -> State:
        raise NotImplementedError

    def run_round(self, contender: Contender, state: State, sizes: Sizes) -> Round:
        raise NotImplementedError

    def sample(self, contender: Contender, state: State) -> Callable[[], None] | None:
        """One operation, run alone under the statement counter (``None``: not counted).

        It keeps ``state`` right, so the checks still hold afterwards."""
        return None

    def checks(self, contender: Contender, state: State) -> list[Check]:
        raise NotImplementedError
