"""The printed table and the JSON document: the same figures, two shapes."""

from __future__ import annotations

from typing import Any

from bench.goals import ORDER, fmt, goals, hot_receiver
from bench.history import HistoryResult
from bench.invariants import Check
from bench.pages import EXPORT_ROWS
from bench.runner import RunReport
from bench.waits import INTERVAL, KINDS

STATEMENT_NOTE = (
    "Statements per operation (ours and dj-wallet through Django): counted with "
    "connection.execute_wrapper, BEGIN and COMMIT included. On PostgreSQL psycopg opens "
    "the transaction itself, so a BEGIN is counted when a statement runs with autocommit "
    "off and no transaction open; COMMIT/ROLLBACK are counted by wrapping the backend's "
    "_commit/_rollback. On SQLite Django sends BEGIN IMMEDIATE as SQL. Bulk rows: per batch. "
    "The floor counts its own: a transfer is 7 (BEGIN, lock, 2 UPDATE, 2 INSERT, COMMIT)."
)


# Printing


def _table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for number, row in enumerate(rows):
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def _scenario_rows(report: RunReport) -> list[list[str]]:
    rows = [
        [
            "scenario",
            "",
            "contender",
            "ops/s",
            "p50 ms",
            "p95 ms",
            "stmts/op",
            "ours/peer",
            "ours/floor",
        ]
    ]
    for scenario in report.scenarios:
        first = True
        for name in ORDER:
            result = scenario.results.get(name)
            if result is None:
                continue
            summary = result.summary
            unit = " (batch)" if scenario.latency_unit == "batch" else ""
            if result.status != "ok":
                figures = [result.status, "", "", "", "", ""]
            else:
                figures = [
                    fmt(summary.ops_per_second if summary else None),
                    fmt(summary.p50_ms if summary else None, 2) + unit,
                    fmt(summary.p95_ms if summary else None, 2) + unit,
                    fmt(result.statements, 1),
                    fmt(scenario.ratio("ours", "peer"), 2, "x") if name == "ours" else "",
                    fmt(scenario.ratio("ours", "floor"), 2) if name == "ours" else "",
                ]
            rows.append(
                [
                    scenario.title if first else "",
                    scenario.note if first else "",
                    result.label,
                    *figures,
                ]
            )
            first = False
    return rows


def render(report: RunReport) -> str:
    meta = report.meta
    lines = [
        f"Wallet engine benchmark — {meta['database']} — {meta['mode']} run, "
        f"{meta['rounds']} interleaved round(s) per scenario",
        f"Python {meta['python']}, Django {meta['django']}, dj-wallet {meta['peer_version']}, "
        f"{meta['cpus']} CPU(s), started {meta['started']}",
        "",
    ]
    lines += _table(_scenario_rows(report), right={3, 4, 5, 6, 7, 8})
    lines += [
        "",
        "ops/s: medians over the rounds (bulk: items/s); p50/p95: per operation "
        "(per batch for bulk), all rounds together; ours/peer and ours/floor: medians of "
        "the per-round ratios (each round runs the contenders back to back).",
        STATEMENT_NOTE,
    ]
    for scenario in report.scenarios:
        for name, result in scenario.results.items():
            if result.status != "ok" and result.message:
                lines.append(f"  {scenario.name} / {name}: {result.status}: {result.message}")

    lines += ["", "Invariants (after each scenario)"]
    for scenario in report.scenarios:
        lines += _check_lines(scenario.title, scenario.checks)
    if report.history is not None:
        lines += _check_lines("history", report.history.checks)
    if report.extra_checks:
        lines += _check_lines("end of run", report.extra_checks)

    hot = hot_receiver(report)
    if hot is not None:
        ratios = ", ".join(
            f"{name} {fmt(r and r * 100, 0, '%')}" for name, r in hot["ratios"].items()
        )
        lines += [
            "",
            "Hot receiver: payments P=8 into one merchant ÷ transfers P=8 between "
            f"distinct pairs: {ratios}",
        ]
        if hot["why"]:
            lines.append(f"  Why ours is below 70%: {hot['why']}")

    lines += _wait_lines(report)

    if report.history is not None:
        lines += ["", *_history_lines(report.history)]

    lines += ["", "Speed goals (informational; the benchmark fails only on invariants)"]
    if meta["mode"] == "quick":
        lines.append("  (quick mode: small counts, the figures are not comparable to the goals)")
    for goal in goals(report):
        mark = {True: "met", False: "NOT MET", None: "n/a"}[goal.met]
        figure = (
            f"{goal.figure} (a goal on {goal.elsewhere} only)" if goal.elsewhere else goal.figure
        )
        lines.append(f"  {mark:<8} {goal.text}: {figure}")
        if goal.why:
            lines.append(f"           Why: {goal.why}")
    lines += ["", *meta.get("notes", [])]
    failures = report.failures
    lines += [
        "",
        f"Invariants: {len(report.checks) - len(failures)} PASS, {len(failures)} FAIL",
        f"Elapsed: {report.elapsed_seconds:.1f} s",
    ]
    return "\n".join(lines)


