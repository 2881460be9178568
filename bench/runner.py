"""Running scenarios: every contender in turn, round by round, then counting and checking."""

from __future__ import annotations

import statistics
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.config import Sizes
from bench.contender import Contender, NotAvailable
from bench.history import HistoryResult
from bench.invariants import Check
from bench.scenarios.base import Scenario, State
from bench.timing import Round, Summary, summarize
from bench.waits import WaitSampler

Log = Callable[[str], None]


@dataclass
class ContenderResult:
    contender: str
    label: str
    status: str = "ok"  # "ok", "not available" or "error"
    message: str = ""
    summary: Summary | None = None
    statements: float | None = None  # per operation (per batch for bulk), BEGIN/COMMIT included
    sample_ms: float | None = None  # median of the sampled operations, run alone
    sample_cpu_ms: float | None = None  # this process's CPU time in one of them, median
    sample_commit_ms: float | None = None  # time in COMMIT, per sampled operation
    # PostgreSQL, scenarios that ask for it: where the connections' time went
    # in one more round (bench.waits), by kind, 0 to 1.
    waits: dict[str, float] | None = None

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "status": self.status,
            "message": self.message,
            **(self.summary.as_dict() if self.summary else {}),
            "statements_per_op": self.statements,
            "sequential_sample_ms": _rounded(self.sample_ms),
            "sequential_sample_cpu_ms": _rounded(self.sample_cpu_ms),
            "sequential_sample_commit_ms": _rounded(self.sample_commit_ms),
            "waits": self.waits,
        }


def _rounded(ms: float | None) -> float | None:
    return None if ms is None else round(ms, 3)


@dataclass
class ScenarioResult:
    name: str
    title: str
    note: str
    workers: int
    latency_unit: str
    results: dict[str, ContenderResult]
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0

    def ops_per_second(self, contender: str) -> float | None:
        result = self.results.get(contender)
        if result is None or result.summary is None or result.status != "ok":
            return None
        return result.summary.ops_per_second

    def ratio(self, contender: str, other: str) -> float | None:
        """Throughput of ``contender`` over ``other``: the median of the per-round ratios.

        Each round runs the contenders back to back, so a ratio within a round
        compares them under the same load; the median drops the noisy rounds."""
        if self.ops_per_second(contender) is None or not self.ops_per_second(other):
            return None
        mine = self.results[contender].summary
        theirs = self.results[other].summary
        assert mine is not None and theirs is not None
        pairs = zip(mine.round_ops_per_second, theirs.round_ops_per_second, strict=False)
        ratios = [a / b for a, b in pairs if b]
        if len(ratios) != mine.rounds or mine.rounds != theirs.rounds:
            return mine.ops_per_second / theirs.ops_per_second
        return statistics.median(ratios)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "note": self.note,
            "workers": self.workers,
            "latency_unit": self.latency_unit,
            "seconds": round(self.seconds, 2),
            "contenders": {name: r.as_dict() for name, r in self.results.items()},
            "ratios": {
                "ours_over_peer": self.ratio("ours", "peer"),
                "ours_over_floor": self.ratio("ours", "floor"),
            },
            "invariants": [check.as_dict() for check in self.checks],
        }


def _fail(result: ContenderResult, error: BaseException, log: Log) -> None:
    if isinstance(error, NotAvailable):
        result.status, result.message = "not available", str(error)
        return
    result.status, result.message = "error", f"{type(error).__name__}: {error}"
    log(traceback.format_exc())


@dataclass
class Sample:
    """A scenario's operation run ``samples`` times one after another, with no
    other contender or thread running."""

    statements: float  # per operation, BEGIN and COMMIT included
    ms: float  # median wall time
    cpu_ms: float  # median CPU time of this process
    commit_ms: float  # mean time in COMMIT


