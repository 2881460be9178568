"""``--profile N``: cProfile over N of our engine's operations, with the top costs by layer."""

from __future__ import annotations

import cProfile
import io
import pstats
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from bench.ours import Ours

CATEGORIES = (
    ("/wallets/", "engine (wallets/)"),
    ("/django/db/models/", "Django ORM (db/models)"),
    ("/django/db/backends/", "Django database backend"),
    ("/django/dispatch/", "Django signals"),
    ("/django/", "Django (other)"),
    ("psycopg", "psycopg: sending, and waiting on the server (round trips)"),
    ("sqlite3", "sqlite3"),
)


def _category(filename: str, function: str) -> str:
    if filename == "~":  # built-ins: the database calls are here
        if "psycopg" in function or "wait" in function or "select" in function:
            return "database round trips (psycopg C calls, waits)"
        if "sqlite3" in function:
            return "database calls (sqlite3)"
        return "built-ins"
    for needle, name in CATEGORIES:
        if needle in filename:
            return name
    return "other Python (stdlib, decimal, json...)"


OPERATIONS = ("transfer", "deposit", "pay", "bulk_deposit", "bulk_transfer", "last_50")


def _operation(name: str) -> Callable[[], object]:
    """One of our engine's operations on wallets of its own, warmed up."""
    ours = Ours()
    source, destination = ours.open_wallets("profile", 2, Decimal(0))
    ours.deposit(source, Decimal("1000000"))
    amount = Decimal("1.25")
    operations: dict[str, Callable[[], object]] = {
        "transfer": lambda: ours.transfer(source, destination, amount),
        "deposit": lambda: ours.deposit(destination, amount),
        "bulk_deposit": lambda: ours.bulk_deposit([(destination, amount)] * 1000),
        "bulk_transfer": lambda: ours.bulk_transfer([(source, destination, amount)] * 1000),
        "last_50": lambda: ours.last_transactions(source, 50),
    }
    if name == "last_50":
        for _ in range(60):
            ours.transfer(source, destination, amount)
    if name == "pay":
        product = ours.open_product("profile", Decimal("2.50"), own_wallet=False)
        operations["pay"] = lambda: ours.pay(source, product)
    operation = operations[name]
    for _ in range(20):
        operation()
    return operation


def profile(name: str, count: int) -> str:
    operation = _operation(name)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        operation()
    profiler.disable()

    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    total = stats.total_tt  # type: ignore[attr-defined]
    by_category: dict[str, float] = defaultdict(float)
    for (filename, _line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        by_category[_category(filename, function)] += row[2]  # tottime
    out.write(
        f"cProfile of {count} sequential {name} operations (our engine): "
        f"{total / count * 1000:.2f} ms each under the profiler\n\n"
        "Own time by layer:\n"
    )
    for name, seconds in sorted(by_category.items(), key=lambda kv: -kv[1]):
        out.write(f"  {seconds / total * 100:5.1f}%  {seconds / count * 1000:6.3f} ms/op  {name}\n")
    out.write("\nTop 25 by cumulative time:\n")
    stats.sort_stats("cumulative").print_stats(25)
    out.write("\nTop 20 by own time:\n")
    stats.sort_stats("tottime").print_stats(20)
    return out.getvalue()