def _wait_lines(report: RunReport) -> list[str]:
    """Where each contender's connections spent one more round of every
    concurrent scenario (PostgreSQL: ``bench.waits``)."""
    rows = [["scenario", "contender", *KINDS]]
    for scenario in report.scenarios:
        title = scenario.title
        for name in ORDER:
            result = scenario.results.get(name)
            if result is not None and result.waits:
                shares = [fmt(result.waits[kind] * 100, 0, "%") for kind in KINDS]
                rows.append([title, result.label, *shares])
                title = ""
    if len(rows) == 1:
        return []
    return [
        "",
        f"Where the connections' time went: pg_stat_activity every {INTERVAL * 1000:.0f} ms, "
        "in one more round of each concurrent scenario. Waiting for a row lock; writing or "
        "flushing the WAL; running; other waits; idle, with the client (Python) to act next.",
        *_table(rows, set(range(2, 2 + len(KINDS)))),
    ]


def _check_lines(title: str, checks: list[Check]) -> list[str]:
    lines = []
    by_contender: dict[str, list[Check]] = {}
    for check in checks:
        by_contender.setdefault(check.contender, []).append(check)
    for contender, found in by_contender.items():
        verdicts = "; ".join(
            f"{c.name} {'PASS' if c.passed else 'FAIL'}"
            + ("" if c.passed or not c.detail else f" ({c.detail})")
            for c in found
        )
        lines.append(f"  {title:<34} {contender:<6} {verdicts}")
    return lines


def _x(ratio: float | None) -> str:
    return fmt(ratio, 2, "x")


def _history_lines(history: HistoryResult) -> list[str]:
    sizes = history.sizes
    rows = [["history of one wallet (ours)", *[f"{s.rows:,} rows" for s in sizes], "ratio"]]

    def last50_ratio(attr: str) -> str:
        if len(sizes) < 2:
            return ""
        a, b = getattr(sizes[0], attr), getattr(sizes[-1], attr)
        return _x(b / a if a and b is not None else None)

    ratio = history.ratio
    for page, title in (
        ("page", "wallet page"),
        ("dashboard", "staff dashboard"),
        ("export", f"export, first {EXPORT_ROWS} rows"),
    ):
        figures = [getattr(s, page) for s in sizes]
        rows += [
            [f"{title}: database (ms)", *[fmt(f.db_ms, 2) for f in figures], _x(ratio(page))],
            [f"{title}: queries", *[fmt(f.queries, 0) for f in figures], ""],
            [f"{title}: slowest query (ms)", *[fmt(f.slowest_ms, 2) for f in figures], ""],
            [
                f"{title}: wall time (ms)",
                *[fmt(f.wall_ms, 1) for f in figures],
                _x(ratio(page, "wall_ms")),
            ],
        ]
    rows.append(
        [
            "last 50 transactions (ms)",
            *[fmt(s.last50_ms, 3) for s in sizes],
            last50_ratio("last50_ms"),
        ]
    )
    rows.append(
        [
            "last 50 transactions: database (ms)",
            *[fmt(s.last50_db_ms, 3) for s in sizes],
            last50_ratio("last50_db_ms"),
        ]
    )
    rows.append(["writing the history (s)", *[fmt(s.build_seconds, 1) for s in sizes], ""])
    lines = _table(rows, right=set(range(1, len(sizes) + 2)))
    lines.append(
        "Pages through django.test.Client: GET /wallets/<uuid>/ as the holder, and the "
        "admin's wallet dashboard as staff; the export: the wallet page's view called "
        f"with ?_export=csv as the holder, read up to its first {EXPORT_ROWS} rows. Database "
        "time: query durations summed with connection.execute_wrapper; medians."
    )
    if history.ledger_sum is not None:
        s = history.ledger_sum
        lines.append(
            f"Exact ledger sum of a {s.rows:,}-row wallet ({s.vendor}): "
            f"wallets.selectors.sum_amounts {s.engine_ms:.1f} ms; the floor's SQL SUM over "
            f"{s.rows:,} rows of its own {s.floor_ms:.1f} ms"
        )
    return lines


def as_json(report: RunReport) -> dict[str, Any]:
    return {
        "meta": report.meta,
        "scenarios": [s.as_dict() for s in report.scenarios],
        "hot_receiver": hot_receiver(report),
        "history": report.history.as_dict() if report.history else None,
        "end_of_run_invariants": [c.as_dict() for c in report.extra_checks],
        "goals": [g.as_dict() for g in goals(report)],
        "invariants": {
            "passed": len(report.checks) - len(report.failures),
            "failed": len(report.failures),
        },
        "elapsed_seconds": round(report.elapsed_seconds, 1),
    }
