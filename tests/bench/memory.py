"""An in-memory contender for testing the benchmark's checks, honest or broken on purpose."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from bench.contender import NotAvailable, Product
from bench.floor import Tally


class Refused(Exception):
    pass


class MemoryContender:
    name = "memory"
    label = "in memory"
    refused = (Refused,)

    def __init__(self, *, check_funds: bool = True, lose_updates: bool = False) -> None:
        self.check_funds = check_funds
        self.lose_updates = lose_updates
        self.stored: dict[int, Decimal] = {}
        self.rows: dict[int, list[Decimal]] = defaultdict(list)
        self.lock = threading.Lock()
        self.statistics_refreshed = 0

    def open_wallets(self, tag: str, count: int, balance: Decimal) -> list[int]:
        ids = [len(self.stored) + i for i in range(count)]
        for wallet in ids:
            self.stored[wallet] = Decimal(0)
            if balance:
                self.deposit(wallet, balance)
        return ids

    def reload(self, wallet: int) -> int:
        return wallet

    def _post(self, wallet: int, amount: Decimal) -> None:
        self.rows[wallet].append(amount)
        if self.lose_updates:  # read, yield to the other threads, write back a stale sum
            before = self.stored[wallet]
            time.sleep(0.0005)
            self.stored[wallet] = before + amount
        else:
            self.stored[wallet] += amount

    def deposit(self, wallet: int, amount: Decimal) -> None:
        if self.lose_updates:
            self._post(wallet, amount)
            return
        with self.lock:
            self._post(wallet, amount)

    def transfer(self, source: int, destination: int, amount: Decimal) -> None:
        with self.lock:
            if self.check_funds and self.stored[source] < amount:
                raise Refused
            self._post(source, -amount)
            self._post(destination, amount)

    def open_product(self, tag: str, price: Decimal, *, own_wallet: bool) -> Product:
        (merchant,) = self.open_wallets(tag, 1, Decimal(0))
        return Product(tag, price, merchant)

    def pay(self, buyer: int, product: Product) -> None:
        self.transfer(buyer, product.receiver, product.price)

    def last_transactions(self, wallet: int, count: int) -> list[Decimal]:
        return self.rows[wallet][-count:]

    def balance(self, wallet: int) -> Decimal:
        return self.stored[wallet]

    def bulk_deposit(self, items: list[tuple[int, Decimal]]) -> None:
        raise NotAvailable("no bulk API in memory")

    def bulk_transfer(self, items: list[tuple[int, int, Decimal]]) -> None:
        raise NotAvailable("no bulk API in memory")

    def balances(self, wallets: list[int]) -> list[Decimal]:
        return [self.stored[w] for w in wallets]

    def ledger_mismatches(self) -> list[str]:
        return [
            f"wallet {w}: {b} against {sum(self.rows[w], Decimal(0))}"
            for w, b in self.stored.items()
            if b != sum(self.rows[w], Decimal(0))
        ]

    def refresh_statistics(self) -> None:
        self.statistics_refreshed += 1

    def thread_started(self) -> None:
        pass

    def thread_finished(self) -> None:
        pass

    @contextmanager
    def counting(self) -> Iterator[Tally]:
        yield Tally()

    def activity_conninfo(self) -> str | None:
        return None  # no database to sample
