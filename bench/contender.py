"""What the scenarios ask of each contender: our engine, the peer, the plain-SQL floor."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol


class NotAvailable(Exception):
    """The contender has no such operation (yet)."""


@dataclass
class Product:
    """A product to pay for, and the wallet its price lands in (``None``: it is burnt)."""

    item: Any
    price: Decimal
    receiver: Any | None


class Counter(Protocol):
    """Counts statements, BEGIN and COMMIT included; ``total`` after the block,
    and ``commit_seconds``, the time spent in COMMIT."""

    commit_seconds: float

    @property
    def total(self) -> int: ...


class Contender(Protocol):
    name: str  # "ours", "peer" or "floor"
    label: str
    # Refusals a scenario expects (insufficient funds on the hot wallet).
    refused: tuple[type[Exception], ...]

    def open_wallets(self, tag: str, count: int, balance: Decimal) -> list[Any]: ...
    def reload(self, wallet: Any) -> Any: ...
    def deposit(self, wallet: Any, amount: Decimal) -> None: ...
    def transfer(self, source: Any, destination: Any, amount: Decimal) -> None: ...
    def open_product(self, tag: str, price: Decimal, *, own_wallet: bool) -> Product: ...
    def pay(self, buyer: Any, product: Product) -> None: ...
    def last_transactions(self, wallet: Any, count: int) -> list[Any]: ...
    def balance(self, wallet: Any) -> Decimal: ...
    def bulk_deposit(self, items: list[tuple[Any, Decimal]]) -> None: ...
    def bulk_transfer(self, items: list[tuple[Any, Any, Decimal]]) -> None: ...
    def balances(self, wallets: list[Any]) -> list[Decimal]: ...
    def ledger_mismatches(self) -> list[str]: ...
    def refresh_statistics(self) -> None: ...
    def thread_started(self) -> None: ...
    def thread_finished(self) -> None: ...
    def counting(self) -> AbstractContextManager[Counter]: ...
    # On PostgreSQL, a libpq connection string for the database the
    # contender's connections use (bench.waits samples its activity); else None.
    def activity_conninfo(self) -> str | None: ...


def attempt(contender: Contender, action: Callable[[], object]) -> bool:
    """Run one operation: True when it went through, False when it was refused as expected."""
    try:
        action()
    except contender.refused:
        return False
    return True
