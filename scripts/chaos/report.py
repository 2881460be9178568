"""The run's figures, printed as plain text."""

from __future__ import annotations

from collections import Counter

from browser import Outcome, Recorder
from checks import Check
from faults import FaultLog


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def latency_line(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    figures = "  ".join(
        f"{label} {percentile(ms, fraction):>7.0f}"
        for label, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
    )
    return f"  {name:<14} {len(ms):>6}  {figures}"


def render(
    recorder: Recorder,
    elapsed: float,
    outcomes: list[Outcome],
    faults: FaultLog,
    checks: list[Check],
    settings: dict[str, object],
) -> str:
    lines = ["", "== Chaos run =="]
    lines.append("  " + ", ".join(f"{key} {value}" for key, value in settings.items()))
    total = sum(len(v) for v in recorder.latencies.values())
    results = Counter(o.result for o in outcomes)
    ok = results.get("ok", 0)
    lines.append(
        f"  {total} requests in {elapsed:.1f} s: {total / elapsed:.1f} requests/s; "
        f"{ok} transfers confirmed ({ok / elapsed:.1f}/s), {results.get('refused', 0)} refused, "
        f"{results.get('unknown', 0)} unknown after retries"
    )
    retried = [o for o in outcomes if o.attempts > 1]
    lines.append(
        f"  confirmations retried with the same key: {len(retried)} "
        f"({sum(o.attempts - 1 for o in retried)} retries)"
    )
    lines.append("== Latency (ms) ==")
    everything = [v for values in recorder.latencies.values() for v in values]
    lines.append(latency_line("all", everything))
    for step in sorted(recorder.latencies):
        lines.append(latency_line(step, recorder.latencies[step]))
    lines.append("== Answers that were not a success, by status ==")
    failures = {
        key: count for key, count in recorder.statuses.items() if not key[1].startswith(("2", "3"))
    }
    if not failures:
        lines.append("  none")
    for (step, status), count in sorted(failures.items()):
        lines.append(f"  {step:<14} {status:<10} {count}")
    lines.append(f"== Faults injected ({len(faults.events)}) ==")
    for at, text in faults.events:
        lines.append(f"  {at:6.1f} s  {text}")
    lines.append("== Checks ==")
    for check in checks:
        lines.append(f"  {'PASS' if check.passed else 'FAIL'}  {check.name}: {check.detail}")
    return "\n".join(lines)
