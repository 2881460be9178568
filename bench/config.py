"""How much work each mode does. The full run fits in 15 minutes on a 2-core machine."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    rounds: int  # interleaved rounds per scenario (the figures are medians over them)
    sequential_ops: int  # operations per contender per round, one connection
    concurrent_ops: int  # operations per thread per round
    hot_successes: int  # transfers out of the hot wallet that must succeed per round
    read_rows: int  # rows in the wallet the read scenarios read
    read_ops: int  # reads per contender per round
    bulk_batches: int  # batches per round
    bulk_size: int  # items per batch
    bulk_wallets: int  # wallets the batch spreads over
    history_sizes: tuple[int, int]  # transactions in the small and the large history wallet
    history_repeats: int  # measurements per history figure (the median is reported)
    statement_samples: int  # operations run under the statement counter


FULL = Sizes(
    rounds=11,
    sequential_ops=100,
    concurrent_ops=25,
    hot_successes=100,
    read_rows=1_000,
    read_ops=120,
    bulk_batches=2,
    bulk_size=1_000,
    bulk_wallets=20,
    history_sizes=(20_000, 1_000_000),
    history_repeats=7,
    statement_samples=10,
)

QUICK = Sizes(
    rounds=1,
    sequential_ops=10,
    concurrent_ops=4,
    hot_successes=12,
    read_rows=60,
    read_ops=10,
    bulk_batches=1,
    bulk_size=200,
    bulk_wallets=20,
    history_sizes=(1_000, 5_000),
    history_repeats=2,
    statement_samples=3,
)
