"""The engine's speed goals, checked against a run's figures (informational only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.runner import RunReport, ScenarioResult
from bench.waits import CLIENT, ROW_LOCK, RUNNING, WAL

ORDER = ("ours", "peer", "floor")
# The scenarios the goals want at 3x dj-wallet or better.
PEER_GOAL_SCENARIOS = (
    "deposit_seq",
    "transfer_seq",
    "transfer_p4",
    "transfer_p8",
    "hot_deposit_p4",
    "hot_deposit_p8",
    "hot_transfer_p4",
    "hot_transfer_p8",
    "pay_p4",
    "last_50",
    "balance_read",
)


@dataclass
class Goal:
    text: str
    met: bool | None  # None: not measured in this run, or not a goal on its database
    figure: str
    # The peer ratios, the statement budgets and the bulk rates are goals on
    # PostgreSQL: on another database their figures are shown, not judged.
    postgres_only: bool = False
    elsewhere: str = ""  # "PostgreSQL" on such a run
    why: str = ""  # where the time goes, for a goal not met

    def as_dict(self) -> dict:
        return {
            "goal": self.text,
            "met": self.met,
            "figure": self.figure,
            "goal_on": self.elsewhere or None,
            "why": self.why or None,
        }


def fmt(value: float | None, digits: int = 1, suffix: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}{suffix}"


def hot_receiver(report: RunReport) -> dict[str, Any] | None:
    hot, pairs = report.scenario("hot_receiver_p8"), report.scenario("transfer_p8")
    if hot is None or pairs is None:
        return None
    ratios = {}
    for name in ORDER:
        a, b = hot.ops_per_second(name), pairs.ops_per_second(name)
        ratios[name] = a / b if a and b else None
    ours = ratios.get("ours")
    why = ""
    if ours is not None and ours < 0.7:
        why = _why_hot_receiver_is_slow(report, hot, ratios.get("floor"))
    return {"ratios": ratios, "why": why}


def _why_hot_receiver_is_slow(
    report: RunReport, hot: ScenarioResult, floor_ratio: float | None
) -> str:
    if report.meta.get("vendor") == "sqlite":
        return (
            "SQLite runs one write transaction at a time (BEGIN IMMEDIATE), so payments into "
            "one wallet and transfers between distinct pairs queue on the same database lock; "
            "the difference is the payment's own cost (purchase checks, more statements)."
        )
    result = hot.results.get("ours")
    speed = hot.ops_per_second("ours")
    held = f"{1000 / speed:.2f} ms" if speed else "—"
    alone = fmt(result.sample_ms if result else None, 2, " ms")
    statements = result.statements if result else None
    if statements is not None and statements <= 1:
        how = (
            "ours takes that lock inside one statement that commits by itself, so no Python "
            "and no further round trip runs while it is held"
        )
    else:
        how = f"ours holds it across {fmt(statements, 0)} statements, COMMIT included"
    versus_floor = hot.ratio("ours", "floor")
    return (
        "every payment updates the merchant's wallet row, and PostgreSQL keeps a row it "
        "updated locked until the transaction has committed (its WAL flush included), so "
        f"payments into one merchant run one at a time: at {fmt(speed)}/s each holds the "
        f"lock for about {held}, against {alone} for a payment run alone; {how}. "
        f"{_where_payments_wait(report, hot)}"
        "The plain-SQL floor queues on its merchant row the same way: its hot receiver "
        f"reaches {fmt(floor_ratio and floor_ratio * 100, 0, '%')} of its own distinct "
        f"pairs, and ours runs at {fmt(versus_floor and versus_floor * 100, 0, '%')} of "
        "the floor here. What is left is the lock passing from one committing payment to "
        "the next; only crediting the merchant outside the payer's transaction (a "
        "deferred, batched credit, during which the merchant's stored balance would lag "
        "its ledger) would lift it."
    )


def _where_payments_wait(report: RunReport, hot: ScenarioResult) -> str:
    """The sampled activity of ours' connections (``bench.waits``), hot
    receiver against distinct pairs, as a sentence; empty when not sampled."""
    result = hot.results.get("ours")
    if result is None or not result.waits:
        return ""
    share = {kind: fmt(part * 100, 0, "%") for kind, part in result.waits.items()}
    pairs = report.scenario("transfer_p8")
    pairs_waits = pairs.results["ours"].waits if pairs and "ours" in pairs.results else None
    contrast = (
        f" (between distinct pairs: {fmt(pairs_waits[ROW_LOCK] * 100, 0, '%')})"
        if pairs_waits
        else ""
    )
    return (
        "Sampled in one more round, ours' connections spent "
        f"{share[ROW_LOCK]} of their time waiting for a row lock{contrast}, "
        f"{share[WAL]} writing or flushing the WAL, {share[RUNNING]} running "
        f"and {share[CLIENT]} idle while Python made the next payment. "
    )


# What a bulk item writes: ours, its ledger legs (and the transfer joining
# them); the floor, its ledger rows alone.
_BULK_ROWS = {
    "bulk_deposit": ("its row", "one row"),
    "bulk_transfer": ("its three rows (two legs and the transfer)", "two rows"),
}


def _where_a_batch_goes(scenario: ScenarioResult) -> str:
    """A bulk batch's time, run alone, split into this process's CPU, COMMIT
    and the rest: the run's own figures, ours beside the floor's."""
    ours, floor = scenario.results.get("ours"), scenario.results.get("floor")
    if ours is None or ours.sample_ms is None:
        return ""
    rows, floor_rows = _BULK_ROWS.get(scenario.name, ("its rows", "its rows"))
    text = (
        f"run alone, a batch of ours takes {fmt(ours.sample_ms, 1, ' ms')}: "
        f"{fmt(ours.sample_cpu_ms, 1, ' ms')} of Python, checking each item and building "
        f"{rows}, which the call returns and its signals carry; "
        f"{fmt(ours.sample_commit_ms, 1, ' ms')} in COMMIT, where PostgreSQL checks every "
        "new row's foreign keys one row at a time; and the rest waiting on the server as it "
        "takes in the rows and their index entries"
    )
    if floor is not None and floor.sample_ms is not None:
        text += (
            f". The floor's batch, {floor_rows} of three columns an item, takes "
            f"{fmt(floor.sample_ms, 1, ' ms')}, {fmt(floor.sample_commit_ms, 1, ' ms')} "
            "of it in COMMIT"
        )
    return text + "."


def goals(report: RunReport) -> list[Goal]:
    """The goals, judged on the run's figures; those set for PostgreSQL are
    only shown on another database."""
    found = _goals(report)
    if report.meta.get("vendor", "postgresql") != "postgresql":
        for goal in found:
            if goal.postgres_only:
                goal.met, goal.elsewhere = None, "PostgreSQL"
    return found


def _goals(report: RunReport) -> list[Goal]:
    found: list[Goal] = []
    transfer = report.scenario("transfer_seq")
    ratio = transfer.ratio("ours", "floor") if transfer else None
    found.append(
        Goal(
            "sequential transfers ≥ 50% of the floor",
            None if ratio is None else ratio >= 0.5,
            fmt(ratio, 3),
            postgres_only=True,
        )
    )
    ratios = {}
    for name in PEER_GOAL_SCENARIOS:
        scenario = report.scenario(name)
        if scenario is not None and scenario.ratio("ours", "peer") is not None:
            ratios[name] = scenario.ratio("ours", "peer")
    below = [f"{n} {r:.2f}x" for n, r in ratios.items() if r < 3]
    found.append(
        Goal(
            "every engine scenario ≥ 3x dj-wallet",
            None if not ratios else not below,
            f"min {min(ratios.values()):.2f}x" + (f"; below: {', '.join(below)}" if below else "")
            if ratios
            else "—",
            postgres_only=True,
        )
    )
    for name, limit in (("transfer_seq", 6), ("deposit_seq", 4)):
        scenario = report.scenario(name)
        result = scenario.results.get("ours") if scenario else None
        count = result.statements if result else None
        found.append(
            Goal(
                f"{scenario.title if scenario else name}: ≤ {limit} statements",
                None if count is None else count <= limit,
                fmt(count, 1),
                postgres_only=True,
            )
        )
    for name, floor in (("bulk_deposit", 20_000), ("bulk_transfer", 10_000)):
        scenario = report.scenario(name)
        speed = scenario.ops_per_second("ours") if scenario else None
        met = None if speed is None else speed >= floor
        found.append(
            Goal(
                f"{name.replace('_', ' ')}s ≥ {floor:,}/s",
                met,
                fmt(speed, 0, "/s"),
                postgres_only=True,
                why=_where_a_batch_goes(scenario) if scenario and met is False else "",
            )
        )
    hot = hot_receiver(report)
    ours_hot = hot["ratios"].get("ours") if hot else None
    found.append(
        Goal(
            "hot receiver ≥ 70% of distinct pairs at P=8",
            None if ours_hot is None else ours_hot >= 0.7,
            fmt(ours_hot and ours_hot * 100, 0, "%"),
        )
    )
    history = report.history
    if history is not None and len(history.sizes) == 2:
        small, large = history.sizes
        for page, title in (("page", "wallet page"), ("dashboard", "staff dashboard")):
            ratio = history.ratio(page)
            db_ms = getattr(large, page).db_ms
            found.append(
                Goal(
                    f"{title} at {large.rows:,} rows < 50 ms and ≤ 2x its time at {small.rows:,}",
                    None if db_ms is None or ratio is None else (db_ms < 50 and ratio <= 2),
                    f"{fmt(db_ms, 1, ' ms')}, {fmt(ratio, 2, 'x')}",
                )
            )
        ratio = history.ratio("export", "wall_ms")
        found.append(
            Goal(
                f"export's first rows at {large.rows:,} rows ≤ 2x their time at {small.rows:,}",
                None if ratio is None else ratio <= 2,
                f"{fmt(large.export.wall_ms, 1, ' ms')}, {fmt(ratio, 2, 'x')}",
            )
        )
        slowest = max((s.last50_ms for s in history.sizes if s.last50_ms is not None), default=None)
        found.append(
            Goal(
                "last 50 transactions < 2 ms at both sizes",
                None if slowest is None else slowest < 2,
                fmt(slowest, 2, " ms"),
            )
        )
    if history is not None and history.ledger_sum and history.ledger_sum.vendor == "sqlite":
        ms = history.ledger_sum.engine_ms
        found.append(
            Goal(
                f"exact sum of {history.ledger_sum.rows:,} rows on SQLite < 10 ms",
                ms < 10,
                fmt(ms, 1, " ms"),
            )
        )
    return found
