"""Timing operations: one connection in a loop, or many threads each with its own."""

from __future__ import annotations

import contextlib
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# One operation: True when it succeeded, False when it was refused as expected
# (e.g. insufficient funds on the hot wallet). Anything else raises.
Op = Callable[[int], bool]


@dataclass
class Round:
    """One contender's share of one round."""

    ops: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    successes: int = 0
    refusals: int = 0

    @property
    def ops_per_second(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0


@dataclass
class Summary:
    rounds: int
    ops: int
    ops_per_second: float  # the median over rounds
    p50_ms: float | None
    p95_ms: float | None
    round_ops_per_second: list[float]

    def as_dict(self) -> dict:
        return {
            "rounds": self.rounds,
            "ops": self.ops,
            "ops_per_second": round(self.ops_per_second, 1),
            "p50_ms": None if self.p50_ms is None else round(self.p50_ms, 3),
            "p95_ms": None if self.p95_ms is None else round(self.p95_ms, 3),
            "round_ops_per_second": [round(x, 1) for x in self.round_ops_per_second],
        }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summarize(rounds: list[Round]) -> Summary:
    latencies = [x for r in rounds for x in r.latencies]
    return Summary(
        rounds=len(rounds),
        ops=sum(r.ops for r in rounds),
        ops_per_second=statistics.median(r.ops_per_second for r in rounds),
        p50_ms=percentile(latencies, 0.50) * 1000 if latencies else None,
        p95_ms=percentile(latencies, 0.95) * 1000 if latencies else None,
        round_ops_per_second=[r.ops_per_second for r in rounds],
    )


def run_sequential(op: Op, count: int) -> Round:
    """``count`` operations one after the other on this thread's connection."""
    latencies = []
    successes = 0
    clock = time.perf_counter
    start = clock()
    for i in range(count):
        before = clock()
        successes += op(i)
        latencies.append(clock() - before)
    seconds = clock() - start
    return Round(count, seconds, latencies, successes, count - successes)


def run_parallel(
    workers: int,
    make_op: Callable[[int], Op],
    count: int,
    *,
    thread_started: Callable[[], None],
    thread_finished: Callable[[], None],
) -> Round:
    """``workers`` threads, each with its own connection, run ``count`` operations each.

    Connections are opened and ``make_op(worker)`` prepared before the clock
    starts; the round lasts from the common start to the last thread's end."""
    barrier = threading.Barrier(workers + 1)
    results: list[Round | None] = [None] * workers
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            thread_started()
            op = make_op(index)
            barrier.wait()
            results[index] = run_sequential(op, count)
        except BaseException as error:
            errors.append(error)
            barrier.abort()
        finally:
            thread_finished()

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(workers)]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a thread failed: see below
        barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    if errors:
        raise errors[0]
    done = [r for r in results if r is not None]
    return Round(
        ops=sum(r.ops for r in done),
        seconds=seconds,
        latencies=[x for r in done for x in r.latencies],
        successes=sum(r.successes for r in done),
        refusals=sum(r.refusals for r in done),
    )