def _sample(scenario: Scenario, contender: Contender, state: State, samples: int) -> Sample | None:
    """Statements and time in COMMIT per sampled operation, then the
    operation's median wall and CPU time when run alone."""
    operation = scenario.sample(contender, state)
    if operation is None:
        return None
    operation()  # warm
    with contender.counting() as counter:
        for _ in range(samples):
            operation()
    times, cpu = [], []
    for _ in range(samples):
        start, start_cpu = time.perf_counter(), time.process_time()
        operation()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return Sample(
        counter.total / samples,
        statistics.median(times) * 1000,
        statistics.median(cpu) * 1000,
        counter.commit_seconds / samples * 1000,
    )


def _waits(
    scenario: Scenario, contender: Contender, state: State, sizes: Sizes
) -> dict[str, float] | None:
    """One more round, not timed, with the contender's database activity
    sampled (``bench.waits``): PostgreSQL only."""
    conninfo = contender.activity_conninfo()
    if conninfo is None:
        return None
    with WaitSampler(conninfo) as sampler:
        scenario.run_round(contender, state, sizes)
    return sampler.shares()


def run_scenario(
    scenario: Scenario, contenders: list[Contender], sizes: Sizes, log: Log
) -> ScenarioResult:
    started = time.perf_counter()
    active = [c for c in contenders if c.name in scenario.contenders]
    results = {c.name: ContenderResult(c.name, c.label) for c in active}
    states: dict[str, State] = {}
    for contender in active:
        try:
            states[contender.name] = scenario.prepare(contender, sizes)
            # As a database in service has them: the planner's statistics cover
            # the rows just written (autovacuum would get there in its own time).
            contender.refresh_statistics()
        except Exception as error:
            _fail(results[contender.name], error, log)
    rounds: dict[str, list[Round]] = {c.name: [] for c in active}
    # Round-robin, with the order rotated each round, so that machine noise
    # (and any warm-up) falls on every contender alike.
    for index in range(sizes.rounds if active else 0):
        shift = index % len(active)
        for contender in active[shift:] + active[:shift]:
            result = results[contender.name]
            if result.status != "ok":
                continue
            try:
                state = states[contender.name]
                rounds[contender.name].append(scenario.run_round(contender, state, sizes))
            except Exception as error:
                _fail(result, error, log)
    checks: list[Check] = []
    for contender in active:
        result = results[contender.name]
        if result.status == "ok":
            result.summary = summarize(rounds[contender.name])
            try:
                sample = _sample(
                    scenario, contender, states[contender.name], sizes.statement_samples
                )
                if sample is not None:
                    result.statements, result.sample_ms = sample.statements, sample.ms
                    result.sample_cpu_ms, result.sample_commit_ms = sample.cpu_ms, sample.commit_ms
                if scenario.sample_waits:
                    result.waits = _waits(scenario, contender, states[contender.name], sizes)
            except Exception as error:
                _fail(result, error, log)
        if result.status == "error":
            checks.append(Check(contender.name, "ran without errors", False, result.message))
        if contender.name in states and result.status != "not available":
            try:
                checks.extend(scenario.checks(contender, states[contender.name]))
            except Exception as error:
                checks.append(Check(contender.name, "checks ran", False, repr(error)))
                log(traceback.format_exc())
    return ScenarioResult(
        name=scenario.name,
        title=scenario.title,
        note=scenario.note,
        workers=scenario.workers,
        latency_unit=scenario.latency_unit,
        results=results,
        checks=checks,
        seconds=time.perf_counter() - started,
    )


@dataclass
class RunReport:
    meta: dict[str, Any]
    scenarios: list[ScenarioResult] = field(default_factory=list)
    history: HistoryResult | None = None
    extra_checks: list[Check] = field(default_factory=list)
    elapsed_seconds: float = 0.0

    def scenario(self, name: str) -> ScenarioResult | None:
        return next((s for s in self.scenarios if s.name == name), None)

    @property
    def checks(self) -> list[Check]:
        found = [c for s in self.scenarios for c in s.checks]
        if self.history is not None:
            found += self.history.checks
        return found + self.extra_checks

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]
